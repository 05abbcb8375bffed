"""Serving exported models over HTTP with Ray Serve: ``bilstm-crf-ner serve ir/``.

``pip install "bilstm_crf_ner[serve]"`` (the runtime and ``ray[serve]``; no TensorFlow).

    bilstm-crf-ner serve ir/ --port 8000 --replicas 2
    serve run bilstm_crf_ner.serve:app model=ir/ replicas=2      # Ray's own CLI, same application
    curl -s localhost:8000/v1/entities -H 'content-type: application/json' -d '{"texts": ["国家主席江泽民发表新年讲话。"]}'

From Python, to compose with other applications::

    from ray import serve
    from bilstm_crf_ner.serve import app
    serve.run(app({"model": "ir/", "replicas": 2}), route_prefix="/ner")

Validation (:mod:`.schema`), settings (:mod:`.config`) and the batch glue (:mod:`.batching`) do
not import Ray; :mod:`.deployment` does, and is imported only when an application is built.
"""

from __future__ import annotations

import importlib.util

from ..core.errors import BilstmCrfNerError
from .config import Limits, ServeConfig, ServeConfigError
from .schema import RequestError

#: What to install when Ray is missing (printed by the CLI as one line).
INSTALL_HINT = 'this needs Ray Serve, which is not installed: pip install "bilstm_crf_ner[serve]"'


class ServeDependencyError(BilstmCrfNerError, ModuleNotFoundError):
    """Ray (Serve or Data) is not installed."""


def require_ray(what: str = "serve") -> None:
    """Raise :class:`ServeDependencyError` with the install line unless Ray (and Serve) can be imported."""
    needed = ("ray", "ray.serve", "starlette") if what == "serve" else ("ray", "ray.data", "pyarrow")
    for name in needed:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            raise ServeDependencyError(INSTALL_HINT if what == "serve" else INSTALL_HINT.replace("Ray Serve", "Ray Data"),
                                       name=name)


def build_app(config: ServeConfig):
    """The Ray Serve application for ``config`` (see :mod:`.deployment`)."""
    require_ray("serve")
    from .deployment import build_app as build

    return build(config)


def app(args: dict):
    """Application builder for ``serve run bilstm_crf_ner.serve:app model=ir/ replicas=2`` and for
    composing with other Ray Serve applications; ``args`` are :class:`ServeConfig` fields
    (``max_texts``, ``max_chars`` and ``max_body_bytes`` set the :class:`Limits`)."""
    return build_app(ServeConfig.from_dict(args))


__all__ = ["INSTALL_HINT", "Limits", "RequestError", "ServeConfig", "ServeConfigError", "ServeDependencyError", "app",
           "build_app", "require_ray"]

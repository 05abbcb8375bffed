"""The Ray Serve deployment: HTTP routing, validation, dynamic batching and metrics over one Tagger.

Imports Ray (``pip install "bilstm_crf_ner[serve]"``); no TensorFlow. Build an application
with :func:`build_app` (or :func:`bilstm_crf_ner.serve.app` from ``serve run``)::

    from ray import serve
    from bilstm_crf_ner.serve import ServeConfig, build_app
    serve.run(build_app(ServeConfig(model="ir/", replicas=2)), route_prefix="/")

Routes: ``POST /v1/entities``, ``POST /v1/tags``, ``GET /v1/model``, ``GET /v2/health/live``,
``GET /v2/health/ready`` and ``GET /-/healthz`` (answered by Ray Serve's proxy itself).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time

from ray import serve
from ray.serve import metrics
from ray.serve.exceptions import RayServeException
from starlette.requests import Request
from starlette.responses import Response

from .batching import tag_texts, tag_token_lists
from .config import DEFAULT_BATCH_WAIT_S, DEFAULT_MAX_BATCH_SIZE, ServeConfig
from .schema import RequestError, entities_response, error_body, model_description, parse_entities_request, \
    parse_tags_request, tags_response

logger = logging.getLogger(__name__)

#: Name of the Ray Serve deployment (and the default application name of the CLI).
DEPLOYMENT_NAME = "bilstm_crf_ner"

_BATCH_BOUNDARIES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
_LATENCY_BOUNDARIES_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]


class _NoMetric:
    """Stands in for a Ray Serve metric outside a replica (the class used directly, in tests)."""

    def __init__(self, *args, **kwargs):
        pass

    def inc(self, *args, **kwargs):
        pass

    def observe(self, *args, **kwargs):
        pass


def _in_replica() -> bool:
    try:
        serve.get_replica_context()
    except RayServeException:
        return False
    return True


def _json(data, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status_code=status, media_type="application/json")


class NERServer:
    """One replica: a :class:`~bilstm_crf_ner.runtime.Tagger` behind HTTP routes.

    Each text of a request is queued on its own in ``@serve.batch``; a batch (up to
    ``max_batch_size`` texts, waiting at most ``batch_wait_timeout_s``) is tagged by a single
    ``Tagger.predict_entities`` call in a worker thread, so the event loop keeps answering health
    checks and refusing bad requests meanwhile.
    """

    def __init__(self, config: ServeConfig):
        from ..runtime import Tagger

        self.config = config
        self.tagger = Tagger.load(config.model, backend=config.backend, precision=config.precision,
                                  num_threads=config.inference_threads, throughput_mode=config.throughput_mode,
                                  static_shapes=config.static_shapes, streams=config.streams)
        self._entities_batch.set_max_batch_size(config.max_batch_size)
        self._entities_batch.set_batch_wait_timeout_s(config.batch_wait_timeout_s)
        self._tags_batch.set_max_batch_size(config.max_batch_size)
        self._tags_batch.set_batch_wait_timeout_s(config.batch_wait_timeout_s)
        self._description = model_description(self.tagger, config)
        self._model_calls = self._texts_tagged = 0
        self._model_seconds = 0.0
        inside = _in_replica()  # Ray Serve metrics exist only inside a replica; elsewhere (tests) no-ops
        counter = metrics.Counter if inside else _NoMetric
        histogram = metrics.Histogram if inside else _NoMetric
        self._texts = counter("bilstm_crf_ner_texts", description="texts (or token lists) tagged", tag_keys=("route",))
        self._errors = counter("bilstm_crf_ner_request_errors", description="requests refused or failed",
                               tag_keys=("route", "code"))
        self._batch_size = histogram("bilstm_crf_ner_batch_size", description="texts per model call (dynamic batch)",
                                     boundaries=_BATCH_BOUNDARIES, tag_keys=("route",))
        self._model_ms = histogram("bilstm_crf_ner_model_latency_ms", description="time of one batched model call",
                                   boundaries=_LATENCY_BOUNDARIES_MS, tag_keys=("route",))
        self._request_ms = histogram("bilstm_crf_ner_request_latency_ms",
                                     description="time from request to answer, inside the replica",
                                     boundaries=_LATENCY_BOUNDARIES_MS, tag_keys=("route",))
        logger.info("bilstm_crf_ner replica ready: %r, %d inference thread(s)", self.tagger, config.inference_threads)

    def diagnostics(self) -> dict:
        """Process facts for operators and tests (through a deployment handle, not HTTP): pid,
        inference threads, and whether TensorFlow or Keras got imported (they never should)."""
        import sys

        return {"pid": os.getpid(), "inference_threads": self.config.inference_threads,
                "model_calls": self._model_calls, "texts_tagged": self._texts_tagged,
                "model_seconds": self._model_seconds,
                "tensorflow_imported": any(m.split(".")[0] in ("tensorflow", "keras") for m in sys.modules)}

    async def _run_batch(self, route: str, function, items):
        started = time.perf_counter()
        results = await asyncio.to_thread(function, self.tagger, items, self.config.predict_batch_size)
        seconds = time.perf_counter() - started
        self._model_calls += 1
        self._texts_tagged += len(items)
        self._model_seconds += seconds
        self._model_ms.observe(seconds * 1000, tags={"route": route})
        self._batch_size.observe(len(items), tags={"route": route})
        return results

    @serve.batch(max_batch_size=DEFAULT_MAX_BATCH_SIZE, batch_wait_timeout_s=DEFAULT_BATCH_WAIT_S)
    async def _entities_batch(self, texts: list[str]) -> list:
        return await self._run_batch("entities", tag_texts, texts)

    @serve.batch(max_batch_size=DEFAULT_MAX_BATCH_SIZE, batch_wait_timeout_s=DEFAULT_BATCH_WAIT_S)
    async def _tags_batch(self, items: list[tuple]) -> list:
        return await self._run_batch("tags", tag_token_lists, items)

    async def entities(self, texts: list[str]) -> list:
        """Entities of each text (the batched path); what ``POST /v1/entities`` runs after validation."""
        return list(await asyncio.gather(*(self._entities_batch(text) for text in texts)))

    async def tags(self, sentences: list[list[str]], tag_scheme: str | None = None) -> list:
        """Tags of each token list (the batched path); what ``POST /v1/tags`` runs after validation."""
        return list(await asyncio.gather(*(self._tags_batch((tokens, tag_scheme)) for tokens in sentences)))

    async def __call__(self, request: Request) -> Response:
        path = request.url.path
        root = request.scope.get("root_path") or ""
        if root and path.startswith(root):
            path = path[len(root):] or "/"
        path = "/" + path.strip("/")
        started = time.perf_counter()
        route = {"/v1/entities": "entities", "/v1/tags": "tags"}.get(path, "other")
        try:
            response = await self._route(request, path)
        except RequestError as exc:
            self._errors.inc(tags={"route": route, "code": exc.code})
            return _json(exc.body(), exc.status)
        except Exception as exc:  # never a crashed replica: a JSON 500 that names the failure
            logger.exception("bilstm_crf_ner: request to %s failed", path)
            self._errors.inc(tags={"route": route, "code": "internal_error"})
            return _json(error_body("internal_error", f"{type(exc).__name__}: {exc}"), 500)
        if route != "other":
            self._request_ms.observe((time.perf_counter() - started) * 1000, tags={"route": route})
        return response

    async def _route(self, request: Request, path: str) -> Response:
        method = request.method
        routes = {
            "/v1/entities": "POST", "/v1/tags": "POST", "/v1/model": "GET", "/v2/health/live": "GET",
            "/v2/health/ready": "GET", "/-/healthz": "GET",
        }
        if path not in routes:
            raise RequestError(404, "not_found", f"no route {path}; routes: {', '.join(sorted(routes))}")
        if method != routes[path] and not (method == "HEAD" and routes[path] == "GET"):
            raise RequestError(405, "method_not_allowed", f"{path} takes {routes[path]}, not {method}")
        if path == "/v1/model":
            return _json(self._description)
        if path == "/v2/health/live":
            return _json({"live": True})
        if path == "/v2/health/ready":
            return _json({"ready": True})
        if path == "/-/healthz":
            return _json({"status": "ok"})
        body = await self._body(request)
        if path == "/v1/entities":
            texts = parse_entities_request(body, self.config.limits)
            results = await self.entities(texts)
            if texts:  # Ray's counters refuse an increment of 0
                self._texts.inc(len(texts), tags={"route": "entities"})
            return _json(entities_response(results))
        sentences, scheme = parse_tags_request(body, self.config.limits)
        results = await self.tags(sentences, scheme)
        if sentences:
            self._texts.inc(len(sentences), tags={"route": "tags"})
        return _json(tags_response(results))

    async def _body(self, request: Request) -> bytes:
        limit = self.config.limits.max_body_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise RequestError(413, "body_too_large", f"the request body has {declared} bytes; the limit is {limit}")
        return await request.body()


def build_app(config: ServeConfig):
    """The Ray Serve application of ``config``: ``config.replicas`` replicas of :class:`NERServer`,
    each reserving ``config.cpus_per_replica`` CPUs."""
    deployment = serve.deployment(NERServer, name=DEPLOYMENT_NAME)
    return deployment.options(
        num_replicas=int(config.replicas),
        max_ongoing_requests=int(config.max_ongoing_requests),
        ray_actor_options={"num_cpus": float(config.cpus_per_replica)},
        logging_config={"enable_access_log": bool(config.access_log)},
        health_check_period_s=10,
    ).bind(config)

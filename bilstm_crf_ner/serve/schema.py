"""Request validation and response bodies of the HTTP API: pure functions, no Ray.

Every request is checked here, before it reaches the batch queue, so a bad request gets its own
4xx answer and can never spoil a batch it would have shared with others.

>>> parse_entities_request('{"texts": ["张三说"]}'.encode(), Limits())
['张三说']
>>> parse_entities_request(b'{"texts": "Zhang San"}', Limits())
Traceback (most recent call last):
...
bilstm_crf_ner.serve.schema.RequestError: 422 wrong_type: "texts" must be a list of strings, got string
>>> parse_tags_request(b'{"tokens": [["John", "Smith"]], "tag_scheme": "BIO"}', Limits())
([['John', 'Smith']], 'BIO')
"""

from __future__ import annotations

import json

from ..core.errors import BilstmCrfNerError
from .config import Limits

#: Tag schemes ``POST /v1/tags`` can answer in.
TAG_SCHEMES = ("BIO", "BIOES", "IOB1", "BMES")

#: Keys of an export's metadata that ``GET /v1/model`` shows (no vocabularies, CRF weights or paths).
PUBLIC_METADATA = ("format", "format_version", "tag_scheme", "data_scheme", "graph", "parity", "speed_16x128",
                   "default_backend", "default_precision", "default_static_shapes", "default_streams", "precision_agreement",
                   "versions")
PUBLIC_TOKENIZER = ("type", "token_unit", "joiner", "lowercase", "sequence_length", "window_overlap",
                    "max_pieces_per_token", "vocab_size")


class RequestError(BilstmCrfNerError, ValueError):
    """A request the server refuses: ``status`` (4xx), a short ``code`` and a message naming the problem."""

    def __init__(self, status: int, code: str, message: str):
        self.status, self.code, self.message = status, code, message
        super().__init__(f"{status} {code}: {message}")

    def body(self) -> dict:
        return error_body(self.code, self.message)


def error_body(code: str, message: str) -> dict:
    """The JSON body of every error answer."""
    return {"error": {"code": code, "message": message}}


def _load_object(body: bytes, limits: Limits) -> dict:
    if len(body) > limits.max_body_bytes:
        raise RequestError(413, "body_too_large", f"the request body has {len(body)} bytes; the limit is "
                                                  f"{limits.max_body_bytes}")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise RequestError(400, "invalid_json", f"the request body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise RequestError(422, "wrong_type", f"the request body must be a JSON object, got {_json_type(data)}")
    return data


def _json_type(value) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number",
             type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _list_field(data: dict, name: str, limits: Limits) -> list:
    if name not in data:
        raise RequestError(422, "missing_field", f'the request needs a "{name}" field')
    items = data[name]
    if not isinstance(items, list):
        what = "strings" if name == "texts" else "token lists"
        raise RequestError(422, "wrong_type", f'"{name}" must be a list of {what}, got {_json_type(items)}')
    if len(items) > limits.max_texts:
        raise RequestError(413, "too_many_texts", f'"{name}" has {len(items)} items; the limit is {limits.max_texts} a request')
    return items


def parse_entities_request(body: bytes, limits: Limits) -> list[str]:
    """The texts of a ``POST /v1/entities`` body ``{"texts": [str, ...]}``; :class:`RequestError` otherwise."""
    data = _load_object(body, limits)
    texts = _list_field(data, "texts", limits)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise RequestError(422, "wrong_type", f'texts[{i}] must be a string, got {_json_type(text)}')
        if len(text) > limits.max_chars:
            raise RequestError(413, "text_too_long", f"texts[{i}] has {len(text)} characters; the limit is "
                                                     f"{limits.max_chars} a text")
    return texts


def parse_tags_request(body: bytes, limits: Limits) -> tuple[list[list[str]], str | None]:
    """``(token lists, tag_scheme or None)`` of a ``POST /v1/tags`` body
    ``{"tokens": [[str, ...], ...], "tag_scheme": "BIO"}``; :class:`RequestError` otherwise."""
    data = _load_object(body, limits)
    sentences = _list_field(data, "tokens", limits)
    for i, tokens in enumerate(sentences):
        if not isinstance(tokens, list):
            raise RequestError(422, "wrong_type", f"tokens[{i}] must be a list of token strings, got {_json_type(tokens)}")
        if len(tokens) > limits.max_chars:
            raise RequestError(413, "text_too_long", f"tokens[{i}] has {len(tokens)} tokens; the limit is "
                                                     f"{limits.max_chars} a sentence")
        for j, token in enumerate(tokens):
            if not isinstance(token, str):
                raise RequestError(422, "wrong_type", f"tokens[{i}][{j}] must be a string, got {_json_type(token)}")
            if not token or token.isspace():
                raise RequestError(422, "invalid_token", f"tokens[{i}][{j}] is empty or whitespace")
    scheme = data.get("tag_scheme")
    if scheme is not None:
        if not isinstance(scheme, str) or scheme.upper() not in TAG_SCHEMES:
            raise RequestError(422, "invalid_tag_scheme", f"tag_scheme must be one of {', '.join(TAG_SCHEMES)}, "
                                                          f"got {scheme!r}")
        scheme = scheme.upper()
    return sentences, scheme


def entities_response(entity_lists) -> dict:
    """``{"results": [{"entities": [{type, start, end, text, confidence}, ...]}, ...]}``."""
    return {"results": [{"entities": [e.to_dict() for e in entities]} for entities in entity_lists]}


def tags_response(tag_lists) -> dict:
    """``{"results": [{"tags": [...]}, ...]}``."""
    return {"results": [{"tags": list(tags)} for tags in tag_lists]}


def model_description(tagger, config) -> dict:
    """What ``GET /v1/model`` shows: tags, schemes, engine, versions, limits and the export
    metadata that is safe to publish (no vocabularies, weights or file paths)."""
    from .. import __version__

    metadata = getattr(tagger, "metadata", None) or {}
    tokenizer = metadata.get("tokenizer") or {}
    backend = getattr(tagger, "backend", None)
    return {
        "tags": list(tagger.tags),
        "tag_scheme": tagger.tag_scheme,
        "data_scheme": tagger.data_scheme,
        "backend": getattr(backend, "name", None),
        "precision": getattr(backend, "precision", None),
        "static_shapes": bool(getattr(backend, "static_shapes", False)),
        "row_streams": int(getattr(backend, "streams", 1)),
        "inference_threads": config.inference_threads,
        "versions": {"server": __version__, **(metadata.get("versions") or {})},
        "export": {**{k: metadata[k] for k in PUBLIC_METADATA if k in metadata},
                   "tokenizer": {k: tokenizer[k] for k in PUBLIC_TOKENIZER if k in tokenizer},
                   "int8": bool(metadata.get("int8"))},
        "limits": {"max_texts": config.limits.max_texts, "max_chars": config.limits.max_chars,
                   "max_body_bytes": config.limits.max_body_bytes},
        "batching": {"max_batch_size": config.max_batch_size, "batch_wait_timeout_s": config.batch_wait_timeout_s},
    }

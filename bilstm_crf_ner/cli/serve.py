"""Serve an exported model over HTTP with Ray Serve (dynamic batching, replicas); no TensorFlow.

examples:
  bilstm-crf-ner serve ir/ --port 8000 --replicas 2
  bilstm-crf-ner serve ir/ --address auto --host 0.0.0.0 --replicas 4 --cpus-per-replica 2
  bilstm-crf-ner serve ir/ --address ray://head:10001 --detach
  curl -s localhost:8000/v1/entities -H 'content-type: application/json' \\
       -d '{"texts": ["国家主席江泽民发表新年讲话。"]}'

Routes: POST /v1/entities {"texts": [...]}, POST /v1/tags {"tokens": [[...]], "tag_scheme": "BIO"},
GET /v1/model, GET /-/healthz, GET /v2/health/live, GET /v2/health/ready (docs/serving.md).
Without --address a local Ray instance is started and stopped with the command; with one, the
model folder must exist at the same path on every node. Ctrl-C stops serving. Needs
pip install "bilstm_crf_ner[serve]".
"""

from __future__ import annotations

import argparse
import os
import sys
import time

NAME = "serve"
HELP = "serve an exported model over HTTP (Ray Serve): /v1/entities, /v1/tags, /v1/model, health"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..serve.config import DEFAULT_BATCH_WAIT_S, DEFAULT_MAX_BATCH_SIZE, Limits
    from .common import positive_int

    limits = Limits()
    parser.add_argument("model", help="an exported folder (model.export(...) / bilstm-crf-ner export)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: all interfaces)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--address", default=None,
                        help="Ray cluster to use: auto, or ray://head:10001 (default: start a local Ray instance)")
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--cpus-per-replica", type=float, default=None,
                        help="CPUs Ray reserves for each replica (default: this machine's cores / replicas "
                             "when local, 1 on a cluster)")
    parser.add_argument("--threads", type=int, default=None,
                        help="inference threads per replica (default: its CPU share, rounded down)")
    parser.add_argument("--max-batch-size", type=int, default=DEFAULT_MAX_BATCH_SIZE,
                        help="texts gathered into one model call (dynamic batching)")
    parser.add_argument("--batch-wait-ms", type=float, default=DEFAULT_BATCH_WAIT_S * 1000,
                        help="how long a batch waits for more texts")
    parser.add_argument("--no-batching", action="store_true", help="one model call per text (max batch size 1)")
    parser.add_argument("--max-texts", type=int, default=limits.max_texts, help="texts per request (more: 413)")
    parser.add_argument("--max-chars", type=int, default=limits.max_chars, help="characters per text (more: 413)")
    parser.add_argument("--no-access-log", action="store_true", help="no log line per request in the replica logs")
    parser.add_argument("--name", default="bilstm_crf_ner", help="Ray Serve application name")
    parser.add_argument("--route-prefix", default="/", help="URL prefix of the routes")
    parser.add_argument("--detach", action="store_true",
                        help="deploy and exit, leaving the application running on the cluster")
    parser.add_argument("--backend", choices=("openvino", "onnxruntime"), default=None,
                        help="default: the backend the export measured fastest")
    parser.add_argument("--precision", choices=("f32", "bf16", "int8"), default=None,
                        help="default: the one recorded at export")
    shapes = parser.add_mutually_exclusive_group()
    shapes.add_argument("--static-shapes", dest="static_shapes", action="store_const", const=True, default=None,
                        help="OpenVINO: compile per batch shape (default: as the export recorded)")
    shapes.add_argument("--dynamic-shapes", dest="static_shapes", action="store_const", const=False)
    parser.add_argument("--streams", type=positive_int, default=None,
                        help="OpenVINO: split each batch's rows across this many CPU streams (1: off; "
                             "default: as the export recorded, at most one per inference thread)")


def config_from_args(args):
    """The :class:`~bilstm_crf_ner.serve.ServeConfig` of parsed ``serve`` arguments."""
    from ..serve import Limits, ServeConfig

    cpus = args.cpus_per_replica
    if cpus is None:
        cpus = 1.0 if args.address else max(1.0, float((os.cpu_count() or 1) // max(1, args.replicas)))
    return ServeConfig(model=os.path.abspath(args.model), backend=args.backend, precision=args.precision,
                       static_shapes=args.static_shapes, streams=args.streams, replicas=args.replicas,
                       cpus_per_replica=cpus,
                       num_threads=args.threads, max_batch_size=1 if args.no_batching else args.max_batch_size,
                       batch_wait_timeout_s=0.0 if args.no_batching else args.batch_wait_ms / 1000,
                       access_log=not args.no_access_log, limits=Limits(max_texts=args.max_texts, max_chars=args.max_chars))


def _stop_on_signals() -> None:
    """Ctrl-C (SIGINT) and SIGTERM stop the server, whatever dispositions it inherited (a parent
    that ignores SIGINT passes that on to the processes it starts)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, stop)


def run(args) -> int:
    from ..core.errors import ModelLoadError
    from ..runtime.layout import METADATA_FILE
    from ..serve import build_app, require_ray

    require_ray("serve")
    if not args.address and not os.path.isfile(os.path.join(args.model, METADATA_FILE)):
        raise ModelLoadError(f"{args.model} is not an exported folder (no {METADATA_FILE})")
    config = config_from_args(args)
    from ..runtime.ray import init_ray

    local = not args.address
    init_ray(args.address, include_dashboard=False, logging_level="WARNING",
             **({"num_cpus": max(os.cpu_count() or 1, int(config.replicas * config.cpus_per_replica + 0.999))}
                if local else {}))
    import ray
    from ray import serve

    _stop_on_signals()
    try:
        serve.start(http_options={"host": args.host, "port": args.port})
        serve.run(build_app(config), name=args.name, route_prefix=args.route_prefix, blocking=False)
        prefix = args.route_prefix.rstrip("/")
        print(f"serving {args.model} on http://{args.host}:{args.port}{prefix}/v1/entities "
              f"({config.replicas} replica(s), {config.inference_threads} thread(s) each)", file=sys.stderr, flush=True)
        if args.detach:
            return 0
        while True:
            time.sleep(0.5)  # short sleeps: a stop signal is acted on within half a second
    except KeyboardInterrupt:
        print("stopping", file=sys.stderr)
        if not local:
            serve.delete(args.name)
        return 0
    finally:
        if local:
            serve.shutdown()
            ray.shutdown()

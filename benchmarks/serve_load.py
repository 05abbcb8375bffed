"""Benchmark: the Ray Serve server under load vs the in-process Tagger, and bulk ``tag`` vs one process.

For each exported model (``--export LABEL=DIR``, repeatable), on this machine, in one run:

- in-process ``Tagger``: MSRA test sentences batched (``predict_entities(texts, batch_size=64)``)
  and one at a time -> texts/s;
- ``serve`` (Ray Serve, local) with 1 and 2 replicas (each reserving cores/replicas CPUs and running
  as many inference threads), a load generator on 127.0.0.1 (httpx + asyncio, in this process) with
  1 / 8 / 64 concurrent clients sending requests of 1 and of 16 texts for ``--seconds`` each:
  throughput (texts/s), p50 / p95 / p99 latency, errors, lost requests, and where the replicas'
  time went (model calls, texts per call, share of wall time in the model);
- the same server with batching off (``max_batch_size=1``) at 64 one-text clients;
- bulk (``--bulk N``, first model only unless ``--bulk-all``): N MSRA training texts (repeated) in
  8 JSON-lines shards, ``tag_files`` (Ray Data, one actor per core) vs one process reading,
  tagging (``Tagger``, all cores) and writing the same records.

    python benchmarks/serve_load.py --export char=/tmp/msra-lex-ir --export bert=/tmp/bert-msra-ir \\
        --data-dir ../shared/data/msra --bulk 100000 --output benchmarks/results/serve_load.json

``--sweep`` adds a search over the batching settings (1 replica, the most clients, one-text
requests). ``--smoke`` runs every part on a tiny model, 1 replica, 1 and 8 clients, 1-second levels and a
2,000-text bulk job (a test of the script, not a measurement). Needs ``pip install ".[benchmarks]"``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _smoke as smoke  # noqa: E402


def machine() -> dict:
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = next((line.split(":", 1)[1].strip() for line in lscpu.splitlines() if line.startswith("Model name")), None)
    except OSError:
        model = None
    import importlib.metadata as md

    versions = {}
    for name in ("ray", "httpx", "openvino", "onnxruntime", "numpy"):
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            versions[name] = None
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(), "versions": versions,
            "loadavg": os.getloadavg()[0]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentiles(latencies) -> dict:
    if not latencies:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    values = np.percentile(np.asarray(latencies) * 1000, [50, 95, 99])
    return {"p50_ms": round(float(values[0]), 2), "p95_ms": round(float(values[1]), 2), "p99_ms": round(float(values[2]), 2)}


async def _load(url: str, texts: list[str], concurrency: int, per_request: int, seconds: float) -> dict:
    import httpx

    latencies, errors, sent, answered, texts_done = [], [], 0, 0, 0
    stop = time.perf_counter() + seconds
    counter = iter(range(10 ** 12))

    async def client_loop(client):
        nonlocal sent, answered, texts_done
        while time.perf_counter() < stop:
            start = next(counter) * per_request % len(texts)
            batch = (texts[start:] + texts[:start])[:per_request]
            sent += 1
            began = time.perf_counter()
            try:
                response = await client.post("/v1/entities", json={"texts": batch})
            except httpx.HTTPError as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            if response.status_code != 200 or len(response.json().get("results", ())) != len(batch):
                errors.append(f"{response.status_code}: {response.text[:200]}")
                continue
            latencies.append(time.perf_counter() - began)
            answered += 1
            texts_done += len(batch)

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        began = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return {"clients": concurrency, "texts_per_request": per_request, "seconds": round(elapsed, 2),
            "requests": sent, "answered": answered, "errors": len(errors), "lost": sent - answered - len(errors),
            "first_errors": errors[:3], "texts_per_s": round(texts_done / elapsed, 1),
            "requests_per_s": round(answered / elapsed, 1), **percentiles(latencies)}


def _diagnostics(handle, replicas: int) -> dict:
    """Latest diagnostics of each replica (calls go to any replica: ask until all answered)."""
    seen = {}
    for _ in range(40 * replicas):
        info = handle.diagnostics.remote().result()
        seen[info["pid"]] = info
        if len(seen) >= replicas:
            break
    return seen


def _totals(before: dict, after: dict) -> dict:
    calls = sum(a["model_calls"] - before.get(pid, {}).get("model_calls", 0) for pid, a in after.items())
    tagged = sum(a["texts_tagged"] - before.get(pid, {}).get("texts_tagged", 0) for pid, a in after.items())
    seconds = sum(a["model_seconds"] - before.get(pid, {}).get("model_seconds", 0.0) for pid, a in after.items())
    return {"model_calls": calls, "texts_per_model_call": round(tagged / calls, 2) if calls else None,
            "model_seconds": round(seconds, 2)}


def serve_levels(port: int, export: str, texts: list[str], replicas: int, levels, seconds: float,
                 batching: bool = True, **settings) -> list:
    from ray import serve

    from bilstm_crf_ner.serve import ServeConfig, build_app

    cores = os.cpu_count() or 1
    cpus = max(1.0, cores / replicas)
    if not batching:
        settings = {**settings, "max_batch_size": 1, "batch_wait_timeout_s": 0.0}
    config = ServeConfig(model=export, replicas=replicas, cpus_per_replica=cpus, **settings)
    serve.run(build_app(config), name="bench", route_prefix="/")
    handle = serve.get_app_handle("bench")
    url = f"http://127.0.0.1:{port}"
    out = []
    try:
        asyncio.run(_load(url, texts, 4, 4, min(2.0, seconds)))  # warm up every replica
        for clients, per_request in levels:
            before = _diagnostics(handle, replicas)
            result = asyncio.run(_load(url, texts, clients, per_request, seconds))
            totals = _totals(before, _diagnostics(handle, replicas))
            totals["model_share_of_replica_time"] = round(totals["model_seconds"] / (result["seconds"] * replicas), 3)
            result.update(totals, replicas=replicas, batching=batching, threads_per_replica=config.inference_threads,
                          access_log=config.access_log, predict_batch_size=config.predict_batch_size,
                          max_batch_size=config.max_batch_size, batch_wait_ms=config.batch_wait_timeout_s * 1000)
            print(json.dumps(result), flush=True)
            out.append(result)
    finally:
        serve.delete("bench")
    return out


def in_process(export: str, texts: list[str], one_at_a_time: int) -> dict:
    from bilstm_crf_ner.runtime import Tagger

    tagger = Tagger.load(export)
    tagger.predict_entities(texts[:64])
    best = float("inf")
    for _ in range(2):
        began = time.perf_counter()
        tagger.predict_entities(texts, batch_size=64)
        best = min(best, time.perf_counter() - began)
    single = texts[:one_at_a_time]
    began = time.perf_counter()
    for text in single:
        tagger.predict_entities([text])
    alone = time.perf_counter() - began
    return {"engine": repr(tagger), "texts": len(texts), "batched_texts_per_s": round(len(texts) / best, 1),
            "one_at_a_time_texts_per_s": round(len(single) / alone, 1)}


def bulk(export: str, train_texts: list[str], n: int, folder: Path) -> dict:
    from bilstm_crf_ner.runtime import Tagger
    from bilstm_crf_ner.runtime.ray import read_records, tag_files

    texts = [train_texts[i % len(train_texts)] for i in range(n)]
    shards = 8
    size = -(-n // shards)
    source = folder / "in"
    source.mkdir(parents=True, exist_ok=True)
    for k in range(shards):
        lines = [json.dumps({"id": k * size + i, "text": t}, ensure_ascii=False) for i, t in enumerate(texts[k * size:(k + 1) * size])]
        (source / f"part-{k:02d}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    cores = os.cpu_count() or 1
    began = time.perf_counter()
    summary = tag_files(export, str(source / "*.jsonl"), folder / "out", workers=cores, cpus_per_worker=1)
    ray_s = time.perf_counter() - began
    began = time.perf_counter()
    tagger = Tagger.load(export)
    records = 0
    with open(folder / "one-process.jsonl", "w", encoding="utf-8") as out:
        for path in sorted(source.glob("*.jsonl")):
            rows = list(read_records(str(path), "jsonl"))
            for start in range(0, len(rows), 4096):
                chunk = rows[start:start + 4096]
                for (line, rid, _), entities in zip(chunk, tagger.predict_entities([r[2] for r in chunk])):
                    out.write(json.dumps({"line": line, "id": rid, "entities": [e.to_dict() for e in entities]},
                                         ensure_ascii=False) + "\n")
                    records += 1
    one_s = time.perf_counter() - began
    assert summary.records == records == n, (summary.records, records, n)
    return {"texts": n, "shards": shards, "workers": cores, "tag_seconds": round(ray_s, 2),
            "tag_texts_per_s": round(n / ray_s, 1), "one_process_seconds": round(one_s, 2),
            "one_process_texts_per_s": round(n / one_s, 1),
            "note": "tag: Ray start-up excluded (one instance for the run), actor start-up and model loads included; "
                    "one process: model load, reading and writing included"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--export", action="append", default=[], help="LABEL=DIR of an exported model (repeatable)")
    parser.add_argument("--data-dir", default=os.environ.get("MSRA_DIR", "../shared/data/msra"))
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--texts-per-request", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each load level")
    parser.add_argument("--texts", type=int, default=2000, help="MSRA test sentences used as requests")
    parser.add_argument("--bulk", type=int, default=100_000, help="texts of the bulk comparison (0: skip)")
    parser.add_argument("--bulk-all", action="store_true", help="bulk comparison for every model, not the first only")
    parser.add_argument("--no-access-log", action="store_true", help="serve without Ray Serve's per-request log lines")
    parser.add_argument("--max-batch-size", type=int, default=None, help="server setting (default: the server's)")
    parser.add_argument("--batch-wait-ms", type=float, default=None, help="server setting (default: the server's)")
    parser.add_argument("--predict-batch-size", type=int, default=None,
                        help="server setting: texts per padded model batch inside one dynamic batch")
    parser.add_argument("--sweep", action="store_true",
                        help="also try max batch sizes 16/64/256 x waits 1/5/20 ms (1 replica, most clients, 1 text)")
    parser.add_argument("--output", default="benchmarks/results/serve_load.json")
    args = smoke.parse_args(parser, argv, replicas=[1], clients=[1, 8], texts_per_request=[1, 16], seconds=1.0,
                            texts=64, bulk=2000)
    if args.smoke and not args.export:
        args.export = [f"tiny={smoke.tiny_export(args.data_dir)}"]
    if not args.export:
        parser.error("--export LABEL=DIR is required (or --smoke)")
    exports = [item.split("=", 1) if "=" in item else (Path(item).name, item) for item in args.export]

    server = {"access_log": not args.no_access_log}
    for name, value in (("max_batch_size", args.max_batch_size), ("predict_batch_size", args.predict_batch_size),
                        ("batch_wait_timeout_s", None if args.batch_wait_ms is None else args.batch_wait_ms / 1000)):
        if value is not None:
            server[name] = value

    from bilstm_crf_ner.runtime.ray import init_ray

    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # a local Ray on 127.0.0.1 only (before import)
    import ray
    import ray.data
    from ray import serve

    from bilstm_crf_ner.corpus import msra_files, read_conll

    files = msra_files(args.data_dir)
    test_texts = ["".join(s) for s in read_conll(files["test"])[0]][:args.texts]
    results = {"machine": machine(), "smoke": args.smoke, "settings": {
        "replicas": args.replicas, "clients": args.clients, "texts_per_request": args.texts_per_request,
        "seconds_per_level": args.seconds, "request_texts": len(test_texts), "server": server}, "models": {}}
    init_ray(None, num_cpus=os.cpu_count(), include_dashboard=False, logging_level="ERROR",
             log_to_driver=False, object_store_memory=512 * 1024 * 1024)
    ray.data.DataContext.get_current().enable_progress_bars = False
    port = free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    try:
        for index, (label, export) in enumerate(exports):
            entry = {"export": export, "in_process": in_process(export, test_texts, min(300, len(test_texts)))}
            print(json.dumps({label: entry["in_process"]}), flush=True)
            levels = [(c, n) for n in args.texts_per_request for c in args.clients]
            entry["serve"] = []
            for replicas in args.replicas:
                entry["serve"] += serve_levels(port, export, test_texts, replicas, levels, args.seconds, **server)
                entry["serve"] += serve_levels(port, export, test_texts, replicas, [(max(args.clients), 1)], args.seconds,
                                               batching=False, **server)
            if args.sweep:
                entry["sweep"] = []
                for size in ((16, 64, 256) if not args.smoke else (4,)):
                    for wait in ((0.001, 0.005, 0.02) if not args.smoke else (0.005,)):
                        entry["sweep"] += serve_levels(port, export, test_texts, 1, [(max(args.clients), 1)],
                                                       args.seconds, **{**server, "max_batch_size": size,
                                                                        "batch_wait_timeout_s": wait})
            if args.bulk and (index == 0 or args.bulk_all):
                train_texts = ["".join(s) for s in read_conll(files["train"])[0]]
                with tempfile.TemporaryDirectory() as folder:
                    entry["bulk"] = bulk(export, train_texts, args.bulk, Path(folder))
                print(json.dumps({label: entry["bulk"]}), flush=True)
            results["models"][label] = entry
    finally:
        serve.shutdown()
        ray.shutdown()
    results["machine"]["loadavg_after"] = os.getloadavg()[0]
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

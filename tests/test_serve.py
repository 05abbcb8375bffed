"""The Ray Serve server: same answers as ``Tagger`` alone under concurrent mixed traffic, bad input
refused with JSON 4xx, health and metrics, no TensorFlow in the replicas, and the ``serve`` CLI.

One local Ray instance for the module (2 CPUs, a small object store), shut down at the end.
"""

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

import httpx  # noqa: E402  (the test extra brings Ray Serve and httpx: no skipping)
import ray.serve  # noqa: E402, F401

from bilstm_crf_ner.runtime.ray import init_ray  # noqa: E402

from conftest import ROOT, tensorflow_blocking_env  # noqa: E402

pytestmark = pytest.mark.slow

MAX_TEXTS, MAX_CHARS = 32, 400


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def models(msra, tmp_path_factory):
    """A small Chinese character model and an English word model, exported (f32)."""
    from bilstm_crf_ner import BareEmbedding, BLSTMCRFModel
    from english_ner import english_ner

    folder = tmp_path_factory.mktemp("serve-models")
    train_x, train_y = msra[0], msra[1]
    zh = BLSTMCRFModel(BareEmbedding(embedding_dim=48), lstm_units=48, learning_rate=5e-3, seed=3)
    zh.fit(train_x[:2500], train_y[:2500], epochs=3, batch_size=32, verbose=0)
    zh.export(folder / "zh", measure=False)
    ex, ey, _, _ = english_ner()
    en = BLSTMCRFModel(BareEmbedding(embedding_dim=32), lstm_units=32, learning_rate=1e-2, seed=3)
    en.fit(ex, ey, epochs=4, batch_size=32, verbose=0)
    en.export(folder / "en", measure=False)
    return {"zh": str(folder / "zh"), "en": str(folder / "en")}


def test_serve_command_serves_without_tensorflow(models, tmp_path):
    """``bilstm-crf-ner serve`` end to end, in a process tree where TensorFlow cannot be imported."""
    from bilstm_crf_ner.runtime import Tagger

    port = free_port()
    command = [sys.executable, "-m", "bilstm_crf_ner", "serve", models["zh"], "--port", str(port),
               "--cpus-per-replica", "1", "-q"]
    # Ray logs a lot to stderr: into a file, not a pipe nobody drains (a full pipe blocks the
    # server's next write, and with it its shutdown).
    log = tmp_path / "serve.log"
    with open(log, "w") as sink:
        process = subprocess.Popen(command, env=tensorflow_blocking_env(tmp_path), stdout=sink, stderr=subprocess.STDOUT,
                                   text=True, start_new_session=True)
    text = "国家主席江泽民发表新年讲话。"
    try:
        deadline, answer = time.time() + 150, None
        while time.time() < deadline and process.poll() is None:
            try:
                answer = httpx.post(f"http://127.0.0.1:{port}/v1/entities", json={"texts": [text]}, timeout=10)
                if answer.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        assert answer is not None and answer.status_code == 200, log.read_text()[-3000:]
        expected = [e.to_dict() for e in Tagger.load(models["zh"]).predict_entities([text])[0]]
        assert _same(answer.json()["results"][0]["entities"], expected)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 0, log.read_text()[-3000:]
    assert "stopping" in log.read_text()  # shut down on Ctrl-C, not killed


def test_serve_without_ray_prints_one_line(tmp_path):
    """Without the serve extra, ``serve`` and ``tag`` say what to install, in one line, status 2."""
    hook = tmp_path / "noray"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import sys\n"
        "class _NoRay:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'ray':\n"
        "            raise ModuleNotFoundError('No module named ' + repr(name), name=name)\n"
        "sys.meta_path.insert(0, _NoRay())\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(hook), str(ROOT)]))
    for args in (["serve", str(tmp_path)], ["tag", str(tmp_path), "x.jsonl", str(tmp_path / "out")]):
        result = subprocess.run([sys.executable, "-m", "bilstm_crf_ner", *args], env=env, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and 'pip install "bilstm_crf_ner[serve]"' in lines[0], result.stderr


# ------------------------------------------------------------------ one Ray instance for the rest


@pytest.fixture(scope="module")
def server(models):
    import ray
    from ray import serve

    from bilstm_crf_ner.serve import Limits, ServeConfig, build_app

    previous = os.environ.get("RAY_metrics_report_interval_ms")
    os.environ["RAY_metrics_report_interval_ms"] = "1000"  # metrics reach Prometheus within seconds
    metrics_port = free_port()
    init_ray(None, num_cpus=2, object_store_memory=200 * 1024 * 1024, include_dashboard=False, logging_level="ERROR",
             log_to_driver=False, _metrics_export_port=metrics_port)
    port = free_port()
    try:
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        limits = Limits(max_texts=MAX_TEXTS, max_chars=MAX_CHARS)
        for name in ("zh", "en"):
            config = ServeConfig(model=models[name], cpus_per_replica=0.5, max_batch_size=32, batch_wait_timeout_s=0.02,
                                 limits=limits)
            serve.run(build_app(config), name=name, route_prefix=f"/{name}")
        yield {"url": f"http://127.0.0.1:{port}", "metrics": f"http://127.0.0.1:{metrics_port}/metrics"}
    finally:
        serve.shutdown()
        ray.shutdown()
        if previous is None:
            os.environ.pop("RAY_metrics_report_interval_ms", None)
        else:
            os.environ["RAY_metrics_report_interval_ms"] = previous


def _same(got: list, expected: list) -> bool:
    if len(got) != len(expected):
        return False
    for g, e in zip(got, expected):
        if {k: g[k] for k in ("type", "start", "end", "text")} != {k: e[k] for k in ("type", "start", "end", "text")}:
            return False
        if abs(g["confidence"] - e["confidence"]) > 1e-6:
            return False
    return True


def _texts(msra, language):
    rng = random.Random(5)
    if language == "zh":
        sentences = ["".join(s) for s in msra[2][:400]]
        long = "".join(sentences[:40])[:MAX_CHARS]  # long, within the limit: tagged whole
        texts = sentences[:150] + [long, long[:200], "", "   ", "江泽民", "国家主席江泽民发表新年讲话。"]
    else:
        from english_ner import english_ner

        _, _, test_x, _ = english_ner()
        long = " ".join(w for s in test_x[:40] for w in s)[:MAX_CHARS].rsplit(" ", 1)[0]
        texts = [" ".join(s) for s in test_x[:150]] + [long, "", "Paris ."]
    rng.shuffle(texts)
    return texts


@pytest.mark.parametrize("language", ["zh", "en"])
def test_concurrent_mixed_requests_answer_as_the_tagger_alone(server, models, msra, language):
    """48 concurrent clients, requests of 1 to 6 texts of mixed lengths: every text's entities
    (offsets and confidences included) equal ``Tagger.predict_entities([text])`` alone."""
    from bilstm_crf_ner.runtime import Tagger

    texts = _texts(msra, language)
    tagger = Tagger.load(models[language])
    expected = {text: [e.to_dict() for e in tagger.predict_entities([text])[0]] for text in texts}
    assert sum(len(v) for v in expected.values()) > 5  # the model finds entities: the check has teeth
    rng = random.Random(11)
    requests, i = [], 0
    while i < len(texts):
        size = rng.randint(1, 6)
        requests.append(texts[i:i + size])
        i += size

    async def main():
        limit = asyncio.Semaphore(48)
        async with httpx.AsyncClient(base_url=server["url"], timeout=60,
                                     limits=httpx.Limits(max_connections=48)) as client:
            async def one(batch):
                async with limit:
                    return batch, await client.post(f"/{language}/v1/entities", json={"texts": batch})

            return await asyncio.gather(*(one(r) for r in requests * 2))

    answers = asyncio.run(main())
    assert len(answers) == 2 * len(requests)
    for batch, response in answers:
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        assert len(results) == len(batch)
        for text, result in zip(batch, results):
            assert _same(result["entities"], expected[text]), (text, result, expected[text])


def test_tags_route_answers_as_the_tagger(server, models, msra):
    from bilstm_crf_ner.runtime import Tagger

    tagger = Tagger.load(models["zh"])
    sentences = [list(s) for s in msra[2][:30]]
    with httpx.Client(base_url=server["url"], timeout=60) as client:
        for scheme in (None, "BIOES", "bio"):
            body = {"tokens": sentences} if scheme is None else {"tokens": sentences, "tag_scheme": scheme}
            response = client.post("/zh/v1/tags", json=body)
            assert response.status_code == 200, response.text
            expected = tagger.predict(sentences, tag_scheme=scheme and scheme.upper())
            assert [r["tags"] for r in response.json()["results"]] == expected


def test_model_route_and_health(server, models):
    with httpx.Client(base_url=server["url"], timeout=30) as client:
        info = client.get("/zh/v1/model").json()
        assert info["tag_scheme"] == "BIOES" and "S-PER" in info["tags"]
        assert info["backend"] in ("openvino", "onnxruntime") and info["precision"] == "f32"
        assert info["row_streams"] == 1  # one inference thread per replica: at most one stream
        assert info["versions"]["server"] and info["limits"]["max_texts"] == MAX_TEXTS
        assert "crf" not in info["export"] and "allowed" not in info["export"]  # no weights
        assert "vocab_files" not in info["export"]["tokenizer"]
        for path in ("/-/healthz", "/zh/v2/health/live", "/zh/v2/health/ready", "/en/v2/health/ready"):
            assert client.get(path).status_code == 200, path


BAD = [
    ("entities", b"this is not json", 400, "invalid_json"),
    ("entities", b"[1, 2]", 422, "wrong_type"),
    ("entities", b"{}", 422, "missing_field"),
    ("entities", b'{"text": ["a"]}', 422, "missing_field"),
    ("entities", b'{"texts": "one text"}', 422, "wrong_type"),
    ("entities", b'{"texts": ["ok", 3]}', 422, "wrong_type"),
    ("entities", b'{"texts": [null]}', 422, "wrong_type"),
    ("entities", json.dumps({"texts": ["a"] * (MAX_TEXTS + 1)}).encode(), 413, "too_many_texts"),
    ("entities", json.dumps({"texts": ["ok", "长" * (MAX_CHARS + 1)]}).encode(), 413, "text_too_long"),
    ("entities", b"\xff\xfe", 400, "invalid_json"),
    ("tags", b'{"tokens": [["a", ""]]}', 422, "invalid_token"),
    ("tags", b'{"tokens": ["abc"]}', 422, "wrong_type"),
    ("tags", b'{"tokens": [["a"]], "tag_scheme": "XYZ"}', 422, "invalid_tag_scheme"),
    ("tags", json.dumps({"tokens": [["a"]] * (MAX_TEXTS + 1)}).encode(), 413, "too_many_texts"),
]


def test_bad_requests_get_json_4xx_and_the_server_keeps_serving(server, models):
    from bilstm_crf_ner.runtime import Tagger

    with httpx.Client(base_url=server["url"], timeout=60) as client:
        for route, body, status, code in BAD:
            response = client.post(f"/zh/v1/{route}", content=body, headers={"content-type": "application/json"})
            assert response.status_code == status, (body[:60], response.text)
            assert response.json()["error"]["code"] == code and response.json()["error"]["message"]
        empty = client.post("/zh/v1/entities", json={"texts": []})
        assert empty.status_code == 200 and empty.json() == {"results": []}
        assert client.post("/zh/v1/tags", json={"tokens": []}).json() == {"results": []}
        assert client.get("/zh/v1/entities").status_code == 405
        assert client.get("/zh/v1/nothing").json()["error"]["code"] == "not_found"
        text = "国家主席江泽民发表新年讲话。"
        response = client.post("/zh/v1/entities", json={"texts": [text]})
        assert response.status_code == 200
        expected = [e.to_dict() for e in Tagger.load(models["zh"]).predict_entities([text])[0]]
        assert _same(response.json()["results"][0]["entities"], expected)


def test_replicas_load_no_tensorflow_and_use_their_cpu_share(server):
    from ray import serve

    info = serve.get_app_handle("zh").diagnostics.remote().result()
    assert info["tensorflow_imported"] is False and info["inference_threads"] == 1


def test_prometheus_metrics_count_requests_and_batches(server):
    with httpx.Client(base_url=server["url"], timeout=30) as client:
        for _ in range(3):
            assert client.post("/en/v1/entities", json={"texts": ["Paris .", "I like Tokyo ."]}).status_code == 200
    wanted = ("ray_bilstm_crf_ner_texts", "ray_bilstm_crf_ner_batch_size_bucket", "ray_serve_num_http_requests")
    deadline, text = time.time() + 60, ""
    while time.time() < deadline:
        try:
            text = urllib.request.urlopen(server["metrics"], timeout=10).read().decode()
        except OSError:
            text = ""
        if all(name in text for name in wanted):
            break
        time.sleep(2)
    missing = [name for name in wanted if name not in text]
    assert not missing, f"metrics missing: {missing}"


def test_concurrent_one_text_requests_share_model_calls(server, msra):
    """Dynamic batching at work: 48 concurrent one-text requests become a few model calls."""
    from ray import serve

    handle = serve.get_app_handle("zh")
    before = handle.diagnostics.remote().result()
    texts = ["".join(s) for s in msra[2][300:348]]

    async def main():
        async with httpx.AsyncClient(base_url=server["url"], timeout=60,
                                     limits=httpx.Limits(max_connections=48)) as client:
            return await asyncio.gather(*(client.post("/zh/v1/entities", json={"texts": [t]}) for t in texts))

    assert all(r.status_code == 200 for r in asyncio.run(main()))
    after = handle.diagnostics.remote().result()
    calls, tagged = after["model_calls"] - before["model_calls"], after["texts_tagged"] - before["texts_tagged"]
    assert tagged == len(texts) and calls <= len(texts) // 3, (calls, tagged)


def test_serve_config_checks_and_casts_its_values():
    """Bad options fail at the boundary with the option named; ``key=value`` strings are cast."""
    from bilstm_crf_ner.serve import ServeConfig
    from bilstm_crf_ner.serve.config import ServeConfigError

    config = ServeConfig.from_dict({"model": "ir", "streams": "2", "replicas": "1", "static_shapes": "true"})
    assert config.streams == 2 and config.static_shapes is True and ServeConfig(model="ir").streams is None
    with pytest.raises(ServeConfigError, match="whole number"):
        ServeConfig(model="ir", streams=2.5)
    for values, message in [({"streams": 0}, "streams must be a whole number of at least 1"),
                            ({"replicas": 0}, "replicas"), ({"streams": "two"}, "streams: invalid value"),
                            ({"stream": 2}, "unknown server option"),
                            ({"streams": 2, "throughput_mode": "true"}, "choose one")]:
        with pytest.raises(ServeConfigError, match=message):
            ServeConfig.from_dict({"model": "ir", **values})

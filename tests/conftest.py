import atexit
import contextlib
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Local Ray instances (serving and bulk tests) listen on 127.0.0.1 only; Ray reads this when imported
# (bilstm_crf_ner.runtime.ray.LOOPBACK_ENV; the CLI sets it the same way).
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
DEFAULT_MSRA = ROOT.parent / "shared" / "data" / "msra"


@pytest.fixture(scope="session", autouse=True)
def empty_dataset_cache(tmp_path_factory):
    """Tests never see (or fill) the user's dataset cache: corpora come from MSRA_DIR or a test's own server."""
    previous = os.environ.get("BILSTM_CRF_NER_DATA")
    os.environ["BILSTM_CRF_NER_DATA"] = str(tmp_path_factory.mktemp("dataset-cache"))
    yield
    if previous is None:
        os.environ.pop("BILSTM_CRF_NER_DATA", None)
    else:
        os.environ["BILSTM_CRF_NER_DATA"] = previous


def msra_dir() -> Path:
    return Path(os.environ.get("MSRA_DIR", DEFAULT_MSRA))


@contextlib.contextmanager
def compiled_or_numpy(module, switch: str, kind: str):
    """Run the block with ``module``'s compiled kernel (``kind="compiled"``: numba is in the test
    extra, so it is what runs by default) or its numpy twin (``"numpy"``), by patching the
    ``switch()`` function that returns the kernel or ``None``."""
    original = getattr(module, switch)
    assert original() is not None
    if kind == "numpy":
        setattr(module, switch, lambda: None)
    try:
        yield
    finally:
        setattr(module, switch, original)


@pytest.fixture(scope="session")
def msra():
    """(train_x, train_y, test_x, test_y) of the real MSRA corpus; a missing corpus fails loudly."""
    from bilstm_crf_ner.corpus import read_conll

    folder = msra_dir()
    if not (folder / "train.bio").is_file():
        pytest.fail(f"MSRA corpus not found in {folder}; set MSRA_DIR to the folder with train.bio and test.bio")
    train_x, train_y = read_conll(folder / "train.bio")
    test_x, test_y = read_conll(folder / "test.bio")
    return train_x, train_y, test_x, test_y


@pytest.fixture(scope="session")
def trained(msra, tmp_path_factory):
    """A small character BiLSTM-CRF trained on an MSRA slice, shared by the model tests."""
    from bilstm_crf_ner import BareEmbedding, BLSTMCRFModel

    train_x, train_y, test_x, test_y = msra
    model = BLSTMCRFModel(BareEmbedding(embedding_dim=64), lstm_units=64, learning_rate=5e-3, seed=7)
    history = model.fit(train_x[:3000], train_y[:3000], x_validate=test_x[:200], y_validate=test_y[:200],
                        epochs=4, batch_size=32, verbose=0)
    return model, history


def tensorflow_blocking_env(folder: Path) -> dict:
    """An environment whose Python processes (Ray workers included) cannot import TensorFlow, Keras
    or keras-hub: a ``sitecustomize`` on PYTHONPATH installs an import hook that raises."""
    hook = folder / "blockhook"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(
        "import sys\n"
        "class _Blocked:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('tensorflow', 'keras', 'keras_hub'):\n"
        "            raise ImportError('blocked: ' + name + ' must not be imported by deployment code')\n"
        "sys.meta_path.insert(0, _Blocked())\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env["PYTHONPATH"] = os.pathsep.join([str(hook), str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    """End the test process with pytest's status and without the interpreter's teardown.

    The suite loads TensorFlow, keras-hub, OpenVINO, ONNX Runtime, numba, tokenizers and Ray into
    one process and builds hundreds of models. After every test had passed, the interpreter's
    final garbage collection at exit crashed in native code (SIGSEGV, exit 139: CI on 2026-12-01,
    reproduced locally with the main thread in ``gc_collect_main``), turning a green run red.
    Nothing of ours runs after pytest's report, so the first exit handler to run (registered
    last) flushes the output and leaves with pytest's own exit status. Subprocesses the tests
    start (CLI, runtime without TensorFlow, Ray workers) exit normally and are checked as such.
    """
    status = int(exitstatus)

    def leave():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)

    atexit.register(leave)

"""The structural rule: deployment never needs TensorFlow.

Every module of the TensorFlow-free packages is imported in a fresh interpreter in which
``tensorflow``, ``keras`` and ``keras_hub`` cannot be imported at all (an import hook raises), so
a stray import anywhere in them fails here, not on a user's server.
"""

import subprocess
import sys

from conftest import ROOT

#: Packages that the runtime, the server and the CLI's commands on an exported folder import.
TF_FREE_PACKAGES = ("bilstm_crf_ner.core", "bilstm_crf_ner.corpus", "bilstm_crf_ner.datasets", "bilstm_crf_ner.runtime",
                    "bilstm_crf_ner.serve", "bilstm_crf_ner.cli")
BLOCKED = ("tensorflow", "keras", "keras_hub")

_IMPORT_ALL = f"""
import importlib, importlib.util, pkgutil, sys

class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {BLOCKED!r}:
            raise ImportError(f"blocked: {{name}} must not be imported by TensorFlow-free code")
        return None

sys.meta_path.insert(0, Blocked())
imported = []
for package in {TF_FREE_PACKAGES!r}:
    if importlib.util.find_spec(package) is None:
        continue
    module = importlib.import_module(package)
    imported.append(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        importlib.import_module(info.name)
        imported.append(info.name)
print(len(imported))
"""


def test_tensorflow_free_packages_import_with_tensorflow_blocked():
    result = subprocess.run([sys.executable, "-c", _IMPORT_ALL], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.strip()) >= 30  # the walk really reached the modules


def test_the_import_hook_blocks_what_it_should():
    """The check above would pass vacuously if the hook did not block: prove it does."""
    code = _IMPORT_ALL.split("imported = []")[0] + "import bilstm_crf_ner.keras.model\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode != 0 and "must not be imported by TensorFlow-free code" in result.stderr


def test_training_side_is_not_imported_by_tensorflow_free_code():
    """No TensorFlow-free module imports the training side, even lazily inside a function
    (the CLI's training commands are the only bridge, and they live in ``cli/``)."""
    import re

    pattern = re.compile(r"^\s*(from|import)\s+(\.\.?(keras|export)\b|bilstm_crf_ner\.(keras|export)\b)", re.M)
    offenders = []
    for folder in ("core", "corpus", "datasets", "runtime", "serve"):
        for path in sorted((ROOT / "bilstm_crf_ner" / folder).rglob("*.py")):
            if pattern.search(path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"TensorFlow-free modules that import the training side: {offenders}"

"""Whether the optional compiled kernels (numba, the ``[fast]`` extra) run.

Each kernel has a numpy twin with identical results that runs without numba; the tests hold the
two to each other. ``BILSTM_CRF_NER_NUMBA=0`` forces the numpy code.
"""

from __future__ import annotations

import importlib.util
import os

#: The environment variable that turns the compiled kernels off when set to ``0``.
SWITCH = "BILSTM_CRF_NER_NUMBA"


def numba_enabled() -> bool:
    """True where numba is installed and not switched off by ``BILSTM_CRF_NER_NUMBA=0``."""
    return os.environ.get(SWITCH, "1") != "0" and importlib.util.find_spec("numba") is not None

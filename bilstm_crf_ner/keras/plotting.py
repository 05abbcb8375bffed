"""Training curves as a PNG: loss and validation entity F1 per epoch.

>>> import tempfile, pathlib
>>> history = {"loss": [9.1, 4.2, 3.0], "val_f1": [0.41, 0.63, 0.70]}
>>> out = plot_history(history, pathlib.Path(tempfile.mkdtemp()) / "curves.png")
>>> out.read_bytes()[:4] == b"\\x89PNG"
True

Needs matplotlib (``pip install "bilstm_crf_ner[plot]"``); drawn on a private Agg canvas, so it
touches no global matplotlib state and needs no display.
"""

from __future__ import annotations

from pathlib import Path

from ..core.errors import InputError

#: Metrics drawn in the right-hand panel (entity-level scores from ``EntityF1Callback``).
SCORE_KEYS = ("val_f1", "val_precision", "val_recall")


def plot_history(history, path, title: str | None = None) -> Path:
    """Draw ``history`` (the ``keras.callbacks.History`` that ``fit`` returns, or its
    ``.history`` dict) to a PNG at ``path``: losses on the left, validation entity F1 (and
    precision / recall) on the right. Returns the path."""
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs.get("loss"):
        raise InputError("plot_history needs a fit() history with at least one epoch of 'loss'")
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise InputError("plotting needs matplotlib: pip install matplotlib") from None

    scores = [key for key in SCORE_KEYS if logs.get(key)]
    figure = Figure(figsize=(10 if scores else 5, 3.6), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, 2 if scores else 1, squeeze=False)[0]
    for key in ("loss", "val_loss"):
        if logs.get(key):
            axes[0].plot(range(1, len(logs[key]) + 1), logs[key], marker="o", label=key)
    axes[0].set(xlabel="epoch", ylabel="loss (mean CRF negative log-likelihood)")
    axes[0].legend()
    if scores:
        for key in scores:
            axes[1].plot(range(1, len(logs[key]) + 1), [100 * v for v in logs[key]], marker="o", label=key)
        best = max(range(len(logs[scores[0]])), key=logs[scores[0]].__getitem__)
        axes[1].annotate(f"best {100 * logs[scores[0]][best]:.2f}", (best + 1, 100 * logs[scores[0]][best]),
                         textcoords="offset points", xytext=(0, 8), ha="center")
        axes[1].set(xlabel="epoch", ylabel="entity score (%)")
        axes[1].legend()
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    return path

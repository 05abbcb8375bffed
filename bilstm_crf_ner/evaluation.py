"""Entity-level evaluation with seqeval.

Both gold and predicted tags are converted to repaired BIO before scoring, so every scheme
is scored by the same entity definition (exact type and boundaries).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from seqeval.metrics import classification_report


@dataclass
class EvaluationReport:
    """Precision, recall and F1 (micro-averaged over entities) plus per-type rows.

    ``per_type[type]`` has keys ``precision``, ``recall``, ``f1-score``, ``support``;
    ``str(report)`` is seqeval's printable table.
    """

    precision: float
    recall: float
    f1: float
    support: int
    per_type: dict = field(default_factory=dict)
    text: str = ""

    def to_dict(self) -> dict:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1, "support": self.support, "per_type": self.per_type}

    def __str__(self):
        return self.text


def entity_report(y_true_bio, y_pred_bio, digits: int = 4) -> EvaluationReport:
    """Score BIO tag sequences with seqeval (entity level)."""
    table = classification_report(y_true_bio, y_pred_bio, output_dict=True, zero_division=0)
    text = classification_report(y_true_bio, y_pred_bio, digits=digits, zero_division=0)
    micro = table.get("micro avg", {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0})
    per_type = {k: {m: float(v) for m, v in row.items()} for k, row in table.items() if not k.endswith(" avg")}
    return EvaluationReport(
        precision=float(micro["precision"]), recall=float(micro["recall"]), f1=float(micro["f1-score"]),
        support=int(micro["support"]), per_type=per_type, text=text,
    )

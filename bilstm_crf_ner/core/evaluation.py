"""Entity-level evaluation: seqeval scores plus a summary of the kinds of entity errors.

Both gold and predicted tags are converted to repaired BIO before scoring, so every scheme
is scored by the same entity definition (exact type and boundaries).

>>> gold = [["B-PER", "I-PER", "O", "B-LOC", "O", "O"]]
>>> pred = [["B-PER", "O", "O", "B-ORG", "O", "B-LOC"]]
>>> entity_errors(gold, pred)["counts"]
{'correct': 0, 'wrong_type': 1, 'wrong_boundary': 1, 'wrong_type_and_boundary': 0, 'missed': 0, 'spurious': 1}
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

from .tags import spans_from_tags

#: Error categories of :func:`entity_errors`, in report order.
ERROR_KINDS = ("correct", "wrong_type", "wrong_boundary", "wrong_type_and_boundary", "missed", "spurious")


@dataclass
class EvaluationReport:
    """Precision, recall and F1 (micro-averaged over entities) plus per-type rows and errors.

    ``per_type[type]`` has keys ``precision``, ``recall``, ``f1-score``, ``support``;
    ``errors`` is :func:`entity_errors`'s summary; ``str(report)`` prints seqeval's table
    followed by the error summary.
    """

    precision: float
    recall: float
    f1: float
    support: int
    per_type: dict = field(default_factory=dict)
    text: str = ""
    errors: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1, "support": self.support,
                "per_type": self.per_type, "errors": self.errors}

    def __str__(self):
        return self.text + ("\n" + format_errors(self.errors) if self.errors else "")


def _overlaps(a, b) -> bool:
    return a[1] < b[2] and b[1] < a[2]


def entity_errors(y_true_bio: Sequence[Sequence[str]], y_pred_bio: Sequence[Sequence[str]]) -> dict:
    """Classify every gold entity and every unmatched predicted entity.

    Each gold entity gets exactly one category: ``correct`` (a prediction with the same span
    and type), ``wrong_type`` (same span, other type), ``wrong_boundary`` (an overlapping
    prediction of the same type), ``wrong_type_and_boundary`` (only overlapping predictions of
    other types) or ``missed`` (no overlapping prediction). A prediction that overlaps no gold
    entity is ``spurious``. So ``correct + wrong_* + missed`` is the number of gold entities.

    Returns ``{"counts": {kind: n}, "by_type": {type: {kind: n}}, "type_confusions":
    [(gold_type, predicted_type, n), ...]}``; ``by_type`` counts gold entities by their type
    and spurious ones by the predicted type; confusions are the ``wrong_type`` pairs, most
    frequent first.
    """
    counts = Counter({kind: 0 for kind in ERROR_KINDS})
    by_type: dict[str, Counter] = {}
    confusions = Counter()
    for gold_tags, pred_tags in zip(y_true_bio, y_pred_bio):
        gold, pred = spans_from_tags(gold_tags, "BIO"), spans_from_tags(pred_tags, "BIO")
        for span in gold:
            overlapping = [p for p in pred if _overlaps(span, p)]
            same_span = [p for p in overlapping if p[1:] == span[1:]]
            if span in pred:
                kind = "correct"
            elif same_span:
                kind = "wrong_type"
                confusions[(span[0], same_span[0][0])] += 1
            elif any(p[0] == span[0] for p in overlapping):
                kind = "wrong_boundary"
            elif overlapping:
                kind = "wrong_type_and_boundary"
            else:
                kind = "missed"
            counts[kind] += 1
            by_type.setdefault(span[0], Counter())[kind] += 1
        for span in pred:
            if not any(_overlaps(span, g) for g in gold):
                counts["spurious"] += 1
                by_type.setdefault(span[0], Counter())["spurious"] += 1
    return {
        "counts": {kind: counts[kind] for kind in ERROR_KINDS},
        "by_type": {t: {kind: c[kind] for kind in ERROR_KINDS} for t, c in sorted(by_type.items())},
        "type_confusions": [(g, p, n) for (g, p), n in confusions.most_common()],
    }


def format_errors(errors: dict) -> str:
    """A printable table of :func:`entity_errors`'s summary."""
    names = ["type", *ERROR_KINDS]
    rows = [[t, *(str(c[k]) for k in ERROR_KINDS)] for t, c in errors["by_type"].items()]
    rows.append(["total", *(str(errors["counts"][k]) for k in ERROR_KINDS)])
    widths = [max(len(r[i]) for r in [names, *rows]) for i in range(len(names))]
    lines = ["entity errors (each gold entity counted once; spurious = predictions overlapping no gold entity)"]
    lines += ["  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in [names, *rows]]
    if errors["type_confusions"]:
        lines.append("wrong type (gold -> predicted): " +
                     ", ".join(f"{g} -> {p}: {n}" for g, p, n in errors["type_confusions"]))
    return "\n".join(lines) + "\n"


def entity_report(y_true_bio, y_pred_bio, digits: int = 4) -> EvaluationReport:
    """Score BIO tag sequences with seqeval (entity level) and summarize the errors."""
    from seqeval.metrics import classification_report  # imported here: the runtime has no hard seqeval dependency

    if not any(tag != "O" for tags in (*y_true_bio, *y_pred_bio) for tag in tags):
        # seqeval cannot tabulate zero entities (max() of an empty sequence): nothing to find, nothing found.
        errors = entity_errors(y_true_bio, y_pred_bio)
        return EvaluationReport(precision=0.0, recall=0.0, f1=0.0, support=0, per_type={},
                                text="no entities in the gold or the predicted tags\n", errors=errors)
    table = classification_report(y_true_bio, y_pred_bio, output_dict=True, zero_division=0)
    text = classification_report(y_true_bio, y_pred_bio, digits=digits, zero_division=0)
    micro = table.get("micro avg", {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0})
    per_type = {k: {m: float(v) for m, v in row.items()} for k, row in table.items() if not k.endswith(" avg")}
    return EvaluationReport(
        precision=float(micro["precision"]), recall=float(micro["recall"]), f1=float(micro["f1-score"]),
        support=int(micro["support"]), per_type=per_type, text=text, errors=entity_errors(y_true_bio, y_pred_bio),
    )

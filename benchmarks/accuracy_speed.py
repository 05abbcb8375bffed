"""Accuracy against speed: one chart of F1 vs bulk sentences per second, every recipe on every
engine, from the JSON files ``bilstm-crf-ner benchmark --json`` wrote (one per recipe, all from one
session on one CPU, so the speeds compare).

    python benchmarks/accuracy_speed.py \\
        --result "characters + lexicon=benchmarks/results/cli_benchmark_msra_lexicon_amx.json" \\
        --result "BERT 4x256=benchmarks/results/cli_benchmark_bert_4x256_msra_amx.json" \\
        --output benchmarks/results/accuracy_speed_amx.json --plot benchmarks/results/accuracy_speed_amx.png

Writes the points as JSON (recipe, engine, F1, bulk sentences/s, tag agreement with Keras, the
CPU each file names) and, with ``--plot``, the chart (matplotlib). Refuses files from different
CPUs. ``--smoke`` charts two of the committed result files (a test of the script).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import _smoke as smoke

RESULTS = Path(__file__).resolve().parent / "results"


def engine_name(result: dict) -> str:
    name = "Keras" if result["engine"] == "keras" else {"onnxruntime": "ONNX Runtime", "openvino": "OpenVINO"}[
        result["engine"]]
    if result["engine"] != "keras":
        name += f" {result['precision']}" + (" static" if result.get("static_shapes") else "")
        name += f" {result['streams']} streams" if (result.get("streams") or 1) > 1 else ""
    return name + (" (default)" if result.get("default") else "")


def points(label: str, path: Path) -> tuple[str, list[dict]]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    rows = []
    for result in data["results"]:
        if result.get("f1") is None or result.get("bulk_sentences_per_s") is None:
            continue
        rows.append({"recipe": label, "engine": engine_name(result), "f1": round(100 * result["f1"], 2),
                     "bulk_sentences_per_s": round(result["bulk_sentences_per_s"], 1),
                     "token_agreement": result.get("token_agreement"), "file": str(path)})
    return data.get("cpu"), rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--result", action="append", default=[], metavar="LABEL=FILE",
                        help="a recipe's label and its `bilstm-crf-ner benchmark --json` file (repeat)")
    parser.add_argument("--plot", default=None, help="PNG file for the chart")
    parser.add_argument("--output", required=True)
    args = smoke.parse_args(parser, argv)
    if args.smoke and not args.result:
        args.result = ["lexicon=" + str(RESULTS / "cli_benchmark_msra_lexicon_amx.json"),
                       "BERT=" + str(RESULTS / "cli_benchmark_bert_4x256_msra_amx.json")]
        args.plot = args.plot or str(Path(args.output).with_suffix(".png"))
    if not args.result:
        parser.error("give at least one --result LABEL=FILE")
    cpus, rows = set(), []
    for item in args.result:
        label, _, path = item.partition("=")
        if not path:
            parser.error(f"--result wants LABEL=FILE, not {item!r}")
        cpu, found = points(label, Path(path))
        cpus.add(cpu)
        rows += found
    if len(cpus) > 1:
        parser.error(f"the files come from different CPUs ({sorted(map(str, cpus))}); speeds would not compare")
    result = {"cpu": cpus.pop(), "points": rows}
    Path(args.output).write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        figure, axes = plt.subplots(figsize=(9, 5.5))
        colors = dict(zip(dict.fromkeys(r["recipe"] for r in rows), plt.rcParams["axes.prop_cycle"].by_key()["color"]))
        markers = {"Keras": "o", "ONNX Runtime": "s", "OpenVINO": "^"}
        for row in rows:
            kind = next(k for k in markers if row["engine"].startswith(k))
            precision = row["engine"][len(kind):].replace("(default)", "").replace("static", "").strip() or "f32"
            filled = "static" not in row["engine"]
            axes.scatter(row["bulk_sentences_per_s"], row["f1"], marker=markers[kind], s=16 + 14 * ("int8" in precision)
                         + 10 * ("bf16" in precision), color=colors[row["recipe"]] if filled else "none",
                         edgecolors=colors[row["recipe"]], linewidths=1.2)
            if "(default)" in row["engine"] or kind == "Keras":
                axes.annotate(row["engine"], (row["bulk_sentences_per_s"], row["f1"]), fontsize=7,
                              xytext=(4, 4), textcoords="offset points")
        handles = [plt.Line2D([], [], color=c, marker="o", linestyle="", label=r) for r, c in colors.items()]
        handles += [plt.Line2D([], [], color="grey", marker=m, linestyle="", label=k) for k, m in markers.items()]
        handles += [plt.Line2D([], [], color="grey", marker="o", markerfacecolor="none", linestyle="",
                               label="hollow: static shapes; larger: bf16 / int8")]
        axes.legend(handles=handles, fontsize=8, loc="center left")
        axes.set_xscale("log")
        axes.set_xlabel("MSRA test sentences per second (bulk, mixed lengths, 2 cores)")
        axes.set_ylabel("entity F1 on MSRA test (%)")
        axes.set_title(f"Accuracy vs speed per engine ({result['cpu']})", fontsize=9)
        axes.grid(alpha=0.3)
        figure.tight_layout()
        figure.savefig(args.plot, dpi=130)
    for row in rows:
        print(f"{row['recipe']:>24}  {row['engine']:<36} F1 {row['f1']:6.2f}  {row['bulk_sentences_per_s']:8.1f} sent/s")


if __name__ == "__main__":
    main()

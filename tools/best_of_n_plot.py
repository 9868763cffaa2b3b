#!/usr/bin/python3
"""Accuracy against N for best-of-N selection: a table and a figure.

  best_of_n_plot.py (--summary FILE | --sampled FILE [--greedy FILE])
                    [--out fig.png] [--table table.md] [--write-summary FILE] [--title TEXT]

Inputs:
  --sampled FILE  the JSON of `vkt generate --best-of NMAX --gold GOLD --json ...`: its
                  "accuracy_curve" (every rule at N = 1, 2, 4, ..., NMAX, each averaged over
                  the NMAX/N disjoint groups of N samples per prompt; trainer/model/select.h)
  --greedy FILE   the JSON of `vkt generate --greedy --best-of 1 --gold GOLD --json ...`:
                  its "accuracy" is drawn as the greedy line (the same at every N)
  --summary FILE  instead of both: a JSON list of {"N": int, "rule": str, "accuracy": float}
                  (or an object with that list under "rows"); rule "greedy" is the greedy line
Outputs: the table (markdown, N down, one column per rule) on stdout and in --table, the
figure in --out, and the merged rows in --write-summary.

For example, on held-out addition prompts (one a line) with their sums in gold.txt:
  vkt generate --ckpt CKPT --prompts prompts.txt --gold gold.txt --best-of 16 \\
      --answer-regex '[0-9]+' --max-new-tokens 8 --seed 1 --json > sampled.json
  vkt generate --ckpt CKPT --prompts prompts.txt --gold gold.txt --best-of 1 --greedy \\
      --answer-regex '[0-9]+' --max-new-tokens 8 --json > greedy.json
  best_of_n_plot.py --sampled sampled.json --greedy greedy.json --out acc.png --table acc.md
Run with /usr/bin/python3 (Debian's matplotlib).
"""
import argparse
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RULES = ["self-certainty", "majority", "borda"]
STYLE = {
    "self-certainty": dict(marker="o", color="tab:blue"),
    "majority": dict(marker="s", color="tab:orange"),
    "borda": dict(marker="^", color="tab:green"),
}


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"best_of_n_plot: {path}: {e}")


def rows_from_summary(doc, path):
    rows = doc.get("rows") if isinstance(doc, dict) else doc
    if not isinstance(rows, list) or not rows:
        sys.exit(f"best_of_n_plot: {path}: expected a list of {{N, rule, accuracy}} rows")
    out = []
    for r in rows:
        try:
            out.append({"N": int(r["N"]), "rule": str(r["rule"]), "accuracy": float(r["accuracy"])})
        except (KeyError, TypeError, ValueError):
            sys.exit(f"best_of_n_plot: {path}: bad row {r!r}")
    return out


def rows_from_vkt(sampled, greedy, sampled_path, greedy_path):
    curve = sampled.get("accuracy_curve")
    if not curve:
        sys.exit(f"best_of_n_plot: {sampled_path} has no accuracy_curve (run vkt generate with --best-of and --gold)")
    rows = [{"N": int(e["N"]), "rule": e["rule"], "accuracy": float(e["accuracy"])} for e in curve]
    if greedy is not None:
        if "accuracy" not in greedy:
            sys.exit(f"best_of_n_plot: {greedy_path} has no accuracy (run vkt generate with --best-of 1 and --gold)")
        for n in sorted({r["N"] for r in rows}):
            rows.append({"N": n, "rule": "greedy", "accuracy": float(greedy["accuracy"])})
    return rows


def table(rows, prompts):
    Ns = sorted({r["N"] for r in rows})
    rules = [r for r in RULES + ["greedy"] if any(x["rule"] == r for x in rows)]
    rules += sorted({x["rule"] for x in rows} - set(rules))
    acc = {(r["N"], r["rule"]): r["accuracy"] for r in rows}
    lines = ["| N | " + " | ".join(rules) + " |", "|---|" + "---|" * len(rules)]
    for n in Ns:
        cells = [f"{acc[(n, r)]:.3f}" if (n, r) in acc else "" for r in rules]
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    if prompts:
        lines.append(f"\n{prompts} prompts; accuracy = fraction of (prompt, group of N samples) whose chosen answer is right")
    return "\n".join(lines) + "\n", Ns, rules, acc


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--summary")
    ap.add_argument("--sampled")
    ap.add_argument("--greedy")
    ap.add_argument("--out")
    ap.add_argument("--table")
    ap.add_argument("--write-summary")
    ap.add_argument("--title", default="best-of-N: accuracy against N")
    a = ap.parse_args()
    if bool(a.summary) == bool(a.sampled):
        ap.error("give --summary FILE, or --sampled FILE (and optionally --greedy FILE)")
    prompts = 0
    if a.summary:
        rows = rows_from_summary(load(a.summary), a.summary)
    else:
        sampled = load(a.sampled)
        prompts = len(sampled.get("prompts", []))
        rows = rows_from_vkt(sampled, load(a.greedy) if a.greedy else None, a.sampled, a.greedy)

    text, Ns, rules, acc = table(rows, prompts)
    sys.stdout.write(text)
    if a.table:
        with open(a.table, "w") as f:
            f.write(text)
    if a.write_summary:
        with open(a.write_summary, "w") as f:
            json.dump({"rows": rows}, f, indent=1)
            f.write("\n")
    if a.out:
        fig, ax = plt.subplots(figsize=(5.5, 4))
        for r in rules:
            xs = [n for n in Ns if (n, r) in acc]
            ys = [acc[(n, r)] for n in xs]
            if r == "greedy":
                ax.plot(xs, ys, linestyle="--", color="black", label="greedy")
            else:
                ax.plot(xs, ys, label=r, **STYLE.get(r, dict(marker="x")))
        ax.set_xscale("log", base=2)
        ax.set_xticks(Ns)
        ax.set_xticklabels([str(n) for n in Ns])
        ax.set_xlabel("N (samples per prompt)")
        ax.set_ylabel("accuracy")
        ax.set_title(a.title + (f" ({prompts} prompts)" if prompts else ""), fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(a.out, dpi=120)


if __name__ == "__main__":
    main()

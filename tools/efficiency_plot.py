#!/usr/bin/env python3
"""Figures of `vkt steer efficiency` (docs/efficiency_steering.md).

usage: efficiency_plot.py sweep.csv final.csv sweep.png final.png

sweep.png: per direction kind (trace, pc1, last, decision), mean generated tokens, verbose fraction
and accuracy against strength (a fraction of |h|), one line per layer, the unedited model
as a dashed line; means over seeds with the seed range as error bars.
final.png: the best setting, a random direction of the same norm and the reverse edit on
held-out prompts (tokens and accuracy, unedited beside edited).
"""
import csv
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def group(rows):
    """(set, kind, layer, strength) -> list of per-seed rows."""
    g = defaultdict(list)
    for r in rows:
        g[(r["set"], r["kind"], int(r["layer"]), float(r["strength"]))].append(r)
    return g


def stat(rs, key):
    v = [float(r[key]) for r in rs]
    m = sum(v) / len(v)
    return m, m - min(v), max(v) - m


def sweep_figure(rows, out):
    g = group([r for r in rows if r["set"] == "sweep"])
    base = g[("sweep", "none", -1, 0.0)]
    kinds = [k for k in ("trace", "pc1", "last", "decision") if any(key[1] == k for key in g)]
    metrics = [("mean_tokens", "generated tokens"), ("verbose_frac", "verbose fraction"), ("accuracy", "accuracy")]
    fig, axes = plt.subplots(len(kinds), 3, figsize=(13, 3.4 * len(kinds)), squeeze=False)
    for i, kind in enumerate(kinds):
        layers = sorted({key[2] for key in g if key[1] == kind})
        for j, (key, label) in enumerate(metrics):
            ax = axes[i][j]
            for layer in layers:
                pts = sorted((key_[3], rs) for key_, rs in g.items() if key_[1] == kind and key_[2] == layer)
                xs = [0.0] + [p[0] for p in pts]
                st = [stat(base, key)] + [stat(rs, key) for _, rs in pts]
                ax.errorbar(xs, [s[0] for s in st], yerr=[[s[1] for s in st], [s[2] for s in st]], marker="o",
                            ms=3, capsize=2, label=f"layer {layer}")
            ax.axhline(stat(base, key)[0], color="gray", ls="--", lw=1, label="unedited")
            ax.set_xlabel("strength (fraction of |h|), edit -s|h| v/|v|")
            ax.set_ylabel(label)
            ax.set_title(f"{kind} direction: {label}", fontsize=10)
            if j == 0:
                ax.legend(fontsize=7)
    fig.suptitle(f"Efficiency steering sweep: {len(base[0:1]) and base[0]['prompts']} held-out verbose-tag prompts, "
                 + (f"{len(base)} sampling seeds" if len(base) > 1 else "one decoding (greedy or one seed)"))
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def final_figure(rows, out):
    g = group(rows)
    names, tok, vrb, acc = [], [], [], []
    order = [("test", "none", "verbose tags\nunedited"), ("test", None, "verbose tags\nbest edit"),
             ("test", "random", "verbose tags\nrandom dir."), ("reverse", "none", "concise tags\nunedited"),
             ("reverse", None, "concise tags\nreverse edit")]
    for s, kind, name in order:
        match = [rs for key, rs in g.items() if key[0] == s and
                 (key[1] == kind if kind else key[1] not in ("none", "random"))]
        if not match:
            continue
        names.append(name)
        tok.append(stat(match[0], "mean_tokens"))
        vrb.append(stat(match[0], "verbose_frac"))
        acc.append(stat(match[0], "accuracy"))
    fig, axes = plt.subplots(1, 3, figsize=(17, 4))
    for ax, data, label in ((axes[0], tok, "generated tokens"), (axes[1], vrb, "verbose fraction"),
                            (axes[2], acc, "accuracy")):
        ax.bar(range(len(names)), [d[0] for d in data], yerr=[[d[1] for d in data], [d[2] for d in data]],
               color=["#999", "#3a7", "#c84", "#999", "#37c"][:len(names)], capsize=3)
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, fontsize=8)
        ax.set_ylabel(label)
        if label == "accuracy":
            lo = min(d[0] for d in data)
            ax.set_ylim(max(0, lo - 0.05), 1.0)
    seeds = len({r["seed"] for r in rows})
    fig.suptitle("Best setting on other held-out prompts" +
                 (" (bars: mean over seeds, whiskers: seed range)" if seeds > 1 else " (one decoding)"))
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    sweep_figure(read(sys.argv[1]), sys.argv[3])
    final_figure(read(sys.argv[2]), sys.argv[4])


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Draws the trained off-switch robot's deference against the theory's incentive Delta.

  offswitch_defer_plot.py --csv offswitch_deference.csv --out fig.png [--title TEXT]

The CSV is `vkt selfplay --game offswitch`'s (one row per Delta bin: delta_lo, delta_hi,
episodes, mean_delta, theory_p_wait, model_p_wait, model_p_wait_se, model_p_act,
model_p_off). Top: P(wait) per bin, the model's mean probability with 2-SE bars beside
the theory's (the oracle waits exactly when Delta >= 0). Bottom: episodes per bin.
Run with /usr/bin/python3 (Debian's numpy and matplotlib).
"""
import argparse
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

COLUMNS = ["delta_lo", "delta_hi", "episodes", "mean_delta", "theory_p_wait", "model_p_wait", "model_p_wait_se",
           "model_p_act", "model_p_off"]


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"offswitch_defer_plot: {path} has no rows")
    missing = [c for c in COLUMNS if c not in rows[0]]
    if missing:
        sys.exit(f"offswitch_defer_plot: {path} lacks columns {', '.join(missing)}")
    return {c: np.array([float(r[c]) for r in rows]) for c in COLUMNS}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--csv", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--title")
    args = p.parse_args()
    d = read(args.csv)
    mid = (d["delta_lo"] + d["delta_hi"]) / 2
    width = d["delta_hi"] - d["delta_lo"]
    fig, (ax, axn) = plt.subplots(2, 1, figsize=(9.5, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    ax.step(np.append(d["delta_lo"], d["delta_hi"][-1]), np.append(d["theory_p_wait"], d["theory_p_wait"][-1]),
            where="post", color="k", lw=1.5, label="theory (the oracle's choice)")
    ax.errorbar(mid, d["model_p_wait"], yerr=2 * d["model_p_wait_se"], fmt="o", ms=4, capsize=2, color="C0",
                label="trained model: mean P(wait) (2 SE)")
    ax.plot(mid, d["model_p_act"], "^", ms=3, color="C2", alpha=0.7, label="model P(act)")
    ax.plot(mid, d["model_p_off"], "v", ms=3, color="C3", alpha=0.7, label="model P(off)")
    ax.axvline(0, color="grey", lw=0.8, ls="--")
    ax.set_ylim(-0.05, 1.05)
    ax.set_ylabel("probability (P(wait): deference)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    ax.grid(alpha=0.3)
    axn.bar(mid, d["episodes"], width=width * 0.9, color="grey")
    axn.set_ylabel("episodes")
    axn.set_xlabel("Delta = V(wait) - max(V(act), V(off)): the incentive to defer")
    axn.grid(alpha=0.3)
    if args.title:
        ax.set_title(args.title)
    fig.tight_layout()
    root, ext = os.path.splitext(args.out)
    tmp = f"{root}.tmp.{os.getpid()}{ext or '.png'}"
    fig.savefig(tmp, dpi=120)
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Draws Kuhn self-play runs' exploitability against games played.

  selfplay_kuhn_plot.py --out fig.png [--csv out.csv] LABEL=metrics.jsonl ...

Each metrics.jsonl is `vkt selfplay`'s (its evaluation lines carry games, exploitability
and avg_exploitability; a resumed run repeats its first evaluation, kept once). Solid:
the averaged policy; dashed: the latest. The dotted line is the issue's 0.2 target.
--csv writes the points drawn (label, games, exploitability, avg_exploitability).
--gap adds a panel below: the card's effect on the latest policy's P(call) facing a bet,
P(call | K) - P(call | J) (information states "2b" and "0b"; 1 at Nash, the issue asks
> 0.9), and a call_gap column to the CSV.
Run with /usr/bin/python3 (Debian's matplotlib).
"""
import argparse
import csv
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    pts = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            try:
                d = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{n}: not JSON ({e})")
            if "exploitability" in d and "games" in d:
                p = d.get("policy", {})
                gap = round(p["2b"] - p["0b"], 6) if "2b" in p and "0b" in p else float("nan")
                pts[d["games"]] = (d["exploitability"], d["avg_exploitability"], gap)
    if not pts:
        sys.exit(f"{path}: no evaluation lines with exploitability")
    return sorted((g, *v) for g, v in pts.items())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--csv")
    ap.add_argument("--title", default="Kuhn self-play (vkt selfplay defaults)")
    ap.add_argument("--gap", action="store_true", help="a second panel: P(call | K) - P(call | J) facing a bet")
    ap.add_argument("runs", nargs="+", metavar="LABEL=metrics.jsonl")
    a = ap.parse_args()
    if a.gap:
        fig, (ax, axg) = plt.subplots(2, 1, figsize=(7, 6), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    else:
        fig, ax = plt.subplots(figsize=(7, 4))
    rows = []
    for i, spec in enumerate(a.runs):
        if "=" not in spec:
            sys.exit(f"{spec}: expected LABEL=metrics.jsonl")
        label, path = spec.split("=", 1)
        pts = read(path)
        g = [p[0] for p in pts]
        color = f"C{i}"
        ax.plot(g, [p[2] for p in pts], color=color, label=f"{label} averaged")
        ax.plot(g, [p[1] for p in pts], color=color, ls="--", lw=0.8, label=f"{label} latest")
        if a.gap:
            axg.plot(g, [p[3] for p in pts], color=color, lw=0.8, label=label)
        rows += [(label, *(p if a.gap else p[:3])) for p in pts]
    ax.axhline(0.2, color="k", ls=":", lw=0.8)
    ax.set_xlabel("" if a.gap else "self-play games")
    ax.set_ylabel("exploitability")
    if a.gap:
        axg.axhline(0.9, color="k", ls=":", lw=0.8)
        axg.set_xlabel("self-play games")
        axg.set_ylabel("K - J: P(call) vs bet")
        axg.set_ylim(0, 1.02)
        axg.legend(fontsize=7, ncol=3)
    ax.set_ylim(0, None)
    ax.set_title(a.title)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    tmp = a.out + ".tmp.png"
    fig.savefig(tmp, dpi=120)
    os.replace(tmp, a.out)
    if a.csv:
        tmp = a.csv + ".tmp"
        with open(tmp, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["label", "games", "exploitability", "avg_exploitability"] + (["call_gap"] if a.gap else []))
            w.writerows(rows)
        os.replace(tmp, a.csv)


if __name__ == "__main__":
    main()

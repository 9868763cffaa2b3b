#!/usr/bin/python3
"""Draws Delta (or another column) from a `vkt offswitch sweep` CSV.

  offswitch_plot.py --csv run.csv --out fig.png --x sigma [--y beta] [--series mu]
                    [--z delta] [--title TEXT]

--x only: a line of z against x.  --x and --series: one line per series value.
--x and --y: a heatmap of z over (x, y), with the z = 0 contour where z changes sign.
When the CSV has Monte Carlo columns, lines also show the MC estimate of Delta
(mc_v_wait - max(v_act, v_off)) with 2-standard-error bars.
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
from matplotlib.colors import TwoSlopeNorm  # noqa: E402

LABELS = {
    "sigma": "sigma: R's uncertainty (sd of U)",
    "mu": "E[U]: R's expected value of acting",
    "beta": "beta: H's noise temperature",
    "eps": "eps: probability that H errs",
    "lo": "lo (uniform prior)",
    "hi": "hi (uniform prior)",
    "delta": "Delta = V(wait) - max(V(act), V(off))",
    "v_wait": "V(wait)",
    "p_off": "P(H switches R off | wait)",
}


def label(name):
    return LABELS.get(name, name)


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"offswitch_plot: {path} has no rows")
    return rows


def column(rows, name, path):
    if name not in rows[0]:
        sys.exit(f"offswitch_plot: {path} has no column '{name}' (columns: {', '.join(rows[0])})")
    return np.array([float(r[name]) if r[name] != "" else np.nan for r in rows])


def mc_delta(rows):
    """MC estimate of Delta and its SE, or None when the CSV has no Monte Carlo values."""
    if not rows[0].get("mc_v_wait"):
        return None
    v = np.array([float(r["mc_v_wait"]) for r in rows])
    se = np.array([float(r["mc_v_wait_se"]) for r in rows])
    base = np.maximum(np.array([float(r["v_act"]) for r in rows]), np.array([float(r["v_off"]) for r in rows]))
    return v - base, se


def line_plot(ax, rows, args):
    x = column(rows, args.x, args.csv)
    z = column(rows, args.z, args.csv)
    mc = mc_delta(rows) if args.z == "delta" else None
    groups = [(None, np.ones(len(rows), bool))]
    if args.series:
        s = column(rows, args.series, args.csv)
        order = list(dict.fromkeys(s.tolist()))  # in the order the sweep listed them
        groups = [(v, s == v) for v in order]
    for v, m in groups:
        idx = np.argsort(x[m])
        name = "exact" if v is None else f"{args.series} = {v:g}"
        (ln,) = ax.plot(x[m][idx], z[m][idx], label=name, lw=2)
        if mc is not None:
            ax.errorbar(x[m][idx], mc[0][m][idx], yerr=2 * mc[1][m][idx], fmt=".", ms=3, color=ln.get_color(),
                        alpha=0.6, label="Monte Carlo (2 SE)" if v is None else f"{name} (MC, 2 SE)")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel(label(args.x))
    ax.set_ylabel(label(args.z))
    if args.series or mc is not None:
        ax.legend()
    ax.grid(alpha=0.3)


def heatmap(fig, ax, rows, args):
    x = column(rows, args.x, args.csv)
    y = column(rows, args.y, args.csv)
    z = column(rows, args.z, args.csv)
    xs, ys = np.unique(x), np.unique(y)
    grid = np.full((len(ys), len(xs)), np.nan)
    grid[np.searchsorted(ys, y), np.searchsorted(xs, x)] = z
    lo, hi = np.nanmin(grid), np.nanmax(grid)
    if lo < 0 < hi:
        norm, cmap = TwoSlopeNorm(vmin=lo, vcenter=0, vmax=hi), "RdBu_r"
    else:
        norm, cmap = None, "viridis"
    im = ax.pcolormesh(xs, ys, grid, shading="nearest", cmap=cmap, norm=norm)
    cb = fig.colorbar(im, ax=ax)
    cb.set_label(label(args.z))
    if lo < 0 < hi:
        cs = ax.contour(xs, ys, grid, levels=[0], colors="k", linewidths=1.2)
        ax.clabel(cs, fmt={0: f"{args.z} = 0"}, fontsize=8)
    ax.set_xlabel(label(args.x))
    ax.set_ylabel(label(args.y))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--csv", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--x", required=True)
    p.add_argument("--y")
    p.add_argument("--series")
    p.add_argument("--z", default="delta")
    p.add_argument("--title")
    args = p.parse_args()
    rows = read(args.csv)
    fig, ax = plt.subplots(figsize=(7, 5))
    if args.y:
        heatmap(fig, ax, rows, args)
    else:
        line_plot(ax, rows, args)
    if args.title:
        ax.set_title(args.title)
    fig.tight_layout()
    root, ext = os.path.splitext(args.out)
    tmp = f"{root}.tmp.{os.getpid()}{ext or '.png'}"
    fig.savefig(tmp, dpi=120)
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()

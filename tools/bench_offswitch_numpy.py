#!/usr/bin/python3
"""Vectorised numpy baseline for the off-switch Monte Carlo (the `vkt bench offswitch` ratio).

Estimates V(wait) = E[pi_H(U) U] and P(off | wait) = E[1 - pi_H(U)] for a normal prior
U ~ N(mu, sigma^2) and a Boltzmann human pi_H(u) = 1 / (1 + exp(-u / beta)), the same
Rao-Blackwellised estimator as games/offswitch_mc_cpu.c, in chunks, sums in float64.
Prints one JSON object: samples, seconds, samples_per_s, the estimates and their
standard errors. Run with /usr/bin/python3 (Debian's numpy).

  bench_offswitch_numpy.py [--samples N] [--mu M] [--sigma S] [--beta B] [--seed S]
                           [--chunk C] [--bitgen philox|pcg64] [--dtype float64|float32]
"""
import argparse
import json
import sys
import time

import numpy as np


def estimate(args):
    bitgen = np.random.Philox(args.seed) if args.bitgen == "philox" else np.random.PCG64(args.seed)
    rng = np.random.Generator(bitgen)
    dt = np.dtype(args.dtype)
    n_left = args.samples
    # Per-chunk (count, mean, M2) merged with Chan's formula, like the C and GPU paths.
    stats = {"x": [0.0, 0.0, 0.0], "y": [0.0, 0.0, 0.0]}

    def merge(s, n, mean, m2):
        na, ma, m2a = s
        tot = na + n
        d = mean - ma
        s[0], s[1], s[2] = tot, ma + d * n / tot, m2a + m2 + d * d * na * n / tot

    while n_left > 0:
        n = min(args.chunk, n_left)
        u = rng.standard_normal(n, dtype=dt)
        u *= dt.type(args.sigma)
        u += dt.type(args.mu)
        # logistic(u / beta) = (1 + tanh(u / (2 beta))) / 2: no overflow for any u.
        pi = np.tanh(u * dt.type(0.5 / args.beta))
        pi += 1
        pi *= 0.5
        x = pi * u
        y = 1 - pi
        for key, v in (("x", x), ("y", y)):
            mean = float(np.mean(v, dtype=np.float64))
            m2 = float(np.sum(np.square(v - mean, dtype=np.float64)))
            merge(stats[key], n, mean, m2)
        n_left -= n
    out = {}
    for key, name in (("x", "v_wait"), ("y", "p_off")):
        n, mean, m2 = stats[key]
        out[name] = mean
        out[name + "_se"] = (m2 / (n - 1) / n) ** 0.5
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--samples", type=float, default=2e7)
    p.add_argument("--mu", type=float, default=0.3)
    p.add_argument("--sigma", type=float, default=1.2)
    p.add_argument("--beta", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--chunk", type=int, default=1 << 22)
    p.add_argument("--bitgen", choices=["philox", "pcg64"], default="philox")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    args = p.parse_args()
    args.samples = int(args.samples)
    if args.samples < 2 or args.sigma < 0 or args.beta <= 0 or args.chunk < 1:
        sys.exit("bench_offswitch_numpy: need samples >= 2, sigma >= 0, beta > 0, chunk >= 1")
    t0 = time.perf_counter()
    est = estimate(args)
    dt = time.perf_counter() - t0
    res = {
        "bench": "offswitch",
        "impl": "numpy",
        "numpy": np.__version__,
        "bitgen": args.bitgen,
        "dtype": args.dtype,
        "prior": f"normal:mu={args.mu:g},sigma={args.sigma:g}",
        "human": f"boltzmann:beta={args.beta:g}",
        "samples": args.samples,
        "seconds": dt,
        "samples_per_s": args.samples / dt,
        "mc_v_wait": est["v_wait"],
        "mc_se": est["v_wait_se"],
        "mc_p_off": est["p_off"],
        "mc_p_off_se": est["p_off_se"],
    }
    print(json.dumps(res))


if __name__ == "__main__":
    main()

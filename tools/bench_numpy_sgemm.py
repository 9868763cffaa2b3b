#!/usr/bin/python3
"""Times OpenBLAS sgemm through numpy on the shapes `vkt bench matmul` uses, so the two can
be compared in one run. Prints one JSON object per line (op, variant, m, n, k, ms, gflops)
and first a line naming the BLAS kernel that ran (threadpoolctl if installed, else
numpy's build config).

  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 tools/bench_numpy_sgemm.py
  ... --m M --n N --k K [--ta] [--tb]   one product
"""
import argparse
import io
import json
import contextlib
import time

import numpy as np


def blas_info():
    try:
        from threadpoolctl import threadpool_info
        return [{k: d.get(k) for k in ("internal_api", "version", "architecture", "num_threads", "filepath")}
                for d in threadpool_info() if d.get("user_api") == "blas"]
    except ImportError:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            np.show_config()
        return {"numpy_show_config": buf.getvalue()}


def bench(m, n, k, ta, tb, reps=5, min_s=0.2):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((k, m) if ta else (m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
    A = a.T if ta else a  # views: numpy passes the transpose flag to sgemm, no copy
    B = b.T if tb else b
    C = np.empty((m, n), dtype=np.float32)
    np.matmul(A, B, out=C)  # warm-up
    times = []
    start = time.perf_counter()
    while len(times) < reps or time.perf_counter() - start < min_s:
        t0 = time.perf_counter()
        np.matmul(A, B, out=C)
        times.append((time.perf_counter() - t0) * 1e3)
        if len(times) >= 1000:
            break
    ms = float(np.median(times))
    variant = ("T" if ta else "N") + ("T" if tb else "N") + " numpy-openblas"
    return {"op": "matmul", "variant": variant, "m": m, "n": n, "k": k, "ms": round(ms, 6),
            "gflops": round(2.0 * m * n * k / (ms * 1e6), 4)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--m", type=int)
    ap.add_argument("--n", type=int)
    ap.add_argument("--k", type=int)
    ap.add_argument("--ta", action="store_true")
    ap.add_argument("--tb", action="store_true")
    args = ap.parse_args()
    print(json.dumps({"blas": blas_info(), "numpy": np.__version__}))
    if args.m or args.n or args.k:
        if not (args.m and args.n and args.k):
            ap.error("give all of --m, --n and --k")
        shapes = [(args.m, args.n, args.k, args.ta, args.tb)]
    else:
        shapes = [(s, s, s, False, False) for s in (256, 512, 1024, 2048)]
        shapes += [(256, 3072, 768, t & 2 != 0, t & 1 != 0) for t in range(4)]
    for m, n, k, ta, tb in shapes:
        print(json.dumps(bench(m, n, k, ta, tb)), flush=True)


if __name__ == "__main__":
    main()

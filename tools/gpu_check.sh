#!/bin/sh
# gpu_check.sh [OUT_DIR] [options]: what a GPU machine runs to measure vkt on it. Builds
# (tools/setup.sh, as the README does), runs the tests, saves `vkt devices --json`, runs
# each benchmark the discrete-GPU work is judged by with --json, and prints every figure
# as a fraction of the device's peak (tools/gpu_peaks.json). Not part of CI.
#
#   --quick           small shapes, a few seconds a benchmark (a check of the script itself)
#   --no-tests        skip ctest
#   --no-build        use the build there is (BUILD_DIR/vkt) without building
#   --build-dir DIR   build with cmake into DIR instead of tools/setup.sh into ./build
#   --device N        the device to measure (also VKT_DEVICE)
#   --timeout S       seconds each benchmark may run (default 600, 120 with --quick)
#   --peak F,B,M      the device's fp32 TFLOPS, bf16 TFLOPS and memory GB/s, for a GPU
#                     the table does not know
#
# Exit status: 0 everything ran; 1 the build or the tests failed (it stops there) or a
# benchmark failed or timed out (it goes on, and says so); 2 bad usage. A benchmark vkt
# refuses as bad usage (exit 2: "unknown option '--precision'", an unknown entry) is one
# this build does not have: "not available in this build", not a failure.
set -eu
cd "$(dirname "$0")/.."

usage() { sed -n '2,/^set -eu/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

# need FLAG COUNT: a flag's value is missing.
need() { [ "$2" -ge 2 ] || { echo "gpu_check: $1 needs a value (see --help)" >&2; exit 2; }; }
OUT=./gpu-check-out QUICK=0 TESTS=1 BUILD=1 BUILD_DIR="" DEVICE="${VKT_DEVICE:-}" STEP_TIMEOUT="" PEAK=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --no-tests) TESTS=0 ;;
    --no-build) BUILD=0 ;;
    --build-dir) need "$1" $#; BUILD_DIR=$2; shift ;;
    --device) need "$1" $#; DEVICE=$2; shift ;;
    --timeout) need "$1" $#; STEP_TIMEOUT=$2; shift ;;
    --peak) need "$1" $#; PEAK=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "gpu_check: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) OUT=$1 ;;
  esac
  shift
done
if [ -n "$PEAK" ] && ! echo "$PEAK" | grep -Eq '^[0-9.]+,[0-9.]+,[0-9.]+$'; then
  echo "gpu_check: --peak wants FP32_TFLOPS,BF16_TFLOPS,MEM_GBPS (e.g. 67,989,3350), not '$PEAK'" >&2; exit 2
fi
case $STEP_TIMEOUT in
  *[!0-9]*) echo "gpu_check: --timeout wants whole seconds, not '$STEP_TIMEOUT'" >&2; exit 2 ;;
esac
[ -n "$STEP_TIMEOUT" ] || { [ "$QUICK" = 1 ] && STEP_TIMEOUT=120 || STEP_TIMEOUT=600; }
command -v python3 >/dev/null || { echo "gpu_check: python3 is needed for the summary" >&2; exit 1; }
command -v timeout >/dev/null || { echo "gpu_check: timeout (coreutils) is needed" >&2; exit 1; }
mkdir -p "$OUT/bench"
OUT=$(cd "$OUT" && pwd)
rm -f "$OUT"/bench/* "$OUT/steps.tsv"

fail() { echo "gpu_check: FAILED: $*" >&2; exit 1; }

# 1. Build, as the README does (tools/setup.sh, which installs what is missing: root only
# then), or with cmake into --build-dir.
SETUP=0
if [ -z "$BUILD_DIR" ]; then BUILD_DIR=build SETUP=1; fi
if [ "$BUILD" = 1 ]; then
  echo "== build (log: $OUT/build.log)"
  if [ "$SETUP" = 1 ]; then
    set -- ; [ "$TESTS" = 1 ] && set -- --tests
    sh tools/setup.sh "$@" >"$OUT/build.log" 2>&1 || { tail -n 30 "$OUT/build.log" >&2; fail "the build failed"; }
  else
    { cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
      cmake --build "$BUILD_DIR" -j"$(nproc)"; } >"$OUT/build.log" 2>&1 ||
      { tail -n 30 "$OUT/build.log" >&2; fail "the build failed"; }
  fi
fi
VKT=$BUILD_DIR/vkt
[ -x "$VKT" ] || fail "no $VKT (build first, or drop --no-build)"

# 2. The tests, on the device the tests pick (the default GPU, with the validation layer).
if [ "$TESTS" = 1 ]; then
  echo "== tests (log: $OUT/ctest.log)"
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j"${GPU_CHECK_JOBS:-4}" >"$OUT/ctest.log" 2>&1 ||
    { grep -E "tests passed|Failed|\*\*\*" "$OUT/ctest.log" | tail -n 30 >&2
      fail "the tests failed (see $OUT/ctest.log)"; }
  grep "tests passed" "$OUT/ctest.log" || true
fi

# 3. The devices.
"$VKT" devices --json >"$OUT/devices.json.tmp" 2>"$OUT/devices.err" || fail "vkt devices --json (see $OUT/devices.err)"
mv "$OUT/devices.json.tmp" "$OUT/devices.json"

# 4. The benchmarks: one vkt call a step, its JSON lines in bench/NAME.jsonl, how it ended in
# steps.tsv (name, exit status, first line of stderr).
COMMON="--json"
[ -n "$DEVICE" ] && COMMON="$COMMON --device $DEVICE"
[ "$QUICK" = 1 ] && COMMON="$COMMON --reps 2 --min-time 0"
bench() {
  name=$1; shift
  printf '%-28s ' "$name"
  rc=0
  # shellcheck disable=SC2086
  timeout -k 30 "$STEP_TIMEOUT" "$VKT" bench "$@" $COMMON \
    >"$OUT/bench/$name.jsonl.tmp" 2>"$OUT/bench/$name.err" || rc=$?
  mv "$OUT/bench/$name.jsonl.tmp" "$OUT/bench/$name.jsonl"
  # The last line vkt wrote to stderr says why it stopped (the first may be a CPU-device warning).
  msg=$(grep -v '^ *$' "$OUT/bench/$name.err" | tail -n 1 | tr '\t' ' ')
  case $rc in
    0) echo "ok" ;;
    2) echo "not available in this build: $msg" ;;
    124) echo "timed out after ${STEP_TIMEOUT}s" ;;
    *) echo "failed (exit $rc): $msg" ;;
  esac
  printf '%s\t%s\t%s\t%s\n' "$name" "$rc" "$msg" "$*" >>"$OUT/steps.tsv"
}

echo "== benchmarks ($VKT bench ... $COMMON, at most ${STEP_TIMEOUT}s each; output: $OUT/bench)"
if [ "$QUICK" = 1 ]; then SQUARES="128 256" TOK=64; else SQUARES="512 1024 2048 4096 8192" TOK=8192; fi
for s in $SQUARES; do
  bench "matmul_${s}_NN" matmul --m "$s" --n "$s" --k "$s"
  bench "matmul_${s}_NT" matmul --m "$s" --n "$s" --k "$s" --tb
  bench "matmul_${s}_TN" matmul --m "$s" --n "$s" --k "$s" --ta
  bench "matmul_${s}_TT" matmul --m "$s" --n "$s" --k "$s" --ta --tb
done
# 16-bit weights (B) beside fp32 on the largest square.
for s in $SQUARES; do last=$s; done
bench "matmul_${last}_NN_bf16" matmul --m "$last" --n "$last" --k "$last" --dtype bf16
bench "matmul_${last}_NT_bf16" matmul --m "$last" --n "$last" --k "$last" --tb --dtype bf16

# GPT-2 124M's linear layers at B 8 T 1024 (TOK tokens; 64 with --quick) as the trainer
# calls them: forward x W (NN; the tied head x E^T, NT), input gradient dy W^T (NT; head
# NN) and weight gradient x^T dy (TN, K = tokens).
for l in "qkv 768 2304" "attn_out 768 768" "fc 768 3072" "proj 3072 768"; do
  # shellcheck disable=SC2086
  set -- $l
  bench "gpt2_${1}_fwd" matmul --m "$TOK" --n "$3" --k "$2"
  bench "gpt2_${1}_dx" matmul --m "$TOK" --n "$2" --k "$3" --tb
  bench "gpt2_${1}_dw" matmul --m "$2" --n "$3" --k "$TOK" --ta
done
bench gpt2_head_fwd matmul --m "$TOK" --n 50257 --k 768 --tb
bench gpt2_head_dx matmul --m "$TOK" --n 768 --k 50257
bench gpt2_head_dw matmul --m 50257 --n 768 --k "$TOK" --ta

if [ "$QUICK" = 1 ]; then
  bench attention attention --b 1 --t 64 --h 12 --d 64
  bench cross_entropy loss --N 64 --V 50257
  bench adamw optim --n 1000000
  bench bandwidth elementwise --n 1048576
  bench train_fp32 train --preset gpt2-tiny --batch 2 --seq 32
  bench train_bf16 train --preset gpt2-tiny --batch 2 --seq 32 --precision bf16
else
  bench attention attention --b 8 --t 1024 --h 12 --d 64
  bench cross_entropy loss --N 8192 --V 50257
  bench adamw optim
  bench bandwidth elementwise --n 67108864
  bench train_fp32 train --preset gpt2-124M --batch 8 --seq 1024
  bench train_bf16 train --preset gpt2-124M --batch 8 --seq 1024 --precision bf16
fi

# 5. The summary: each figure, its fraction of the device's peak, and the ratio to a
# reference where the benchmark reports one.
GPU_CHECK_DEVICE="$DEVICE" GPU_CHECK_PEAK="$PEAK" python3 - "$OUT" tools/gpu_peaks.json <<'PY'
import json, os, re, sys

out, peaks_path = sys.argv[1], sys.argv[2]


def load_lines(path):
    rows = []
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if line.startswith("{"):
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    pass
    return rows


def device_name():
    devs = json.load(open(os.path.join(out, "devices.json")))
    want = os.environ.get("GPU_CHECK_DEVICE", "")
    for d in devs:
        if (want != "" and str(d.get("index")) == want) or (want == "" and d.get("default")):
            return d
    return devs[0] if devs else {}


def find_peak(name):
    given = os.environ.get("GPU_CHECK_PEAK", "")
    if given:
        f, b, m = (float(x) for x in given.split(","))
        return {"name": "given by --peak", "fp32_tflops": f, "bf16_tflops": b, "mem_gbps": m, "source": "--peak"}
    for g in json.load(open(peaks_path))["gpus"]:
        if re.search(g["match"], name, re.I):
            return g
    return None


dev = device_name()
name = dev.get("name", "?")
peak = find_peak(name)
lines = ["device: %s (%s, %s, driver %s)" % (name, dev.get("vendor"), dev.get("type"), dev.get("driver"))]
if peak:
    lines.append("peak:   %s: fp32 %g TFLOPS, bf16 %g TFLOPS (dense), memory %g GB/s  [%s]"
                 % (peak["name"], peak["fp32_tflops"], peak["bf16_tflops"], peak["mem_gbps"], peak["source"]))
else:
    lines.append("peak:   unknown (no entry of tools/gpu_peaks.json matches this name; --peak F,B,M gives one)")


def frac(value, kind):
    """value in GFLOP/s (kind fp32/bf16) or GB/s (kind mem), as a percentage of the peak."""
    if not peak:
        return "peak unknown"
    p = {"fp32": peak["fp32_tflops"] * 1e3, "bf16": peak["bf16_tflops"] * 1e3, "mem": peak["mem_gbps"]}[kind]
    pct = 100.0 * value / p
    return ("%.1f%% %s" if pct >= 1 else "%.2g%% %s") % (pct, kind)


def ref_ratio(r):
    # vkt's speed over a reference's (above 1: faster), where the benchmark's line carries
    # one: a ratio, or the reference's time.
    if isinstance(r.get("ratio"), (int, float)):
        return "%.2fx the reference" % r["ratio"]
    mine = r.get("ms", r.get("ms_per_step"))
    for k in ("ref_ms", "torch_ms", "ref_ms_per_step", "torch_ms_per_step"):
        if isinstance(r.get(k), (int, float)) and mine:
            return "%.2fx %s" % (r[k] / mine, k.split("_")[0])
    return "-"


def train_row(r):
    # Model FLOPs per token: 6 N + 12 L C T (nanoGPT's MFU estimate, attention not halved).
    tok = r.get("tokens_per_s", 0)
    fpt = 6.0 * r.get("params", 0) + 12.0 * r.get("layers", 0) * r.get("width", 0) * r.get("seq", 0)
    gflops = fpt * tok / 1e9
    prec = r.get("precision", "fp32")
    shown = frac(gflops, "fp32") if prec == "fp32" or not peak else frac(gflops, "bf16") + ", " + frac(gflops, "fp32")
    extra = "".join(" %s %s" % (k, r[k]) for k in ("host_waits_per_step", "bytes_moved_per_step") if k in r)
    fig = "%.1f ms/step %.0f tok/s %.0f GFLOP/s%s" % (r.get("ms_per_step", 0), tok, gflops, extra)
    what = "%s B%s T%s %s" % (r.get("preset", "?"), r.get("batch", "?"), r.get("seq", "?"), prec)
    return what, fig, "MFU " + shown, gflops


def kernel_row(r):
    shape = "x".join(str(r[k]) for k in ("m", "n", "k") if isinstance(r.get(k), int) and r[k] >= 0)
    what = "%s %s %s" % (r.get("op"), r.get("variant", ""), shape)
    gf, gb = r.get("gflops", 0) or 0, r.get("gbps", 0) or 0
    # Matmul and attention are compute-bound: against the FLOP peak (fp32 arithmetic, even
    # with 16-bit operands); everything else against memory bandwidth.
    compute = r.get("op", "").startswith(("matmul", "attention")) and gf > 0
    if compute:
        fig = "%.1f GFLOP/s (%.3f ms)" % (gf, r.get("ms", 0))
        return what, fig, frac(gf, "fp32"), gf
    fig = "%.1f GB/s (%.3f ms)" % (gb, r.get("ms", 0))
    return what, fig, frac(gb, "mem") if gb > 0 else "-", gb


table, records, failed = [], [], 0
for step in open(os.path.join(out, "steps.tsv")):
    sname, rc, msg, args = (step.rstrip("\n").split("\t") + ["", "", ""])[:4]
    rc = int(rc)
    rows = load_lines(os.path.join(out, "bench", sname + ".jsonl"))
    if sname.endswith("_bf16") and sname.startswith("matmul"):
        rows = [r for r in rows if "bf16" in r.get("variant", "")]  # fp32 twin is timed already
    if rc != 0 or not rows:
        why = {0: "no figures", 2: "not available in this build", 124: "timed out"}.get(rc, "failed (exit %d)" % rc)
        failed += rc != 2  # a step that ran but printed no figures counts too
        table.append((sname, why + (": " + msg if msg and rc != 124 else "") + "  (vkt bench " + args + ")"))
        records.append({"step": sname, "args": args, "status": why, "message": msg})
        continue
    for r in rows:
        what, fig, fr, val = train_row(r) if r.get("op") == "train" else kernel_row(r)
        table.append((sname, what, fig, fr, ref_ratio(r)))
        records.append({"step": sname, "result": r, "value": val, "of_peak": fr, "vs_ref": ref_ratio(r)})

# Rows of a step with no figures (t has 2 cells: step, why) span the columns after the first.
head = ("step", "what", "figure", "of peak", "vs ref")
w = [max(len(t[i]) for t in table + [head] if len(t) == 5 or i == 0) for i in range(5)]
lines.append("")
for t in [head] + table:
    lines.append("  ".join(c.ljust(w[i]) for i, c in enumerate(t)).rstrip())
text = "\n".join(lines) + "\n"
sys.stdout.write("\n" + text)
for fn, data in (("summary.txt", text), ("summary.json", json.dumps(
        {"device": dev, "peak": peak, "figures": records}, indent=1) + "\n")):
    with open(os.path.join(out, fn + ".tmp"), "w") as f:
        f.write(data)
    os.replace(os.path.join(out, fn + ".tmp"), os.path.join(out, fn))
if failed:
    sys.stderr.write("gpu_check: %d benchmark step(s) failed or timed out (see %s/bench/*.err)\n" % (failed, out))
sys.exit(1 if failed else 0)
PY

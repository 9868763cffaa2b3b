#!/bin/sh
# ci_fuzz.sh: CI's third stage (.ci/run): every libFuzzer target (tests/fuzz_*.c) built with
# clang (-DVKT_FUZZ=ON, ASan + UBSan) into build-fuzz and run for VKT_FUZZ_SECONDS (20) on
# its seed corpus tests/fuzz_corpus/<target>. A crash, leak, timeout (> 10 s on one input)
# or sanitizer finding fails; the input is saved in build-fuzz/fuzz_artifacts/.
# Longer runs by hand: docs/reliability.md.
set -eu
cd "$(dirname "$0")/.."
B="${VKT_FUZZ_BUILD:-build-fuzz}"
if ! command -v clang >/dev/null; then
  echo "ci_fuzz: clang not found: apt-get install clang libclang-rt-dev" >&2
  exit 1
fi

cmake -S . -B "$B" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVKT_TESTS=OFF \
  -DVKT_FUZZ=ON -DVKT_FUZZ_SECONDS="${VKT_FUZZ_SECONDS:-20}" >/dev/null
cmake --build "$B" --target fuzz -j"$(nproc)"
ctest --test-dir "$B" -L fuzz --output-on-failure -j2

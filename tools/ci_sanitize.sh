#!/bin/sh
# ci_sanitize.sh: CI's second stage (.ci/run): vkt built with ASan + UBSan (-DVKT_SANITIZE=ON)
# into build-asan, and the fast tests run under it, the GPU ones on lavapipe with the
# validation layer. Any sanitizer finding fails its test; leaks are checked, the Vulkan
# stack's own suppressed by tests/lsan.supp. The long self-play tests (minutes each even
# without sanitizers) and the PyTorch check of pretrained checkpoints (a script, vkt run as a
# process) are left to the first stage. See docs/reliability.md.
# Usage: sh tools/ci_sanitize.sh [extra ctest arguments]
set -eu
cd "$(dirname "$0")/.."
B="${VKT_ASAN_BUILD:-build-asan}"
FIXTURES="${VKT_FIXTURES:-${XDG_CACHE_HOME:-$HOME/.cache}/vkt/fixtures}"
SKIP='^(test_selfplay(_cli|_games|_think|_pretrained)?|pretrained_check)$'

cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVKT_SANITIZE=ON \
  -DVKT_FIXTURES_DIR="$FIXTURES" >/dev/null
cmake --build "$B" -j"$(nproc)"
ctest --test-dir "$B" --output-on-failure -j2 -E "$SKIP" "$@"

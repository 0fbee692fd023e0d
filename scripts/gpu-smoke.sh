#!/usr/bin/env bash
# Builds and runs tests/gpu/cuda_smoke against a CUDA LibTorch, e.g. the one inside a
# PyTorch wheel:  scripts/gpu-smoke.sh "$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')/Torch"
# Extra include directories (nlohmann, sqlite3.h, zlib.h when the machine lacks the -dev
# packages) can be passed as OMNILAB_EXTRA_INCLUDE.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
torch_dir="${1:?usage: scripts/gpu-smoke.sh TORCH_CMAKE_DIR}"
out="${OMNILAB_GPU_BUILD:-$root/build-gpu/b}"
cmake -S "$root/tests/gpu" -B "$out" -DTorch_DIR="$torch_dir" -DCMAKE_BUILD_TYPE=Release \
  -DOMNILAB_EXTRA_INCLUDE="${OMNILAB_EXTRA_INCLUDE:-}" >/dev/null
cmake --build "$out" -j "$(nproc)"
"$out/cuda_smoke"

#!/usr/bin/env bash
# Measures a clean build (ccache off, so it is honest) and two one-file incremental
# rebuilds, in a separate build folder. Prints a Markdown table. Usage: bench/build_times.sh [jobs]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs="${1:-2}"
dir="$(mktemp -d /tmp/omnilab-buildbench.XXXX)"
trap 'rm -rf "$dir"' EXIT
export CCACHE_DISABLE=1
cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
t0=$(date +%s.%N); cmake --build "$dir" -j "$jobs" >/dev/null; t1=$(date +%s.%N)
clean=$(echo "$t1 - $t0" | bc)
touch "$root/core/engine/Trainer.cpp"
t0=$(date +%s.%N); cmake --build "$dir" -j "$jobs" >/dev/null; t1=$(date +%s.%N)
torch_tu=$(echo "$t1 - $t0" | bc)
touch "$root/ui/docks/TrainingDock.cpp"
t0=$(date +%s.%N); cmake --build "$dir" -j "$jobs" >/dev/null; t1=$(date +%s.%N)
ui_tu=$(echo "$t1 - $t0" | bc)
printf '| build (-j%s, ccache off) | seconds | ratio to clean |\n|---|---|---|\n' "$jobs"
printf '| clean build of everything (baseline) | %.0f | 1.00 |\n' "$clean"
printf '| one torch file touched (core/engine/Trainer.cpp) | %.0f | %.3f |\n' "$torch_tu" "$(echo "$torch_tu / $clean" | bc -l)"
printf '| one UI file touched (ui/docks/TrainingDock.cpp) | %.0f | %.3f |\n' "$ui_tu" "$(echo "$ui_tu / $clean" | bc -l)"

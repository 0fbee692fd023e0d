#!/usr/bin/env bash
# MTAL's cost, printed as Markdown for docs/BENCHMARKS.md: a training step of three task
# networks with kernel-pair sharing against the same networks with sharing off (the
# baseline, measured in the same run), and the pair selection alone (every layer's cosine
# similarities, one matrix product per task and layer) as a share of the shared step.
# Usage: bench/mtal_bench.sh [STEPS]   (needs: scripts/omnilab build)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bin="${OMNILAB_BUILD_DIR:-$root/build}/bin"
steps="${1:-20}"
out="$(mktemp -d /tmp/omnilab-mtal-bench.XXXX)"
echo "| widths | batch | step, sharing off (baseline) | step, MTAL (random init) | ratio | step, MTAL (all kernels paired) | ratio | pair selection alone | share of the MTAL step |"
echo "|---|---|---|---|---|---|---|---|---|"
for scale in 1 4; do
  for batch in 8 32; do
    "$bin/omnilab-bench-mtal" "$batch" "$steps" "$scale" > "$out/$scale-$batch.json"
    python3 - "$out/$scale-$batch.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"| {', '.join(map(str, r['widths']))} | {r['batch']} | {r['step_ms_independent']:.1f} ms | {r['step_ms_sharing']:.1f} ms | "
      f"{r['sharing_overhead']:.2f} | {r['step_ms_all_shared']:.1f} ms | {r['all_shared_overhead']:.2f} | "
      f"{r['similarity_ms']:.2f} ms | {100 * r['similarity_share_of_step']:.1f} % |")
PY
  done
done

#!/usr/bin/env bash
# OmniNet speed, printed as Markdown for docs/BENCHMARKS.md:
#  1. CNP training steps/s at the reference sizes (d_model 512, 6 + 6 layers, 8 heads), batch 8
#     and 32, Omnilab's LibTorch C++ against the same model in PyTorch (bench/cnp_throughput.py
#     on Debian's python3-torch, the same LibTorch 1.13), run alternately in this script;
#     the share of the measured sgemm rate a step reaches; peak resident memory.
#  2. HogWild against synchronous round-robin training of omninet-4task (4 tasks) on the demo data.
# Usage: bench/omninet_bench.sh [STEPS]   (needs: scripts/omnilab build, apt-get install python3-torch, demo data)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bin="${OMNILAB_BUILD_DIR:-$root/build}/bin"
steps="${1:-10}"
python=/usr/bin/python3
$python -c "import torch" 2>/dev/null || { echo "needs Debian's python3-torch (apt-get install python3-torch)" >&2; exit 1; }
out="$(mktemp -d /tmp/omnilab-omninet-bench.XXXX)"

echo "| batch | Omnilab (LibTorch C++) steps/s | PyTorch (Python) steps/s | ratio C++ / Python | step GFLOP/s | share of sgemm ($(nproc) threads) | peak RSS C++ / Python (MiB) |"
echo "|---|---|---|---|---|---|---|"
for batch in 8 32; do
  n=$(( batch == 8 ? steps : (steps + 1) / 2 ))
  "$bin/omnilab-bench-cnp" "$batch" "$n" "$(nproc)" > "$out/cpp-$batch.json"
  $python bench/cnp_throughput.py "$batch" "$n" "$(nproc)" > "$out/py-$batch.json"
  $python - "$out/cpp-$batch.json" "$out/py-$batch.json" <<'PY'
import json, sys
c, p = (json.load(open(f)) for f in sys.argv[1:3])
print(f"| {c['batch']} | {c['steps_per_s']:.3f} | {p['steps_per_s']:.3f} | {c['steps_per_s'] / p['steps_per_s']:.2f} | "
      f"{c['step_gflops']:.1f} | {c['step_gflops'] / c['sgemm_gflops']:.2f} of {c['sgemm_gflops']:.1f} GFLOP/s | {c['peak_rss_mib']:.0f} / {p['peak_rss_mib']:.0f} |")
PY
done

echo
echo "| omninet-4task, 4 tasks | samples/s | ratio to synchronous |"
echo "|---|---|---|"
for mode in synchronous hogwild; do
  $python - resources/experiments/omninet-4task.json "$out/$mode.json" "$mode" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["training"].update({"mode": sys.argv[3], "eval_every": 0, "checkpoint_every": 0, "log_every": 50})
json.dump(d, open(sys.argv[2], "w"))
PY
  "$bin/omnilab-cli" train "$out/$mode.json" --run-dir "$out/runs/$mode" --steps 300 > "$out/$mode.log"
  grep -o '[0-9.]* samples/s' "$out/$mode.log" | tail -1 | awk '{print $1}' > "$out/$mode.rate"
done
sync=$(cat "$out/synchronous.rate"); hog=$(cat "$out/hogwild.rate")
echo "| synchronous round-robin (baseline) | $sync | 1.00 |"
echo "| HogWild, a worker thread per task | $hog | $(echo "scale=2; $hog / $sync" | bc) |"

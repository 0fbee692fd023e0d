#!/usr/bin/env bash
# bf16 autocast against fp32 on this machine (issue 18), written as the "Precision" section of
# docs/BENCHMARKS.md: every ratio against fp32 measured in the same run.
#   1. 1024² matrix products, fp32 and bf16 (omnilab-bench-cnp prints both rates);
#   2. OmniNet's CNP training step at the reference sizes, batch 8 and 32 (omnilab-bench-cnp);
#   3. training throughput of whole experiments (samples/s from the run store, the median after
#      the first fifth): Fashion-MNIST, the demo's vision pre-training, and the MULT-4 demo with
#      its vision network trained too;
#   4. the quality guard: Fashion-MNIST's full run per seed in fp32 and in bf16, test accuracy
#      mean ± std (OMNILAB_BENCH_JOBS=2 trains two at a time on one thread each).
# Parts 1-3 run one at a time on every core. Usage: bench/precision.sh [SEED...] (default 1 2 3)
# Needs: scripts/omnilab build; demo data in demo-data/ (scripts/omnilab demo, or
# omnilab-cli make-demo-data --out demo-data --scale small).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bin="${OMNILAB_BUILD_DIR:-$root/build}/bin"
cli="$bin/omnilab-cli"
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2 3)
out="$(mktemp -d /tmp/omnilab-precision.XXXX)"
source "$root/bench/lib.sh"
[ -d demo-data/hmdb ] || { echo "precision.sh: no demo data in demo-data/ (run: $cli make-demo-data --out demo-data --scale small)" >&2; exit 2; }
cores=$(nproc)

# This machine's speed drifts (a shared virtual machine: one run of this script measured fp32
# products at 82 GFLOP/s, the next at 204). So every speed is measured in `rounds` rounds that
# alternate fp32 and bf16, and the best of each is kept.
rounds=3
echo "precision.sh: speed (one run at a time, $cores threads, best of $rounds alternating rounds)" >&2
for round in $(seq "$rounds"); do
  for batch in 8 32; do
    for p in fp32 bf16; do
      OMNILAB_PRECISION=$p "$bin/omnilab-bench-cnp" "$batch" 6 "$cores" > "$out/cnp-$p-$batch-$round.json"
    done
  done
done

# Whole experiments: the samples/s the trainer records, without evaluations or checkpoints.
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
fashion = json.load(open("resources/experiments/fashion-mnist.json"))
fashion["training"].update({"eval_every": 0, "checkpoint_every": 0, "log_every": 10})
json.dump(fashion, open(f"{out}/fashion-speed.json", "w"))
demo = json.load(open("resources/experiments/omninet-demo.json"))
vision = demo["model"]["peripherals"]["vision"]
vision.pop("init_from", None)  # no pre-trained network needed: the vision network trains too
vision.pop("freeze", None)
demo["training"].update({"eval_every": 0, "checkpoint_every": 0, "log_every": 10})
for t in demo["tasks"]:
    t.pop("from_step", None)  # every task from the first step
json.dump(demo, open(f"{out}/mult4-speed.json", "w"))
vision = json.load(open("resources/experiments/shapes-vision.json"))
vision["training"].update({"eval_every": 0, "checkpoint_every": 0, "log_every": 10})
json.dump(vision, open(f"{out}/vision-speed.json", "w"))
PY
for round in $(seq "$rounds"); do
  for exp in fashion vision mult4; do
    steps=300; [ "$exp" = mult4 ] && steps=150
    for p in fp32 bf16; do
      "$cli" --precision "$p" train "$out/$exp-speed.json" --run-dir "$out/runs/$exp-speed-$p-$round" --steps "$steps" > "$out/$exp-speed-$p-$round.log" 2>&1
    done
  done
done
echo "precision.sh: speed done" >&2

echo "precision.sh: quality, seeds ${seeds[*]}" >&2
for seed in "${seeds[@]}"; do
  python3 - "$seed" "$out/fashion-$seed.json" <<'PY'
import json, sys
e = json.load(open("resources/experiments/fashion-mnist.json"))
e["training"]["seed"] = int(sys.argv[1])
json.dump(e, open(sys.argv[2], "w"))
PY
  for p in fp32 bf16; do
    in_parallel "$cli" "${threads[@]}" --precision "$p" train "$out/fashion-$seed.json" --run-dir "$out/runs/fashion-$seed-$p" > "$out/fashion-$seed-$p.log" 2>&1
  done
done
wait

commit=$(git -C "$root" rev-parse --short HEAD)
section="$out/section.md"
python3 "$root/bench/precision_report.py" "$out" "$commit" "$cores" "${jobs}" "${seeds[@]}" > "$section"
cat "$section"
python3 "$root/bench/replace_section.py" "$root/docs/BENCHMARKS.md" "$section"
echo "precision.sh: wrote the Precision section of docs/BENCHMARKS.md (scratch: $out)" >&2

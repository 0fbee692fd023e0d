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
  for p in fp32 bf16; do
    python3 - "$seed" "$out/fashion-$seed.json" <<'PY'
import json, sys
e = json.load(open("resources/experiments/fashion-mnist.json"))
e["training"]["seed"] = int(sys.argv[1])
json.dump(e, open(sys.argv[2], "w"))
PY
    in_parallel "$cli" "${threads[@]}" --precision "$p" train "$out/fashion-$seed.json" --run-dir "$out/runs/fashion-$seed-$p" > "$out/fashion-$seed-$p.log" 2>&1
  done
done
wait

commit=$(git -C "$root" rev-parse --short HEAD)
section="$out/section.md"
python3 - "$out" "$commit" "$cores" "${jobs}" "${seeds[@]}" > "$section" <<'PY'
import datetime, json, os, re, sqlite3, statistics, sys
out, commit, cores, jobs, seeds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]

def cpu():
    model, flags = "?", []
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name") and model == "?":
            model = line.split(":", 1)[1].strip()
        if line.startswith("flags") and not flags:
            flags = line.split(":", 1)[1].split()
    wanted = [f for f in flags if f.startswith("avx512") or f.startswith("amx") or f in ("avx2", "fma")]
    return model, wanted

def samples_per_s(run_dir):
    db = sqlite3.connect(f"file:{os.path.dirname(run_dir)}/omnilab.sqlite?mode=ro", uri=True)
    ids = [i for (i, d) in db.execute("SELECT id, dir FROM runs ORDER BY id") if os.path.basename(d.rstrip("/")) == os.path.basename(run_dir)]
    run = (ids[-1],) if ids else None
    if run is None:
        raise SystemExit(f"precision.sh: no run for {run_dir} in its store")
    values = [v for (v,) in db.execute("SELECT value FROM metrics WHERE run_id = ? AND name = 'samples_per_s' ORDER BY step", run)]
    if not values:
        raise SystemExit(f"precision.sh: {run_dir} recorded no samples/s")
    return statistics.median(values[len(values) // 5:])

def final_accuracy(log):
    for line in open(log):
        m = re.search(r"final test accuracy \(fashion\): ([0-9.]+)", line)
        if m:
            return float(m.group(1))
    raise SystemExit(f"precision.sh: no final accuracy in {log}")

def ms(values):
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}" if len(values) > 1 else f"{values[0]:.2f}"

model, flags = cpu()
print(f"## Precision: bf16 autocast against fp32 — generated by bench/precision.sh on {datetime.date.today()} at {commit}\n")
print(f"Processor: {model}; its flags of interest: {' '.join(flags)}. {cores} threads for the speed tables "
      f"(one measurement at a time, the best of {rounds} rounds alternating fp32 and bf16: this shared machine's speed drifts, "
      f"its fp32 1024² product measured {min(spread):.0f} to {max(spread):.0f} GFLOP/s within this run); the quality runs ran "
      + (f"{jobs} at a time on one thread each." if jobs > 1 else "one at a time.") + "\n")
rounds = 3
def best(p, b):
    runs = [json.load(open(f"{out}/cnp-{p}-{b}-{k}.json")) for k in range(1, rounds + 1)]
    return max(runs, key=lambda x: x["steps_per_s"])
r = {(p, b): best(p, b) for p in ("fp32", "bf16") for b in (8, 32)}
every = [json.load(open(f"{out}/cnp-{p}-{b}-{k}.json")) for p in ("fp32", "bf16") for b in (8, 32) for k in range(1, rounds + 1)]
g32, g16 = max(x["sgemm_gflops"] for x in every), max(x["bf16_gemm_gflops"] for x in every)
spread = [x["sgemm_gflops"] for x in every]
print("| measurement | fp32 (baseline) | bf16 | ratio |\n|---|---|---|---|")
print(f"| 1024² matrix product | {g32:.0f} GFLOP/s | {g16:.0f} GFLOP/s | {g16 / g32:.2f} |")
for b in (8, 32):
    a, c = r[("fp32", b)], r[("bf16", b)]
    print(f"| CNP training step, batch {b} (omnilab-bench-cnp) | {a['steps_per_s']:.3f} steps/s | {c['steps_per_s']:.3f} steps/s | "
          f"{c['steps_per_s'] / a['steps_per_s']:.2f} |")
for exp, label in (("fashion", "Fashion-MNIST training (small CNN, batch 64), 300 steps"),
                   ("vision", "the demo's vision pre-training (shapes-vision.json), 300 steps"),
                   ("mult4", "MULT-4 demo training (omninet-demo.json, vision network trained too), 150 steps")):
    a = max(samples_per_s(f"{out}/runs/{exp}-speed-fp32-{k}") for k in range(1, rounds + 1))
    c = max(samples_per_s(f"{out}/runs/{exp}-speed-bf16-{k}") for k in range(1, rounds + 1))
    print(f"| {label} | {a:.0f} samples/s | {c:.0f} samples/s | {c / a:.2f} |")
a, c = r[("fp32", 32)]["peak_rss_mib"], r[("bf16", 32)]["peak_rss_mib"]
print(f"| peak memory of the CNP bench, batch 32 | {a:.0f} MiB | {c:.0f} MiB | {c / a:.2f} |")
print()
acc = {p: [final_accuracy(f"{out}/fashion-{s}-{p}.log") for s in seeds] for p in ("fp32", "bf16")}
print(f"Quality guard, Fashion-MNIST (resources/experiments/fashion-mnist.json, 3000 steps), test accuracy over seeds {', '.join(seeds)}:\n")
print("| precision | per seed | mean ± std |\n|---|---|---|")
for p in ("fp32", "bf16"):
    print(f"| {p} | {', '.join(f'{v:.2f} %' for v in acc[p])} | {ms(acc[p])} % |")
d = statistics.mean(acc["bf16"]) - statistics.mean(acc["fp32"])
noise = max(statistics.stdev(acc["fp32"]), statistics.stdev(acc["bf16"])) if len(seeds) > 1 else 0.0
print(f"\nbf16 − fp32: {d:+.2f} points; the larger seed std: {noise:.2f} points "
      f"({'within' if abs(d) <= noise else 'outside'} the seed noise).")
PY
cat "$section"
python3 "$root/bench/replace_section.py" "$root/docs/BENCHMARKS.md" "$section"
echo "precision.sh: wrote the Precision section of docs/BENCHMARKS.md (scratch: $out)" >&2

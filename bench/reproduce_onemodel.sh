#!/usr/bin/env bash
# OneModel at demo scale, as the paper compares it, over seeds: the six-task model (with the DJB2
# sensory discriminator and without any) against six single-task models, per task and as Δm, with
# parameter counts; word-spotting mAP of the handwriting tasks (the hash-separation figure is
# bench/hash_separation.sh). Writes the OneModel section of docs/REPRODUCTION.md (replacing an
# earlier one): mean ± std over the seeds.
#
#   bench/reproduce_onemodel.sh [JOINT_STEPS [SEED ...]]   (default 2400 steps; seeds 1 2 3; each single
#                     task gets JOINT_STEPS / 6, the updates that task gets in the round-robin joint run)
#   bench/reproduce_onemodel.sh --report DIR JOINT_STEPS [SEED ...]   (the section again from DIR)
# OMNILAB_BENCH_JOBS=2 trains two runs at a time with one thread each.
# Needs the build (scripts/omnilab build) and the demo data (scripts/omnilab demo, or
# omnilab-cli make-demo-data --out demo-data). Runs from the repository root.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cli="${OMNILAB_BUILD_DIR:-$root/build}/bin/omnilab-cli"
report_only=""
if [ "${1:-}" = "--report" ]; then report_only="$2"; shift 2; fi
steps="${1:-2400}"
[ $# -gt 0 ] && shift
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2 3)
single_steps=$(( steps / 6 ))
out="${report_only:-$(mktemp -d /tmp/omnilab-reproduce-onemodel.XXXX)}"
experiment=resources/experiments/onemodel-6task.json
tasks=(fashion actions speech sentiment english arabic)
[ -d demo-data/aclImdb ] || "$cli" make-demo-data --out demo-data --scale small

source bench/lib.sh # jobs, threads, in_parallel

write_config() { # write_config VARIANT SEED: djb2 (the file as it is), none (no discriminator) or single
  python3 - "$experiment" "$out/$1-$2.json" "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
variant, seed = sys.argv[3], int(sys.argv[4])
if variant == "none":
    d["name"] += "-no-discriminator"
    for t in d["tasks"]:
        t["head"]["discriminator"] = "none"
d["training"].update({"eval_every": 0, "checkpoint_every": 0, "seed": seed})
json.dump(d, open(sys.argv[2], "w"), indent=2)
PY
}

run_joint() { # run_joint djb2|none SEED
  write_config "$1" "$2"
  "$cli" "${threads[@]}" train "$out/$1-$2.json" --run-dir "$out/runs/joint-$1-$2" --steps "$steps" > "$out/joint-$1-$2.log"
  echo "joint-$1-$2 done" >&2
}

run_single() { # run_single TASK SEED
  write_config single "$2"
  "$cli" single-task "$out/single-$2.json" --task "$1" --out "$out/single-$1-$2.json" > /dev/null
  "$cli" "${threads[@]}" train "$out/single-$1-$2.json" --run-dir "$out/runs/single-$1-$2" --steps "$single_steps" > "$out/single-$1-$2.log"
  echo "single-$1-$2 done" >&2
}

start=$(date +%s)
if [ -z "$report_only" ]; then
  for seed in "${seeds[@]}"; do
    for v in djb2 none; do in_parallel run_joint "$v" "$seed"; done
    for t in "${tasks[@]}"; do in_parallel run_single "$t" "$seed"; done
  done
  wait
  for seed in "${seeds[@]}"; do
    singles=()
    for t in "${tasks[@]}"; do singles+=("$out/runs/single-$t-$seed"); done
    for v in djb2 none; do
      "$cli" "${threads[@]}" compare "$out/runs/joint-$v-$seed" "${singles[@]}" > "$out/compare-$v-$seed.txt"
    done
  done
  echo "$(( $(date +%s) - start ))" > "$out/elapsed.txt"
fi

python3 - "$out" "$steps" "$single_steps" "$(nproc)" "$(git rev-parse --short HEAD)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "$jobs" "$experiment" "${seeds[@]}" > "$out/section.md" <<'PY'
import datetime, os, re, statistics, sys
out, steps, single_steps, cores, commit, cpu, jobs, experiment = sys.argv[1:9]
seeds = sys.argv[9:]
def compare(variant, seed):
    """(rows {(task, metric): (multi, single)}, Δm in %, multi parameters, single parameters) of one compare output."""
    path = os.path.join(out, f"compare-{variant}-{seed}.txt")
    text = open(path).read()
    rows = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[0] != "task":
            try:
                rows[(parts[0], parts[1])] = (float(parts[2]), float(parts[3]))
            except ValueError:
                pass
    dm = re.search(r"Δm over \d+ task\(s\) on \w+: ([+-]?[0-9.]+) %", text)
    params = re.search(r"parameters: multi-task (\d+), single-task runs together (\d+)", text)
    if not rows or not dm or not params:
        sys.exit(f"{path}: not the output of omnilab-cli compare")
    return rows, float(dm.group(1)), int(params.group(1)), int(params.group(2))
def ms(values, digits=1, unit=""):
    if len(values) == 1:
        return f"{values[0]:.{digits}f}{unit}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}{unit}"
runs = {v: [compare(v, s) for s in seeds] for v in ("djb2", "none")}
elapsed = open(os.path.join(out, "elapsed.txt")).read().strip() if os.path.exists(os.path.join(out, "elapsed.txt")) else "?"
print("## OneModel (issue 5) — written by bench/reproduce_onemodel.sh\n")
print(f"{datetime.date.today()} at commit {commit}, {cores} CPU cores ({cpu}), seeds {', '.join(seeds)}; mean ± std over the seeds"
      + (", runs two at a time with one thread each" if int(jobs) > 1 else "") + f"; {elapsed} s in all.")
print(f"`{experiment}` for {steps} round-robin steps ({single_steps} per task), and each task alone (`omnilab-cli single-task`)")
print(f"for {single_steps} steps, so every task gets the same number of updates. Demo data (`make-demo-data --scale small`), test splits,")
print("last checkpoint; `omnilab-cli compare` per seed. Paper (full scale, Table 3 and Fig. 5): the joint model matches or beats the")
print("single-task ones with about a sixth of their parameters, and the discriminator separates the senses of a word in the PHOC space.\n")
print("| task | metric | joint, DJB2 | joint, no discriminator | single-task |\n|---|---|---|---|---|")
for key in sorted(runs["djb2"][0][0]):
    djb2 = [r[0][key][0] for r in runs["djb2"]]
    none = [r[0][key][0] for r in runs["none"]]
    single = [r[0][key][1] for r in runs["djb2"]]
    print(f"| {key[0]} | {key[1]} | {ms(djb2, 3)} | {ms(none, 3)} | {ms(single, 3)} |")
print()
multi_params, single_params = runs["djb2"][0][2], runs["djb2"][0][3]
print(f"Δm over the six tasks against the single-task models: with DJB2 {ms([r[1] for r in runs['djb2']], 1, ' %')}, "
      f"without a discriminator {ms([r[1] for r in runs['none']], 1, ' %')}; DJB2 − none per seed "
      f"{ms([a[1] - b[1] for a, b in zip(runs['djb2'], runs['none'])], 1, ' points')}. "
      f"Parameters: joint {multi_params}, the six single-task models together {single_params} ({single_params / multi_params:.1f}× more).\n")
print("The hash-separation figure (Fig. 5) is in its own section, written by bench/hash_separation.sh.\n")
PY

python3 bench/replace_section.py docs/REPRODUCTION.md "$out/section.md"
cat "$out/section.md"
echo "wrote the OneModel section of docs/REPRODUCTION.md (runs and logs in $out)" >&2

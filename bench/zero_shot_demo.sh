#!/usr/bin/env bash
# The headline demo measured as a user gets it: for each seed, the vision network is
# pre-trained on the shapes gallery (resources/experiments/shapes-vision.json) and MULT-4
# (resources/experiments/omninet-demo.json) trains with its own default steps; then
# `omnilab-cli zero-shot` captions every test clip of demo-data/hmdb (never trained to
# caption or answer about a video), asks the VQA task the colour and shape, and captions the
# captioning task's single-shape test images (in-domain); `eval` gives the activity accuracy.
# Writes the zero-shot section of docs/REPRODUCTION.md: mean ± std over the seeds, per action.
#
#   bench/zero_shot_demo.sh [SEED ...]              (default 1 2 3)
#   bench/zero_shot_demo.sh --report DIR [SEED ...] (the section again from an earlier run's DIR)
#   bench/zero_shot_demo.sh --pretrained DIR [SEED ...] (MULT-4 only: the vision networks, and
#                     their pre-training times, of an earlier run's DIR; for a change that
#                     leaves shapes-vision.json and the demo data as they were)
# Needs the build and the demo data (scripts/omnilab demo). Runs from the repository root.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cli="${OMNILAB_BUILD_DIR:-$root/build}/bin/omnilab-cli"
report_only=""
pretrained=""
if [ "${1:-}" = "--report" ]; then report_only="$2"; shift 2; fi
if [ "${1:-}" = "--pretrained" ]; then pretrained="$(cd "$2" && pwd)"; shift 2; fi
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2 3)
out="${report_only:-$(mktemp -d /tmp/omnilab-zero-shot.XXXX)}"
[ -d demo-data/hmdb ] || "$cli" make-demo-data --out demo-data --scale small

# OMNILAB_BENCH_JOBS=2 trains two seeds at a time (bench/lib.sh); the times in the section say so.
source bench/lib.sh # jobs, threads, in_parallel
run_seed() {
  local seed="$1"
  local vision="${pretrained:-$out}/runs/shapes-vision-$seed"
  python3 - "$seed" "$out" "$vision" "$jobs" <<'PY'
import json, sys
seed, out, vision, jobs = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
pre = json.load(open("resources/experiments/shapes-vision.json"))
pre["training"]["seed"] = seed
mult = json.load(open("resources/experiments/omninet-demo.json"))
mult["training"]["seed"] = seed
mult["model"]["peripherals"]["vision"]["init_from"] = vision
if jobs > 1:
    # Several runs at a time on one thread each: their loader threads would take the other runs'
    # cores (one process cannot see the others), so batches are decoded in the training loop.
    # The order of the batches, and so the run, is the same either way.
    pre["training"]["data_workers"] = mult["training"]["data_workers"] = 0
json.dump(pre, open(f"{out}/shapes-vision-{seed}.json", "w"), indent=2)
json.dump(mult, open(f"{out}/mult4-{seed}.json", "w"), indent=2)
PY
  local start middle end
  local pretrain_seconds
  if [ -n "$pretrained" ]; then
    pretrain_seconds=$(cut -d' ' -f1 "$pretrained/time-$seed.txt")
    middle=$(date +%s)
  else
    start=$(date +%s)
    "$cli" "${threads[@]}" train "$out/shapes-vision-$seed.json" --run-dir "$vision" > "$out/shapes-vision-$seed.log"
    middle=$(date +%s)
    pretrain_seconds=$((middle - start))
  fi
  "$cli" "${threads[@]}" train "$out/mult4-$seed.json" --run-dir "$out/runs/mult4-$seed" > "$out/mult4-$seed.log"
  end=$(date +%s)
  echo "$pretrain_seconds $((end - middle)) $jobs ${pretrained:+reused}" > "$out/time-$seed.txt"
  "$cli" "${threads[@]}" zero-shot "$out/runs/mult4-$seed" --videos demo-data/hmdb --questions --images --json > "$out/zero-shot-$seed.json"
  "$cli" "${threads[@]}" eval "$out/runs/mult4-$seed" --json > "$out/eval-$seed.json"
  "$cli" "${threads[@]}" eval "$vision" --json > "$out/eval-pretrain-$seed.json"
  echo "seed $seed done ($((end - middle)) s of MULT-4 training)" >&2
}
[ -n "$report_only" ] || for seed in "${seeds[@]}"; do in_parallel run_seed "$seed"; done
wait

python3 - "$out" "$(git rev-parse --short HEAD)" "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "${seeds[@]}" > "$out/section.md" <<'PY'
import datetime, json, os, statistics, sys
out, commit, cores, cpu, seeds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
z = {s: json.load(open(os.path.join(out, f"zero-shot-{s}.json"))) for s in seeds}
ev = {s: json.load(open(os.path.join(out, f"eval-{s}.json")))["metrics"] for s in seeds}
times = {s: [int(x) for x in open(os.path.join(out, f"time-{s}.txt")).read().split()[:3]] for s in seeds}
reused = any("reused" in open(os.path.join(out, f"time-{s}.txt")).read() for s in seeds)
pre = {s: json.load(open(os.path.join(out, f"eval-pretrain-{s}.json")))["metrics"] for s in seeds}
pre_doc = json.load(open(os.path.join(out, f"shapes-vision-{seeds[0]}.json")))
mult_doc = json.load(open(os.path.join(out, f"mult4-{seeds[0]}.json")))
vision = mult_doc["model"]["peripherals"]["vision"]
body = mult_doc["model"]["body"]
late = [f"{t['name']} from step {t['from_step']}" for t in pre_doc["tasks"] if t.get("from_step", 0) > 0]
def ms(values, scale=100.0, unit=" %"):
    v = [scale * x for x in values]
    if len(v) == 1:
        return f"{v[0]:.1f}{unit}"
    return f"{statistics.mean(v):.1f} ± {statistics.stdev(v):.1f}{unit}"
def share(t, key):
    return t[key] / max(t["items"], 1)
print("## OmniNet zero-shot video captioning (issue 14) — written by bench/zero_shot_demo.sh\n")
print(f"{datetime.date.today()} at commit {commit}, {cores} CPU cores ({cpu}), seeds {', '.join(seeds)}; mean ± std over the seeds.")
jobs = int(open(os.path.join(out, f"time-{seeds[0]}.txt")).read().split()[2])
print(("Seeds trained two at a time, one thread each. " if jobs > 1 else "Seeds trained one at a time on all cores. ") +
      "Each seed: `resources/experiments/shapes-vision.json` pre-trains the vision network on the shapes gallery "
      f"({pre_doc['training']['steps']} steps" + (f", {', '.join(late)}" if late else "")
      + f", learning-rate schedule {pre_doc['training']['optimizer'].get('schedule', 'constant')}; {statistics.mean(t[0] for t in times.values()):.0f} s; "
      f"test accuracy shape {ms([pre[s]['shape']['accuracy'] for s in seeds])}, colour {ms([pre[s]['colour']['accuracy'] for s in seeds])}"
      + ("; these networks and their times from an earlier run of this script with the same file and demo data" if reused else "") + "), "
      f"then `resources/experiments/omninet-demo.json` trains MULT-4 "
      f"with its default steps ({statistics.mean(t[1] for t in times.values()):.0f} s), starting its vision peripheral from it "
      f"(`init_from`) and keeping it {'frozen' if vision.get('freeze') else 'trainable'}; vision stages {vision.get('channels')}, cell positions "
      f"`{vision.get('positions', 'none')}`; activity trains in the {body['domains']['video']} domain, a clip sent to the captioning task is encoded "
      f"in the domain of that task's image input, and the gate is `{body.get('gate')}`"
      + "".join(f"; `{t['name']}` trains at its own rate {t['lr']}" for t in mult_doc["tasks"] if "lr" in t) + ". "
      "No video caption, video answer or clip colour/shape label is used in training; the last checkpoint is scored; every test clip is scored.\n")
print("A caption is right on colour (shape) when the colour (shape) words it holds are exactly the clip's one colour (shape); "
      "degenerate = a loop (a word three times in a row, or a word other than a, an, the, and, on, in, of, is, to, with, at, there, are, one three times). Greedy decoding. In-domain: the captioning task's own test images "
      "whose five references all name one and the same colour and shape.\n")
print("| what | items | right colour | right shape | both | empty | degenerate |\n|---|---|---|---|---|---|---|")
im = [z[s]["images"]["total"] for s in seeds]
print(f"| single-shape test images (in-domain) | {im[0]['items']} | {ms([share(t, 'colour') for t in im])} | {ms([share(t, 'shape') for t in im])} | "
      f"{ms([share(t, 'both') for t in im])} | {ms([t['empty'] for t in im], 1, '')} | {ms([share(t, 'degenerate') for t in im])} |")
tot = [z[s]["total"] for s in seeds]
print(f"| the 48 test clips, zero-shot | {tot[0]['items']} | {ms([share(t, 'colour') for t in tot])} | {ms([share(t, 'shape') for t in tot])} | "
      f"{ms([share(t, 'both') for t in tot])} | {ms([t['empty'] for t in tot], 1, '')} | {ms([share(t, 'degenerate') for t in tot])} |")
print()
print("| zero-shot video QA | right |\n|---|---|")
print(f"| \"what color is the shape?\" | {ms([share(t, 'colour_answers') for t in tot])} |")
print(f"| \"what shape is it?\" | {ms([share(t, 'shape_answers') for t in tot])} |")
print()
print("| MULT-4 task (test split) | metric | value |\n|---|---|---|")
for task, metric in [("activity", "accuracy"), ("caption", "bleu"), ("caption", "perplexity"), ("vqa", "vqa-accuracy"), ("pos", "accuracy")]:
    scale, unit = (100.0, " %") if metric in ("accuracy", "vqa-accuracy") else (1.0, "")
    v = [scale * ev[s][task][metric] for s in seeds]
    text = f"{statistics.mean(v):.3f}" + (f" ± {statistics.stdev(v):.3f}" if len(v) > 1 else "") if unit == "" else ms([ev[s][task][metric] for s in seeds], scale, unit)
    print(f"| {task} | {metric} | {text} |")
print()
print("Per action, zero-shot captions right on both (mean over the seeds):\n")
actions = sorted(z[seeds[0]]["per_action"])
print("| " + " | ".join(actions) + " |\n|" + "---|" * len(actions))
print("| " + " | ".join(ms([share(z[s]["per_action"][a], "both") for s in seeds]) for a in actions) + " |")
print()
print(f"Captions of seed {seeds[0]}, first clip of each action:\n")
seen = set()
for c in z[seeds[0]]["clips"]:
    if c["action"] in seen:
        continue
    seen.add(c["action"])
    tick = "right" if c["right_colour"] and c["right_shape"] else "wrong"
    print(f"- `{os.path.basename(c['file'])}` ({c['colour']} {c['shape']}, {c['action']}): \"{c['caption']}\" — {tick}")
print()
PY
cat "$out/section.md"
python3 bench/replace_section.py docs/REPRODUCTION.md "$out/section.md"
echo "wrote the zero-shot section of docs/REPRODUCTION.md (runs and logs in $out)" >&2

#!/usr/bin/env bash
# Faults (issue 20, part 4): `kill -9` at random moments while a run trains with frequent
# checkpoints, KILLS times, resuming after each. After every kill: the last checkpoint opens
# (a query loads it), the run store passes `PRAGMA integrity_check`, and the resume starts at
# the last checkpoint's step. At the end the killed-and-resumed run's training losses must be
# those of the same run trained without interruption, step by step (CPU, one thread), with
# one row per step. Writes the "kill -9 loop" section of docs/RELIABILITY.md.
#
#   bench/kill_loop.sh [KILLS] [SEED]   (default 30 kills, seed 1: the kill moments)
# Needs the build and demo-data/ (scripts/omnilab demo, or it is made here).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cli="${OMNILAB_BUILD_DIR:-$root/build}/bin/omnilab-cli"
kills="${1:-30}"
seed="${2:-1}"
out="$(mktemp -d /tmp/omnilab-kill.XXXX)"
[ -d demo-data/shapes ] || "$cli" make-demo-data --out demo-data --scale small > /dev/null

# The demo's vision pre-training, shortened: two tasks (the second joins at step 150), a
# checkpoint every 10 steps (all kept, so the steps on disk are known), an evaluation every
# 100 (so kills may land in evaluations and checkpoint writes too), the loss recorded every step.
python3 - "$out" <<'PY'
import json, sys
d = json.load(open("resources/experiments/shapes-vision.json"))
t = d["training"]
t.update({"steps": 400, "checkpoint_every": 10, "keep_checkpoints": 1000, "eval_every": 100, "eval_batches": 2, "log_every": 1})
for task in d["tasks"]:
    if "from_step" in task:
        task["from_step"] = 150
json.dump(d, open(f"{sys.argv[1]}/exp.json", "w"), indent=1)
PY

echo "kill_loop.sh: the reference run (no interruption)" >&2
"$cli" --threads 1 train "$out/exp.json" --run-dir "$out/reference/run" > "$out/reference.log" 2>&1
run="$out/killed/run"
mkdir -p "$out/killed"
# Kill moments, seeded: uniform in 0.5 … 4 s after the process starts (it spends about 1 s
# loading libraries and data, so some kills land before training starts, most during it).
python3 -c "import random,sys; r=random.Random(int(sys.argv[1])); print('\n'.join(f'{r.uniform(0.5, 4.0):.2f}' for _ in range(int(sys.argv[2]))))" "$seed" "$kills" > "$out/moments"

max_kept() { { ls "$run/checkpoints" 2>/dev/null || true; } | sed -n 's/^step-\([0-9]*\)\.pt$/\1/p' | sort -n | tail -1; }
integrity() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])" "$out/killed/omnilab.sqlite"; }
fail() { echo "kill_loop.sh: FAILED after kill $1: $2" >&2; echo "$1 $2" >> "$out/failures"; }
: > "$out/kills.tsv"
i=0
while read -r moment; do
  i=$((i + 1))
  before="$(max_kept)"
  if [ -f "$run/run.json" ]; then
    "$cli" --threads 1 train --resume "$run" > "$out/attempt-$i.log" 2>&1 &
  else
    "$cli" --threads 1 train "$out/exp.json" --run-dir "$run" > "$out/attempt-$i.log" 2>&1 &
  fi
  pid=$!
  sleep "$moment"
  if kill -9 "$pid" 2> /dev/null; then killed=yes; else killed="no (it had finished)"; fi
  wait "$pid" 2> /dev/null || true
  # Where the attempt started: "resumed run N … at step S" (a first attempt: "started … at step 0").
  started="$(sed -n 's/.* run [0-9]* of .* at step \([0-9]*\) of .*/\1/p' "$out/attempt-$i.log" | head -1 || true)"
  expected="${before:-0}"
  if [ -n "$started" ] && [ -n "$before" ] && [ "$started" != "$before" ] && [ "$started" != "$((before + 10))" ]; then
    fail "$i" "the attempt started at step $started; the last kept checkpoint was step $before"
  fi
  store="$(integrity 2>&1 || true)"
  [ "$store" = "ok" ] || fail "$i" "PRAGMA integrity_check: $store"
  opened="none yet"
  if [ -f "$run/checkpoint.pt" ]; then
    if "$cli" --threads 1 query "$run" --task shape --sample 0 --split val > "$out/query-$i.log" 2>&1; then opened="opens"; else
      opened="refused"; fail "$i" "the last checkpoint does not open: $(tail -1 "$out/query-$i.log")"; fi
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$moment" "$killed" "${started:-not started}" "$expected" "$store" "$opened" >> "$out/kills.tsv"
  echo "kill $i at ${moment}s: killed $killed, started at step ${started:-(not yet)}, store $store, checkpoint $opened" >&2
done < "$out/moments"

echo "kill_loop.sh: finishing the run" >&2
"$cli" --threads 1 train --resume "$run" > "$out/final.log" 2>&1 || fail final "the last resume failed: $(tail -1 "$out/final.log")"
"$cli" export "$out/reference/run" --csv "$out/reference.csv" > /dev/null
"$cli" export "$run" --csv "$out/killed.csv" > /dev/null
[ "$(integrity)" = "ok" ] || fail final "PRAGMA integrity_check after the last resume"

status=0
python3 - "$out" "$kills" "$seed" "$(git rev-parse --short HEAD)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" > "$out/section.md" <<'PY' || status=$?
import csv, datetime, os, sys
out, kills, seed, commit, cpu = sys.argv[1:6]
def losses(name):
    rows = {}
    dupes = 0
    for r in csv.DictReader(open(f"{out}/{name}.csv")):
        if r["split"] == "train" and r["metric"] == "loss":
            key = (r["task"], int(r["step"]))
            dupes += key in rows
            rows[key] = float(r["value"])
    return rows, dupes
ref, _ = losses("reference")
got, dupes = losses("killed")
missing = sorted(set(ref) - set(got))
extra = sorted(set(got) - set(ref))
worst = max((abs(ref[k] - got[k]) for k in set(ref) & set(got)), default=float("nan"))
table = [l.rstrip("\n").split("\t") for l in open(f"{out}/kills.tsv")]
failures = open(f"{out}/failures").read().splitlines() if os.path.exists(f"{out}/failures") else []
killed = sum(1 for t in table if t[2] == "yes")
during = sum(1 for t in table if t[2] == "yes" and t[3] != "not started")
opened = sum(1 for t in table if t[6] == "opens")
ok = not failures and not missing and not extra and dupes == 0 and worst <= 1e-6
day = datetime.date.today().isoformat()
print(f"## kill -9 loop — generated by bench/kill_loop.sh on {day} at {commit}\n")
print(f"`bench/kill_loop.sh {kills} {seed}` on {cpu}: the demo's vision pre-training shortened to 400 steps (two tasks, the second "
      f"from step 150; a checkpoint every 10 steps, an evaluation every 100, one thread), killed with SIGKILL {kills} times at "
      f"seeded moments 0.5–4 s after each (re)start, then resumed to the end.\n")
last = max((int(t[3]) for t in table if t[3].isdigit()), default=0)
print(f"- Killed while running: {killed} of {kills} attempts ({during} after the run had announced its start, the rest while "
      f"loading); the last attempt killed started at step {last}.")
print(f"- The last checkpoint opened (a query loads it) after every kill that left one: {opened} times, refused 0 times"
      if not any('does not open' in f for f in failures) else "- A checkpoint failed to open: see the failures below.")
print(f"- `PRAGMA integrity_check` of the run store: ok after every kill" if not any('integrity' in f for f in failures)
      else "- The run store failed `PRAGMA integrity_check`: see below.")
print(f"- Every resume started at the last checkpoint's step (the last kept one, or one checkpoint later when the kill fell "
      f"between writing checkpoint.pt and its kept copy)." if not any('started at step' in f for f in failures) else
      "- A resume started elsewhere than the last checkpoint: see below.")
print(f"- Training losses, killed-and-resumed against uninterrupted: {len(got)} (task, step) rows against {len(ref)}, "
      f"{len(missing)} missing, {len(extra)} extra, {dupes} duplicated, largest difference {worst:.3g}.")
print(f"- Result: {'passed' if ok else 'FAILED'}." + ("" if not failures else " Failures: " + "; ".join(failures)))
sys.exit(0 if ok else 1)
PY
python3 - docs/RELIABILITY.md "$out/section.md" <<'PY'
import sys
doc, section = sys.argv[1], open(sys.argv[2]).read()
text = open(doc).read()
head = "## kill -9 loop"
if head in text:
    start = text.index(head)
    end = text.find("\n## ", start + 1)
    text = text[:start] + section + ("\n" + text[end + 1:] if end >= 0 else "")
else:
    marker = "## Not promised yet"
    text = text.replace(marker, section + "\n" + marker) if marker in text else text.rstrip("\n") + "\n\n" + section
open(doc, "w").write(text)
PY
cat "$out/section.md"
echo "kill_loop.sh: files in $out" >&2
exit "$status"

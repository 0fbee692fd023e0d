# Shared by the reproduction scripts (source it; single_task_runs needs $cli and $out set).
# single_task_runs EXPERIMENT STEPS PREFIX TASK...: trains each task alone (omnilab-cli
# single-task) into $out/runs/PREFIX-TASK and leaves the run directories in the array `singles`.
single_task_runs() {
  local experiment="$1" steps="$2" prefix="$3"
  shift 3
  singles=()
  for t in "$@"; do
    "$cli" single-task "$experiment" --task "$t" --out "$out/$prefix-$t.json" > /dev/null
    "$cli" train "$out/$prefix-$t.json" --run-dir "$out/runs/$prefix-$t" --steps "$steps" > "$out/$prefix-$t.log"
    singles+=("$out/runs/$prefix-$t")
  done
}

# OMNILAB_BENCH_JOBS=N runs N trainings at a time with one thread each (on 2 cores about twice
# the throughput of one run on two threads). Sets `jobs` and `threads` (the CLI's thread option,
# empty for one job at a time); in_parallel CMD ... runs CMD in the background, waiting first
# while `jobs` are running; `wait` for the last ones.
jobs="${OMNILAB_BENCH_JOBS:-1}"
threads=()
[ "$jobs" -gt 1 ] && threads=(--threads 1)
bench_running=0
in_parallel() {
  "$@" &
  bench_running=$((bench_running + 1))
  if [ "$bench_running" -ge "$jobs" ]; then wait -n; bench_running=$((bench_running - 1)); fi
}

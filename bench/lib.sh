# Shared by the reproduction scripts (source it; needs $cli and $out set).
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

#!/usr/bin/env bash
# MultiModel's mixture of experts: forward + backward of one MoE layer with dense dispatch
# (every expert on every token, masked by the gates) against index dispatch (each expert on
# the tokens that chose it), at the demo experiment's width and at the paper's (hidden 512,
# filter 2048; 256 tokens, and 16 or 32 experts instead of 60, to keep the dense runs short).
# Writes the MultiModel section of docs/BENCHMARKS.md (replacing an earlier one).
#   bench/multimodel_bench.sh [REPS]   (needs: scripts/omnilab build)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bin="${OMNILAB_BUILD_DIR:-$root/build}/bin"
reps="${1:-5}"
threads="$(nproc)"
out="$(mktemp -d /tmp/omnilab-multimodel-bench.XXXX)"
load="$(cut -d" " -f1 /proc/loadavg)"
# tokens channels hidden experts k
configs=(
  "1024 64 128 8 2"
  "1024 64 128 32 2"
  "256 512 2048 16 2"
  "256 512 2048 32 4"
)
# One thread and all of them: with other work on the machine, OpenMP's threads wait on each
# other and many small operations (index dispatch) suffer most.
for c in "${configs[@]}"; do
  for t in 1 "$threads"; do
    # shellcheck disable=SC2086
    "$bin/omnilab-bench-moe" $c "$reps" "$t" >> "$out/moe.jsonl"
  done
done
python3 - "$out/moe.jsonl" "$threads" "$reps" "$load" > "$out/section.md" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("## MultiModel mixture of experts — written by bench/multimodel_bench.sh\n")
print(f"One MoE layer (noisy top-k gating, load-balancing loss), forward + backward on 1 and {sys.argv[2]} CPU threads, mean of {sys.argv[3]} steps")
print("after a warm-up; the same weights and tokens for both dispatches (`dispatch` option of the multimodel body). Dense runs every")
print("expert on every token and weights the outputs by the gates (zero for experts not chosen); index runs each expert on the tokens")
print("that chose it. The outputs agree to the last column (largest absolute difference). Dense costs about experts / k times the")
print(f"expert FLOPs. Load average when the bench started: {sys.argv[4]} (timings on a busy machine are not comparable).\n")
print("| tokens | channels | expert hidden | experts | k | threads | dense ms | index ms | dense / index | largest output difference |")
print("|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['tokens']} | {r['channels']} | {r['hidden']} | {r['experts']} | {r['k']} | {r['threads']} | {r['dense_ms']:.1f} | {r['index_ms']:.1f} | "
          f"{r['dense_over_index']:.2f} | {r['max_difference']:.1e} |")
print()
PY
python3 bench/replace_section.py docs/BENCHMARKS.md "$out/section.md"
cat "$out/section.md"
echo "wrote the MultiModel section of docs/BENCHMARKS.md ($out)"

#!/usr/bin/env bash
# The zero-shot diagnostic ladder on trained OmniNet runs, with no retraining: each rung is a
# copy of the run whose config.json is edited (the checkpoint is the same file), scored by
# `omnilab-cli zero-shot` on every test clip of demo-data/hmdb, greedy. The rungs separate
# the causes of a bad zero-shot caption:
#   in-domain     the captioning task's own single-shape test images (the ceiling)
#   middle frame  each clip's middle frame given as an image (appearance only: t = 1, image domain)
#   as trained    the clip, as the run was trained
#   link_array off, the paper's gate (after_softmax, Eq. 1) and the per-input gate
# A clip given to an image task is encoded in the domain of the task's image input (Query.cpp).
# Prints a Markdown section; with --write it replaces the ladder section of docs/REPRODUCTION.md.
#
#   bench/zero_shot_ladder.sh [--write] LABEL=RUN_DIR [LABEL=RUN_DIR ...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cli="${OMNILAB_BUILD_DIR:-$root/build}/bin/omnilab-cli"
write=0
[ "${1:-}" = "--write" ] && { write=1; shift; }
[ $# -ge 1 ] || { echo "usage: bench/zero_shot_ladder.sh [--write] LABEL=RUN_DIR ..." >&2; exit 2; }
out="$(mktemp -d /tmp/omnilab-ladder.XXXX)"
videos=demo-data/hmdb

rung() { # rung RUN NAME EDIT_JSON: a copy of RUN with the body fields in EDIT_JSON set
  local run="$1" name="$2" edit="$3" copy="$out/$(basename "$1")-$2"
  mkdir -p "$copy"
  cp -r "$run/config.json" "$copy/"
  [ -d "$run/tokenizers" ] && cp -r "$run/tokenizers" "$copy/"
  ln -sf "$(readlink -f "$run/checkpoint.pt")" "$copy/checkpoint.pt"
  python3 - "$copy/config.json" "$edit" <<'PY'
import json, sys
path, edit = sys.argv[1], json.loads(sys.argv[2])
d = json.load(open(path))
d["model"]["body"].update(edit)
json.dump(d, open(path, "w"), indent=2)
PY
  echo "$copy"
}

rows=()
for arg in "$@"; do
  label="${arg%%=*}" run="${arg#*=}"
  [ -f "$run/checkpoint.pt" ] || { echo "$run: no checkpoint.pt" >&2; exit 2; }
  "$cli" zero-shot "$run" --videos "$videos" --images --json > "$out/$label-trained.json"
  "$cli" zero-shot "$run" --videos "$videos" --middle-frame --json > "$out/$label-middle.json"
  for spec in 'link-off|{"link_array": "off"}' \
              'paper-gate|{"gate": "after_softmax"}' \
              'per-input|{"gate": "after_softmax_per_input"}'; do
    name="${spec%%|*}" edit="${spec#*|}"
    copy=$(rung "$run" "$name" "$edit")
    "$cli" zero-shot "$copy" --videos "$videos" --json > "$out/$label-$name.json"
  done
  rows+=("$label=$run")
done

python3 - "$out" "$(git rev-parse --short HEAD)" "${rows[@]}" > "$out/section.md" <<'PY'
import datetime, json, os, sys
out, commit, runs = sys.argv[1], sys.argv[2], sys.argv[3:]
def pct(n, d):
    return f"{100.0 * n / max(d, 1):.1f} %"
print("## OmniNet zero-shot diagnostic ladder — written by bench/zero_shot_ladder.sh\n")
print(f"{datetime.date.today()} at commit {commit}. Each rung edits a copy of the run's config.json and keeps its checkpoint; "
      "no retraining. Strict scoring (`omnilab-cli zero-shot`): a caption is right when the colour words it holds are exactly "
      "the truth's colour and its shape words exactly the truth's shape; degenerate = a loop (a word three times in a row, or a content word three times). Greedy decoding.\n")
for arg in runs:
    label, run = arg.split("=", 1)
    cfg = json.load(open(os.path.join(run, "config.json")))
    body = cfg["model"]["body"]
    print(f"### {label}\n")
    print(f"Trained with gate `{body.get('gate', 'after_softmax')}`, link array `{body.get('link_array', 'on')}`, "
          f"domains `{json.dumps(body.get('domains', 'default'))}`, vision channels "
          f"`{cfg['model']['peripherals']['vision'].get('channels')}`.\n")
    print("| rung | what is captioned | items | right colour | right shape | both | empty | degenerate |")
    print("|---|---|---|---|---|---|---|---|")
    trained = json.load(open(os.path.join(out, f"{label}-trained.json")))
    im = trained["images"]["total"]
    print(f"| 0 | single-shape test images (in-domain) | {im['items']} | {pct(im['colour'], im['items'])} | {pct(im['shape'], im['items'])} | "
          f"{pct(im['both'], im['items'])} | {im['empty']} | {im['degenerate']} |")
    for i, (name, what) in enumerate([("middle", "each clip's middle frame as an image"), ("trained", "the clips, as trained"),
                                      ("link-off", "the clips, `link_array: off`"), ("paper-gate", "the clips, gate `after_softmax` (Eq. 1)"),
                                      ("per-input", "the clips, gate `after_softmax_per_input`")]):
        t = json.load(open(os.path.join(out, f"{label}-{name}.json")))["total"]
        print(f"| {i + 1} | {what} | {t['items']} | {pct(t['colour'], t['items'])} | {pct(t['shape'], t['items'])} | {pct(t['both'], t['items'])} | "
              f"{t['empty']} | {t['degenerate']} |")
    print()
PY
cat "$out/section.md"
if [ "$write" = 1 ]; then
  python3 bench/replace_section.py docs/REPRODUCTION.md "$out/section.md"
  echo "wrote the ladder section of docs/REPRODUCTION.md (copies in $out)" >&2
fi

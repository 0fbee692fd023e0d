#!/usr/bin/env bash
# Measures the code's structure now and at an earlier commit (default: the last commit before
# the architecture step of issue 15) with bench/architecture_report.py, and writes the section
# "## Measured structure" of docs/ARCHITECTURE.md: a before/after table, then the full report.
# Usage: bench/architecture.sh [BEFORE_COMMIT]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
before=${1:-4dc41bb}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/before"
git -C "$root" archive "$before" core app ui plugins | tar -x -C "$tmp/before"
python3 "$root/bench/architecture_report.py" --root "$tmp/before" --summary > "$tmp/before.json"
python3 "$root/bench/architecture_report.py" --root "$root" --summary > "$tmp/now.json"
python3 "$root/bench/architecture_report.py" --root "$root" > "$tmp/report.md"
head=$(git -C "$root" rev-parse --short HEAD)
dirty=$(git -C "$root" status --porcelain -- core app ui plugins | grep -q . && echo " (with uncommitted changes)" || true)
python3 - "$tmp" "$before" "$head$dirty" > "$tmp/section.md" <<'PY'
import datetime, json, sys
tmp, before, head = sys.argv[1:]
b = json.load(open(f"{tmp}/before.json"))
n = json.load(open(f"{tmp}/now.json"))
def fn(x): return f"{x['longest_function']['lines']} (`{x['longest_function']['name']}`, {x['longest_function']['without_lambdas']} without its lambdas)"
def big(x): return f"{x['largest_file']['lines']} (`{x['largest_file']['file']}`)"
def cyc(x): return f"{x['cycles']}" + (f" ({', '.join(x['cycle_folders'])})" if x['cycles'] else "")
rows = [("longest function, lines", fn(b), fn(n)),
        ("largest file, lines", big(b), big(n)),
        ("model-family name checks outside core/models", b["family_checks"], n["family_checks"]),
        ("casts to model-family classes outside core/models", b["family_casts"], n["family_casts"]),
        ("include cycles among core's folders", cyc(b), cyc(n)),
        ("C++ files / lines (core, app, ui, plugins)", f"{b['files']} / {b['lines']}", f"{n['files']} / {n['lines']}")]
print("## Measured structure — written by bench/architecture.sh\n")
print(f"{datetime.date.today().isoformat()} at commit {head}, against commit {before} (before the architecture step).\n")
print(f"| measure | {before} | {head.split(' ')[0]} |\n|---|---|---|")
for r in rows:
    print(f"| {r[0]} | {r[1]} | {r[2]} |")
print()
print(open(f"{tmp}/report.md").read().rstrip("\n"))
PY
doc="$root/docs/ARCHITECTURE.md"
[ -f "$doc" ] || { echo "bench/architecture.sh: $doc is missing" >&2; exit 1; }
python3 "$root/bench/replace_section.py" "$doc" "$tmp/section.md"
echo "wrote the Measured structure section of $doc"

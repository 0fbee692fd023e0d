#!/usr/bin/env bash
# Clean build time of the whole project (every target: programs, plugins, tests, benches) at two
# commits, one after the other in the same run on this machine, each from a fresh clone with
# ccache off and the project's own defaults (Ninja, RelWithDebInfo, -j2). Writes the section
# "## Clean build time" of docs/BENCHMARKS.md: seconds and the ratio against the first commit.
# Usage: bench/build_time.sh [BEFORE [AFTER]]   (default: 4dc41bb, the commit before issue 15's
# architecture step, against HEAD). Takes about twice one cold build (~50 minutes on 2 cores).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
before=${1:-4dc41bb}
after=${2:-HEAD}
jobs=${OMNILAB_JOBS:-2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)

measure() { # commit -> prints "short seconds translation_units"
  local commit=$1 dir="$tmp/src-$1"
  git clone -q --no-hardlinks "$root" "$dir"
  git -C "$dir" checkout -q "$commit"
  local short
  short=$(git -C "$dir" rev-parse --short HEAD)
  local start end
  start=$(date +%s.%N)
  CCACHE_DISABLE=1 cmake -S "$dir" -B "$dir/build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$tmp/$commit.log" 2>&1
  CCACHE_DISABLE=1 cmake --build "$dir/build" -j "$jobs" >>"$tmp/$commit.log" 2>&1 || { tail -20 "$tmp/$commit.log" >&2; exit 1; }
  end=$(date +%s.%N)
  local units
  units=$(grep -c "Building CXX object" "$tmp/$commit.log" || true)
  rm -rf "$dir"
  echo "$short $(python3 -c "print(round($end - $start))") $units"
}

read -r b_short b_sec b_units < <(measure "$before")
read -r a_short a_sec a_units < <(measure "$after")
cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
flags=$(grep -m1 "^flags" /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|avx512f|avx512_bf16|amx_bf16|amx_tile)$' | tr '\n' ' ' | sed 's/ $//')
dirty=$(git -C "$root" status --porcelain | grep -q . && echo " (HEAD had uncommitted changes, not measured)" || true)
python3 - "$tmp/section.md" "$b_short" "$b_sec" "$b_units" "$a_short" "$a_sec" "$a_units" "$cpu" "$flags" "$jobs" "$dirty" <<'PY'
import datetime, sys
out, bs, bsec, bu, as_, asec, au, cpu, flags, jobs, dirty = sys.argv[1:]
bsec, asec = int(bsec), int(asec)
lines = [
    "## Clean build time — written by bench/build_time.sh",
    "",
    f"{datetime.date.today().isoformat()}, {cpu} ({flags}), {jobs} jobs, ccache off, RelWithDebInfo, every target, "
    f"from fresh clones built one after the other in the same run{dirty}.",
    "",
    "| commit | seconds | C++ translation units | ratio to " + bs + " |",
    "|---|---|---|---|",
    f"| {bs} (before issue 15's architecture step) | {bsec} | {bu} | 1.00 |",
    f"| {as_} | {asec} | {au} | {asec / bsec:.2f} |",
    "",
]
open(out, "w").write("\n".join(lines))
PY
python3 "$root/bench/replace_section.py" "$root/docs/BENCHMARKS.md" "$tmp/section.md"
cat "$tmp/section.md"

#!/usr/bin/env bash
# OneModel's Figure 5 (Al-Rawi & Valveny): what the sensory discriminator does to the PHOCs of
# similarly spelled labels. For the paper's example (pay, way, say × speech, vision, language,
# DJB2 mod 1000003, whose codes the paper prints) and the demo's (four words × four senses,
# the default modulus), with no discriminator, concatenation and DJB2: the distance between the
# senses of a word (PCA projection and PHOC space) and between different words of one sense.
# No training; deterministic. Writes the "OneModel hash separation" section of docs/REPRODUCTION.md.
#
#   bench/hash_separation.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cli="${OMNILAB_BUILD_DIR:-$root/build}/bin/omnilab-cli"
out="$(mktemp -d /tmp/omnilab-hash-separation.XXXX)"
run() { # run NAME WORDS MODALITIES DISCRIMINATOR [MODULUS]
  local extra=()
  [ -n "${5:-}" ] && extra=(--modulus "$5")
  "$cli" pca-labels --words "$2" --modalities "$3" --discriminator "$4" "${extra[@]}" --out "$out/$1.csv" > "$out/$1.txt"
}
run paper-concat pay,way,say speech,vision,language concat
run paper-djb2 pay,way,say speech,vision,language djb2 1000003
run demo-concat pay,way,say,day speech,vision,language,handwriting concat
run demo-djb2 pay,way,say,day speech,vision,language,handwriting djb2

python3 - "$out" "$(git rev-parse --short HEAD)" > "$out/section.md" <<'PY'
import csv, datetime, os, re, sys
out, commit = sys.argv[1:3]
def figures(name):
    t = open(os.path.join(out, name + ".txt")).read()
    m = int(re.search(r"modulus (\d+)", t).group(1))
    proj = float(re.search(r"senses of a word: \S+ without, (\S+) with", t).group(1))
    sense = float(re.search(r"senses of a word (\S+) apart", t).group(1))
    words = re.search(r"different words of one sense (\S+) without, (\S+) with", t)
    return m, proj, sense, float(words.group(1)), float(words.group(2))
print("## OneModel hash separation (Figure 5, issue 14) — written by bench/hash_separation.sh\n")
print(f"{datetime.date.today()} at commit {commit}; `omnilab-cli pca-labels`, PHOC levels 2–5, no training.\n")
print("The paper's Figure 5 shows two things for 'pay', 'way', 'say' as speech, vision and language labels: without a")
print("discriminator the senses of a word collide, and DJB2 (word + DJB2(word + sense) mod 1000003) moves them apart and")
print("\"increases the distance between words\". It does not compare DJB2 with concatenation. Our DJB2 codes are the paper's")
print("(computed without 32-bit wrap-around):", end=" ")
rows = list(csv.DictReader(open(os.path.join(out, "paper-djb2.csv"))))
print(", ".join(f"{r['label']}" for r in rows if r["discriminator"] != "none") + ".\n")
print("| words × senses | discriminator | modulus | senses of a word, PCA (0 without) | senses of a word, PHOC space | different words of one sense, PHOC space: without → with |")
print("|---|---|---|---|---|---|")
for name, label in [("paper-concat", "pay, way, say × 3"), ("paper-djb2", "pay, way, say × 3"),
                    ("demo-concat", "pay, way, say, day × 4"), ("demo-djb2", "pay, way, say, day × 4")]:
    m, proj, sense, w0, w1 = figures(name)
    kind = name.split("-")[1]
    print(f"| {label} | {kind} | {m if kind == 'djb2' else '—'} | {proj:.2f} | {sense:.2f} | {w0:.2f} → {w1:.2f} |")
print()
print("Reading: both discriminators separate the senses (the paper's first claim holds). Concatenation separates them more,")
print("because 'speech', 'vision' and 'language' differ in more letters than two hash codes do (more so with the small default")
print("modulus, whose codes have one or two digits), but it appends the same suffix to every word of a sense and so brings")
print("different words slightly closer; DJB2 gives each word and sense its own digits and moves different words apart (the")
print("paper's second claim holds for DJB2 and not for concatenation). The 1.29 against 4.58 seen before is the first effect in")
print("a PCA projection with the default modulus; it does not contradict the figure.\n")
PY
python3 bench/replace_section.py docs/REPRODUCTION.md "$out/section.md"
cat "$out/section.md"
echo "wrote the OneModel hash separation section of docs/REPRODUCTION.md"

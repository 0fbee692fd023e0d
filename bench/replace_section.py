#!/usr/bin/env python3
"""Puts a section into docs/REPRODUCTION.md: replaces the section that starts with the same
"## " heading line, or appends it. Usage: replace_section.py DOC SECTION_FILE"""
import os
import sys

doc, section_file = sys.argv[1], sys.argv[2]
section = open(section_file).read()
head = section.splitlines()[0].split(" — ")[0]
if os.path.exists(doc):
    text = open(doc).read()
else:
    text = ("# Reproduction at demo scale\n\nEach section is written by a script in bench/; rerun it to refresh "
            "the section. Figures are what came out, good or bad.\n")
if head in text:
    start = text.index(head)
    end = text.find("\n## ", start + 1)
    text = text[:start] + section + (text[end + 1:] if end >= 0 else "")
else:
    text = text.rstrip("\n") + "\n\n" + section
open(doc, "w").write(text)

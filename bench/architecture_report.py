#!/usr/bin/env python3
"""Code-structure measures of the C++ sources, printed as a Markdown section body (no heading line).
Usage: architecture_report.py [--root DIR]   (DIR defaults to the parent of this script's folder)

Scans *.cpp and *.h under core/, app/, ui/ and plugins/ (not tests/, bench/, build/) and reports:
the longest functions, the largest files, model-family checks outside core/models, dependency cycles
among core's folders, and files and lines per area. Standard library only; output is deterministic.

The function finder is a heuristic brace matcher, not a C++ parser: comments, string and character
literals (raw strings included) and preprocessor lines are blanked first, then every '{' at namespace
or class scope is classified from the tokens since the last ';', '{', '}' or access specifier."""
import argparse
import json
import bisect
import os
import re
import sys

AREAS = ("core", "app", "ui", "plugins")
EXTENSIONS = (".cpp", ".h")
FAMILY_LITERALS = ("mtal", "multimodel", "onemodel", "omninet")
MODELS_DIR = "core/models/"
TOP_N = 5


# ---------------------------------------------------------------------------------------------
# Files


def source_files(root):
    """Relative paths (with '/') of the scanned C++ files, sorted."""
    found = []
    for area in AREAS:
        base = os.path.join(root, area)
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in filenames:
                if name.endswith(EXTENSIONS):
                    found.append(os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/"))
    return sorted(found)


def read(root, rel):
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
        return f.read()


def line_count(text):
    return text.count("\n") + (1 if text and not text.endswith("\n") else 0)


def area_of(rel):
    parts = rel.split("/")
    if parts[0] == "core":
        return "core/" + parts[1] if len(parts) > 2 else "core (top level)"
    return parts[0]


# ---------------------------------------------------------------------------------------------
# Lexing: blank comments and literals, keeping every newline so that offsets map to the same lines.

RAW_PREFIXES = ("R", "u8R", "uR", "UR", "LR")


def _blank(s):
    return "".join(c if c == "\n" else " " for c in s)


def _is_ident_start(c):
    return c.isalpha() or c == "_" or c == "$"


def _is_ident_char(c):
    return c.isalnum() or c == "_" or c == "$"


def strip_source(src):
    """Returns (code, comment_spans): code is src with comments blanked and the inside of string and
    character literals blanked (the quotes stay), same length and same newlines; comment_spans are
    sorted (start, end) offsets of the comments in src."""
    out = []
    comments = []
    i, n = 0, len(src)

    def quoted(start, quote):
        """End offset (exclusive) of an ordinary literal opened at start; stops at an unescaped
        newline so that a stray quote cannot swallow the rest of the file."""
        j = start + 1
        while j < n:
            c = src[j]
            if c == "\\":
                j += 2
                continue
            if c == quote:
                return j + 1
            if c == "\n":
                return j
            j += 1
        return n

    while i < n:
        c = src[i]
        if c == "/" and i + 1 < n and src[i + 1] == "/":
            j = i + 2
            while j < n:
                if src[j] == "\n":
                    k = j - 1
                    if k > i + 1 and src[k] == "\r":
                        k -= 1
                    if k > i + 1 and src[k] == "\\":  # a line comment continued by a backslash
                        j += 1
                        continue
                    break
                j += 1
            comments.append((i, j))
            out.append(_blank(src[i:j]))
            i = j
        elif c == "/" and i + 1 < n and src[i + 1] == "*":
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            comments.append((i, j))
            out.append(_blank(src[i:j]))
            i = j
        elif c == '"' or c == "'":
            j = quoted(i, c)
            closed = j > i + 1 and src[j - 1] == c
            out.append(c + _blank(src[i + 1:j - 1 if closed else j]) + (c if closed else ""))
            i = j
        elif _is_ident_start(c):
            j = i + 1
            while j < n and _is_ident_char(src[j]):
                j += 1
            word = src[i:j]
            out.append(word)
            i = j
            if word in RAW_PREFIXES and j < n and src[j] == '"':
                # R"delim( ... )delim"; the delimiter is at most 16 characters, no spaces/parens/backslash
                open_paren = src.find("(", j + 1, j + 18)
                delim = src[j + 1:open_paren] if open_paren >= 0 else None
                if delim is not None and not re.search(r'[\s()\\"]', delim):
                    close = src.find(")" + delim + '"', open_paren + 1)
                    end = n if close < 0 else close + len(delim) + 2
                    out.append('"' + _blank(src[j + 1:end - 1]) + ('"' if close >= 0 else ""))
                    i = end
        elif c.isdigit() or (c == "." and i + 1 < n and src[i + 1].isdigit()):
            # a pp-number, so that digit separators (1'000'000) are not taken for character literals
            j = i + 1
            while j < n:
                d = src[j]
                if _is_ident_char(d) or d == ".":
                    j += 1
                elif d == "'" and j + 1 < n and _is_ident_char(src[j + 1]):
                    j += 1
                elif d in "+-" and src[j - 1] in "eEpP":
                    j += 1
                else:
                    break
            out.append(src[i:j])
            i = j
        else:
            out.append(c)
            i += 1
    code = "".join(out)
    assert len(code) == len(src)
    return code, comments


def blank_preprocessor(code):
    """Blanks preprocessor directives (with their backslash continuations) in already stripped code."""
    lines = code.split("\n")
    continuing = False
    for k, line in enumerate(lines):
        if continuing or line.lstrip().startswith("#"):
            continuing = line.rstrip().endswith("\\")
            lines[k] = " " * len(line)
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Tokens

PUNCT3 = ("...", "<=>", "->*", "<<=", ">>=")
PUNCT2 = ("::", "->", "==", "!=", "<=", ">=", "&&", "||", "<<", ">>", "+=", "-=", "*=", "/=", "%=",
          "&=", "|=", "^=", "++", "--", ".*")
TOKEN_RE = re.compile(
    r"\s+|(?P<id>[A-Za-z_$][A-Za-z0-9_$]*)|(?P<num>\.?[0-9](?:[A-Za-z0-9_.]|'(?=[A-Za-z0-9_])|(?<=[eEpP])[+-])*)"
    r"|(?P<str>\"[^\"\n]*\"?|'[^'\n]*'?)"
    r"|(?P<p>" + "|".join(re.escape(p) for p in PUNCT3 + PUNCT2) + r"|[^\sA-Za-z0-9_$])"
)


class Tok:
    __slots__ = ("kind", "text", "line")

    def __init__(self, kind, text, line):
        self.kind, self.text, self.line = kind, text, line

    def __repr__(self):
        return f"{self.text}@{self.line}"


def tokenize(code):
    toks = []
    line = 1
    pos = 0
    for m in TOKEN_RE.finditer(code):
        line += code.count("\n", pos, m.start())
        pos = m.start()
        kind = m.lastgroup
        if kind is not None:
            toks.append(Tok(kind, m.group(), line))
    return toks


# ---------------------------------------------------------------------------------------------
# Function finder

KEYWORDS = {
    "alignas", "alignof", "asm", "auto", "bool", "break", "case", "catch", "char", "char8_t", "char16_t",
    "char32_t", "class", "co_await", "co_return", "co_yield", "concept", "const", "const_cast", "consteval",
    "constexpr", "constinit", "continue", "decltype", "default", "delete", "do", "double", "dynamic_cast",
    "else", "enum", "explicit", "export", "extern", "false", "float", "for", "friend", "goto", "if",
    "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "nullptr", "operator", "private",
    "protected", "public", "register", "reinterpret_cast", "requires", "return", "short", "signed", "sizeof",
    "static", "static_assert", "static_cast", "struct", "switch", "template", "this", "thread_local",
    "throw", "true", "try", "typedef", "typeid", "typename", "union", "unsigned", "using", "virtual", "void",
    "volatile", "wchar_t", "while", "__attribute__", "__declspec",
}
CONTROL = {"if", "for", "while", "switch", "catch", "do", "else", "return"}
ACCESS = {"public", "private", "protected", "signals", "slots", "Q_SIGNALS", "Q_SLOTS"}
TAIL_QUALIFIERS = {"const", "volatile", "override", "final", "mutable", "&", "&&", "constexpr", "try",
                   "Q_DECL_OVERRIDE", "Q_DECL_FINAL", "Q_DECL_NOEXCEPT"}


class Group:
    """A balanced (...), [...] or {...} run inside a declaration header."""
    __slots__ = ("open", "start", "end", "line")

    def __init__(self, open_, start, end, line):
        self.open, self.start, self.end, self.line = open_, start, end, line

    @property
    def text(self):
        return {"(": "()", "[": "[]", "{": "{}"}[self.open]

    def __repr__(self):
        return self.text


def _is(item, text):
    return isinstance(item, Tok) and item.text == text


def _is_name(item):
    return isinstance(item, Tok) and item.kind == "id" and item.text not in KEYWORDS


class FunctionFinder:
    def __init__(self, toks):
        self.t = toks
        self.n = len(toks)
        self.functions = []  # (name, first line, last line, lines inside lambda bodies)

    # balanced matching on the token list -------------------------------------------------------
    def match(self, i, open_, close):
        depth = 0
        for j in range(i, self.n):
            s = self.t[j].text
            if s == open_:
                depth += 1
            elif s == close:
                depth -= 1
                if depth == 0:
                    return j
        return self.n - 1

    def match_back(self, j, open_, close):
        """Index of the open_ that matches the close at j, or -1."""
        depth = 0
        while j >= 0:
            s = self.t[j].text
            if s == close:
                depth += 1
            elif s == open_:
                depth -= 1
                if depth == 0:
                    return j
            j -= 1
        return -1

    def lambda_start(self, k):
        """If the '{' at k opens a lambda body, the index of its '[' introducer, else None.
        Recognises [captures] {, [captures](params) {, with mutable/constexpr/noexcept(...)/-> type."""
        p = k - 1
        q = p
        while q > max(k - 40, 0) and self.t[q].text not in (")", "]", "->", ";", "{", "}"):
            q -= 1
        if self.t[q].text == "->":  # trailing return type
            p = q - 1
        while p >= 0 and self.t[p].text in ("mutable", "constexpr", "consteval", "noexcept"):
            p -= 1
        if p >= 0 and self.t[p].text == ")":
            o = self.match_back(p, "(", ")")
            if o > 0 and self.t[o - 1].text == "noexcept":  # noexcept(expr) after the parameters
                p = o - 2
                while p >= 0 and self.t[p].text in ("mutable", "constexpr", "consteval"):
                    p -= 1
                if p < 0 or self.t[p].text != ")":
                    return None
                o = self.match_back(p, "(", ")")
            p = o - 1
        if p < 0 or self.t[p].text != "]":
            return None
        o = self.match_back(p, "[", "]")
        if o < 0 or (o > 0 and (self.t[o - 1].kind in ("id", "num") or self.t[o - 1].text in (")", "]"))):
            return None  # a subscript, not a capture list
        return o

    def lambda_lines(self, i, j):
        """Lines strictly inside the outermost lambda bodies of the function body i..j (the lines
        of their introducer and closing brace stay with the function)."""
        inside = 0
        k = i + 1
        while k < j:
            if self.t[k].text == "{":
                start = self.lambda_start(k)
                if start is not None:
                    m = self.match(k, "{", "}")
                    inside += max(0, self.t[m].line - self.t[start].line - 1)
                    k = m + 1
                    continue
            k += 1
        return inside

    def skip_angles(self, i):
        """i is at '<' after 'template'; returns the index after the matching '>'."""
        depth = 0
        j = i
        while j < self.n:
            s = self.t[j].text
            if s == "(":
                j = self.match(j, "(", ")")
            elif s == "<":
                depth += 1
            elif s == ">":
                depth -= 1
            elif s == ">>":
                depth -= 2
            elif s in (";", "{", "}"):
                return j
            if depth <= 0:
                return j + 1
            j += 1
        return j

    def skip_initializer(self, i):
        """From an '=' at declaration level to the ';' that ends the declaration (returned index is
        after it), or to an unbalanced '}' (returned index is at it)."""
        depth = 0
        j = i
        while j < self.n:
            s = self.t[j].text
            if s in ("(", "[", "{"):
                depth += 1
            elif s in (")", "]", "}"):
                if depth == 0:
                    return j
                depth -= 1
            elif s == ";" and depth == 0:
                return j + 1
            j += 1
        return j

    # declaration scopes ------------------------------------------------------------------------
    def run(self):
        i = 0
        while i < self.n:
            i = self.scope(i, "")
        return self.functions

    def scope(self, i, prefix):
        """Scans a namespace or class body (or the file) from i; returns the index after its '}'."""
        header = []
        while i < self.n:
            tok = self.t[i]
            s = tok.text
            if s == "}":
                return i + 1
            if s == ";":
                header = []
                i += 1
            elif s == ":" and header and isinstance(header[-1], Tok) and header[-1].text in ACCESS:
                header = []
                i += 1
            elif s == "template" and i + 1 < self.n and self.t[i + 1].text == "<":
                i = self.skip_angles(i + 1)
            elif s in ("(", "["):
                j = self.match(i, s, ")" if s == "(" else "]")
                header.append(Group(s, i, j, tok.line))
                i = j + 1
            elif s == "=" and not (header and _is(header[-1], "operator")):
                i = self.skip_initializer(i)
                header = []
            elif s == "{":
                kind, info = self.classify(header)
                j = self.match(i, "{", "}")
                if kind == "function":
                    name, first_line = info
                    if prefix and name.split("::")[0] != prefix.split("::")[-1]:
                        name = prefix + "::" + name  # defined inside its class
                    self.functions.append((name, first_line, self.t[j].line, self.lambda_lines(i, j)))
                    header = []
                    i = j + 1
                elif kind == "namespace":
                    i = self.scope(i + 1, prefix)
                    header = []
                elif kind == "class":
                    i = self.scope(i + 1, (prefix + "::" + info) if prefix else info)
                    header = []
                else:  # member brace-initialiser in a constructor's list, enum, brace-initialised variable...
                    header.append(Group("{", i, j, tok.line))
                    i = j + 1
            else:
                header.append(tok)
                i += 1
        return i

    def classify(self, h):
        if any(_is(x, "namespace") for x in h):
            return "namespace", None
        if len(h) >= 2 and _is(h[0], "extern") and isinstance(h[1], Tok) and h[1].kind == "str":
            return "namespace", None
        if any(_is(x, "enum") for x in h):
            return "block", None
        for k, item in enumerate(h):
            if not (isinstance(item, Group) and item.open == "("):
                continue
            prev = h[k - 1] if k > 0 else None
            if prev is None or _is(prev, "operator"):
                continue  # a bare parenthesised run, or the '()' of operator()
            if isinstance(prev, Tok) and prev.text in CONTROL:
                return "block", None
            named = self.function_name(h, k)
            if named is None:
                continue
            tail = self.tail(h, k + 1)
            if tail == "function":
                return "function", named
            if tail == "member-init":
                return "member-init", None
        for k, item in enumerate(h):
            if isinstance(item, Tok) and item.text in ("class", "struct", "union"):
                return "class", self.class_name(h, k)
        return "block", None

    @staticmethod
    def tail(h, j):
        """What follows a parameter list: 'function' (a body comes), 'member-init' (the '{' belongs
        to a member in a constructor's initialiser list) or None (not a function header)."""
        while j < len(h):
            it = h[j]
            if isinstance(it, Group) and it.open == "[":
                j += 1
            elif isinstance(it, Tok) and it.text in TAIL_QUALIFIERS:
                j += 1
            elif isinstance(it, Tok) and it.text in ("noexcept", "throw"):
                j += 1
                if j < len(h) and isinstance(h[j], Group) and h[j].open == "(":
                    j += 1
            elif _is(it, "->") or _is(it, "requires"):
                return "function"
            elif _is(it, ":"):
                return FunctionFinder.initialiser_list(h, j + 1)
            else:
                return None
        return "function"

    @staticmethod
    def initialiser_list(h, j):
        state, angle, named = "name", 0, False
        while j < len(h):
            it = h[j]
            if state == "name":
                if isinstance(it, Group) and it.open in ("(", "{") and angle <= 0:
                    if not named:
                        return None
                    state = "after"
                elif isinstance(it, Tok):
                    if it.text == "<":
                        angle += 1
                    elif it.text == ">":
                        angle -= 1
                    elif it.text == ">>":
                        angle -= 2
                    elif it.text == "," and angle <= 0:
                        return None
                    elif it.kind == "id":
                        named = True
                    elif it.text not in ("::", ",", "...") and angle <= 0:
                        return None
            else:
                if _is(it, "..."):
                    pass
                elif _is(it, ","):
                    state, angle, named = "name", 0, False
                else:
                    return None
            j += 1
        if state == "after":
            return "function"
        return "member-init" if named else None

    @staticmethod
    def function_name(h, k):
        """(qualified name, line of its first token) for the parameter list h[k], or None."""
        p = k - 1
        # operator forms: operator==, operator(), operator[], operator bool, operator std::string
        for back in range(1, 7):
            q = k - back
            if q < 0:
                break
            if back == 1 and isinstance(h[q], Group) and q >= 1 and _is(h[q - 1], "operator"):
                pieces = ["operator" + h[q].text]  # operator() and operator[]
                p = q - 2
                break
            if _is(h[q], "operator"):
                rest = [h[r] for r in range(q + 1, k)]
                if any(isinstance(x, Tok) and x.text in (";", "{", "}") for x in rest):
                    break
                sep = " " if rest and isinstance(rest[0], Tok) and rest[0].kind == "id" else ""
                pieces = ["operator" + sep + "".join(x.text for x in rest)]
                p = q - 1
                break
            if isinstance(h[q], Group) and h[q].open == "(":
                break
        else:
            pieces = None
        if p == k - 1:  # not an operator
            item = h[p]
            if _is(item, ">"):  # f<T>(...): drop the template arguments
                depth = 0
                while p >= 0:
                    if _is(h[p], ">"):
                        depth += 1
                    elif _is(h[p], "<"):
                        depth -= 1
                        if depth == 0:
                            break
                    p -= 1
                p -= 1
                if p < 0:
                    return None
                item = h[p]
            if not _is_name(item):
                return None
            pieces = [item.text]
            p -= 1
            if p >= 0 and _is(h[p], "~"):
                pieces[0] = "~" + pieces[0]
                p -= 1
        while p >= 1 and _is(h[p], "::"):
            q = p - 1
            if _is(h[q], ">"):
                depth = 0
                while q >= 0:
                    if _is(h[q], ">"):
                        depth += 1
                    elif _is(h[q], "<"):
                        depth -= 1
                        if depth == 0:
                            break
                    q -= 1
                q -= 1
            if q >= 0 and _is_name(h[q]):
                pieces.insert(0, h[q].text)
                p = q - 1
            else:
                break
        first = h[p + 1]
        return "::".join(pieces), first.line

    @staticmethod
    def class_name(h, k):
        name = []
        j = k + 1
        while j < len(h):
            it = h[j]
            if isinstance(it, Group):
                j += 1
                continue
            if it.text in (":", "final", "<", "{"):
                break
            if it.text == "::":
                name.append("::")
            elif it.kind == "id" and it.text not in KEYWORDS:
                if name and name[-1] != "::":
                    name = []  # an export macro before the name
                name.append(it.text)
            j += 1
        return "".join(name) or "(anonymous)"


def find_functions(code):
    return FunctionFinder(tokenize(blank_preprocessor(code))).run()


# ---------------------------------------------------------------------------------------------
# Measures


def enclosing_function(functions, line):
    best = None
    for name, first, last, _ in functions:
        if first <= line <= last and (best is None or last - first < best[2] - best[1]):
            best = (name, first, last)
    return best[0] if best else "(file scope)"


def line_of(offset, starts):
    """1-based line of offset, given the offsets at which lines 2, 3, ... start."""
    return bisect.bisect_right(starts, offset) + 1


def family_classes(files, stripped):
    """Class names declared in core/models (headers first; the concrete bodies live in .cpp files)."""
    names = {}
    decl = re.compile(r"\b(?:struct|class)\s+(?:alignas\s*\([^)]*\)\s*)?([A-Za-z_]\w*(?:::[A-Za-z_]\w*)*)\s*(?:final\s*)?[:{]")
    module = re.compile(r"\bTORCH_MODULE\s*\(\s*([A-Za-z_]\w*)\s*\)")
    for rel in files:
        if not rel.startswith(MODELS_DIR):
            continue
        code = stripped[rel]
        for m in decl.finditer(code):
            names.setdefault(m.group(1).split("::")[-1], rel)
        for m in module.finditer(code):
            names.setdefault(m.group(1), rel)
    return names


def tarjan(graph):
    index, low, on_stack, stack, sccs = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            sccs.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sccs


def md_table(header, rows):
    """A Markdown table; columns whose cells are all integers are right-aligned."""
    numeric = [bool(rows) and all(isinstance(r[c], int) for r in rows) for c in range(len(header))]
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--summary", action="store_true",
                    help="print the headline figures as one JSON object (for before/after tables) instead of Markdown")
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    files = source_files(root)
    if not files:
        sys.exit(f"architecture_report.py: no *.cpp / *.h under {', '.join(AREAS)} in {root}")

    raw, stripped, comments, lines, functions = {}, {}, {}, {}, {}
    for rel in files:
        raw[rel] = read(root, rel)
        stripped[rel], comments[rel] = strip_source(raw[rel])
        lines[rel] = line_count(raw[rel])
        functions[rel] = find_functions(stripped[rel])

    p = []
    p.append(
        f"Measured by `bench/architecture_report.py` over the {len(files)} C++ files (`*.cpp`, `*.h`, "
        f"{sum(lines.values())} lines) under `core/`, `app/`, `ui/` and `plugins/` (tests, benches and build "
        "output excluded): the longest functions, the largest files, model-family checks outside "
        "`core/models/`, include cycles among `core/`'s folders, and the size of each area. Function "
        "lengths come from a heuristic brace matcher (comments, literals and preprocessor lines blanked; "
        "a function runs from the line of its name to its closing brace, lambdas and local classes "
        "inside it included), not from a compiler.")

    # 1. longest functions
    allf = [(last - first + 1, rel, name, first, last, lam)
            for rel in files for name, first, last, lam in functions[rel]]
    allf.sort(key=lambda x: (-x[0], x[1], x[3], x[2]))
    p.append(f"**Longest functions** ({len(allf)} function bodies found; \"without lambdas\" leaves out the "
             "lines inside the bodies of the lambdas a function defines)")
    p.append(md_table(["File", "Function", "Lines", "Without lambdas", "Span"],
                      [(f"`{rel}`", f"`{name}`", n, n - lam, f"{first}–{last}")
                       for n, rel, name, first, last, lam in allf[:TOP_N]]))

    # 2. largest files
    big = sorted(files, key=lambda r: (-lines[r], r))[:TOP_N]
    p.append("**Largest files**")
    p.append(md_table(["File", "Lines"], [(f"`{r}`", lines[r]) for r in big]))

    # 3. family checks outside core/models
    lit = re.compile(r'"(' + "|".join(FAMILY_LITERALS) + r')"')
    checks, not_checks = {}, {}
    for rel in files:
        if rel.startswith(MODELS_DIR):
            continue
        text = raw[rel]
        starts = [m.end() for m in re.finditer("\n", text)]
        spans = comments[rel]
        span_starts = [s for s, _ in spans]
        text_lines = text.split("\n")
        for m in lit.finditer(text):
            ln = line_of(m.start(), starts)
            k = bisect.bisect_right(span_starts, m.start()) - 1
            in_comment = k >= 0 and spans[k][0] <= m.start() < spans[k][1]
            where = f"`{rel}:{ln}`"
            fn = enclosing_function(functions[rel], ln)
            literal = f'`"{m.group(1)}"`'
            if in_comment:
                why = "inside a comment (documentation)"
            elif (rel == "core/data/VideoFolderFormat.cpp" and m.group(1) == "omninet"
                  and "sampler" in text_lines[ln - 1].lower()):
                why = "dataset `sampler` option value: a frame-sampling policy name, not a model family"
            else:
                why = None
            bucket = checks if why is None else not_checks
            key = (rel, ln)
            if key not in bucket:
                bucket[key] = [where, [], f"`{fn}`"] + ([why] if why else [])
            if literal not in bucket[key][1]:
                bucket[key][1].append(literal)
    checks = [(r[0], ", ".join(r[1]), *r[2:]) for _, r in sorted(checks.items())]
    not_checks = [(r[0], ", ".join(r[1]), *r[2:]) for _, r in sorted(not_checks.items())]
    p.append(f"**Model-family checks outside `core/models/`**: {len(checks)} code lines with one of the string literals "
             + ", ".join(f'`"{x}"`' for x in FAMILY_LITERALS))
    if checks:
        p.append(md_table(["Where", "Literals", "In function"], checks))
    if not_checks:
        p.append(f"Not family checks ({len(not_checks)}):")
        p.append(md_table(["Where", "Literals", "In function", "Why not"], not_checks))

    classes = family_classes(files, stripped)
    cast = re.compile(r"\bdynamic(?:_pointer)?_cast\s*<\s*(?:const\s+)?((?:[A-Za-z_]\w*\s*::\s*)*)([A-Za-z_]\w*)")
    all_casts, family_casts = 0, []
    for rel in files:
        if rel.startswith(MODELS_DIR):
            continue
        code = stripped[rel]
        starts = [m.end() for m in re.finditer("\n", code)]
        for m in cast.finditer(code):
            all_casts += 1
            if m.group(2) in classes:
                ln = line_of(m.start(), starts)
                family_casts.append((f"`{rel}:{ln}`", f"`{m.group(2)}`", f"`{enclosing_function(functions[rel], ln)}`"))
    p.append(f"`dynamic_cast<` / `dynamic_pointer_cast<` outside `core/models/`: {all_casts} in all, "
             f"{len(family_casts)} to one of the {len(classes)} classes declared in `core/models/` "
             f"(struct/class declarations and `TORCH_MODULE` holders, e.g. "
             + ", ".join(f"`{c}`" for c in sorted(c for c in classes if c.endswith("Body"))[:6]) + ").")
    if family_casts:
        p.append(md_table(["Where", "Class", "In function"], family_casts))

    # 4. include cycles among core's folders
    inc = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"core/([^/"]+)/([^"]*)"', re.M)  # [ \t], not \s: \s would start the match on an earlier blank line
    edges = {}
    for rel in files:
        parts = rel.split("/")
        if parts[0] != "core" or len(parts) < 3:
            continue
        src = parts[1]
        code_lines = stripped[rel].split("\n")
        for m in inc.finditer(raw[rel]):
            ln = raw[rel].count("\n", 0, m.start()) + 1
            if not code_lines[ln - 1].lstrip().startswith("#"):
                continue  # commented out
            dst = m.group(1)
            if dst == src:
                continue
            edges.setdefault((src, dst), []).append((rel, ln, f"core/{dst}/{m.group(2)}"))
    graph = {}
    for (a, b) in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    sccs = sorted((c for c in tarjan(graph) if len(c) > 1), key=lambda c: (-len(c), c))
    p.append(f"**Include cycles among `core/` folders** ({len(graph)} folders, {len(edges)} folder→folder "
             f"edges from `#include \"core/<folder>/…\"`): "
             + ("0 cycles" if not sccs else f"{len(sccs)} strongly connected component(s) of more than one folder"))
    for n_, comp in enumerate(sccs, 1):
        inside = sorted((a, b) for (a, b) in edges if a in comp and b in comp)
        p.append(f"Cycle {n_}: " + ", ".join(f"`{c}`" for c in comp) + f" ({len(inside)} edges)")
        rows = []
        for a, b in inside:
            ex = sorted(edges[(a, b)])
            rel, ln, hdr = ex[0]
            rows.append((f"{a} → {b}", len(ex), f"`{rel}:{ln}` → `{hdr}`"))
        p.append(md_table(["Edge", "Includes", "Example"], rows))

    # 5. files and lines per area
    per = {}
    for rel in files:
        a = area_of(rel)
        f, l, nf = per.get(a, (0, 0, 0))
        per[a] = (f + 1, l + lines[rel], nf + len(functions[rel]))
    order = sorted(per, key=lambda a: (AREAS.index(a.split("/")[0].split(" ")[0]), a))
    p.append("**Size per area**")
    p.append(md_table(["Area", "Files", "Lines", "Functions"],
                      [(f"`{a}`", *per[a]) for a in order]
                      + [("**total**", len(files), sum(lines.values()), len(allf))]))
    if args.summary:
        top = allf[0]
        print(json.dumps({
            "longest_function": {"file": top[1], "name": top[2], "lines": top[0], "without_lambdas": top[0] - top[5]},
            "largest_file": {"file": big[0], "lines": lines[big[0]]},
            "family_checks": len(checks),
            "family_casts": len(family_casts),
            "cycles": len(sccs),
            "cycle_folders": [f for c in sccs for f in c],
            "files": len(files),
            "lines": sum(lines.values()),
        }))
        return
    print("\n\n".join(p))


if __name__ == "__main__":
    main()

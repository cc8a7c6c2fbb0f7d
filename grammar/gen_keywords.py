#!/usr/bin/env python3
"""Regenerates grammar/keepalived-keywords.tsv from a keepalived 2.2.7 source tree.

Usage: gen_keywords.py KEEPALIVED_SRC > grammar/keepalived-keywords.tsv

It replays the install_keyword_root / install_keyword / install_sublevel calls of the
keyword-table set-up functions (following calls into helper functions) and prints one row
per keyword: context path, keyword, kind. Our status column is merged from status.tsv.
Only keyword names are extracted (data, not code).
"""
import re, sys, os, collections

src = sys.argv[1]
files = []
for d, _, fs in os.walk(os.path.join(src, "keepalived")):
    files += [os.path.join(d, f) for f in fs if f.endswith(".c")]

func_re = re.compile(r'^(?:static\s+)?(?:void|const vector_t \*|bool)\s*\n?([a-z_0-9]+)\s*\(', re.M)
ev_re = re.compile(r'install_keyword_root\("([^"]+)"|install_keyword(?:_conditional)?\("([^"]+)"|install_sublevel\(\)|install_sublevel_end\(\)|install_keyword\((keyword),|\b((?:install|init)_[a-z_]*keywords?[a-z_]*)\s*\(("[^"]*")?')
funcs = {}
for f in files:
    text = open(f, errors="replace").read()
    # split into functions by "\n<name>(" at column 0 preceded by a type line
    for m in re.finditer(r'\n([a-z_0-9]+)\(([^)]*)\)\n\{(.*?)\n\}', text, re.S):
        name, body = m.group(1), m.group(3)
        evs = []
        for e in ev_re.finditer(body):
            if e.group(1): evs.append(("root", e.group(1)))
            elif e.group(2): evs.append(("kw", e.group(2)))
            elif e.group(0).startswith("install_sublevel_end"): evs.append(("end", None))
            elif e.group(0).startswith("install_sublevel"): evs.append(("sub", None))
            elif e.group(3): evs.append(("kwvar", None))
            elif e.group(4) and e.group(4) != name: evs.append(("call", (e.group(4), (e.group(5) or '').strip('"'))))
        if evs:
            funcs.setdefault(name, evs)

rows = collections.OrderedDict()
state = {"root": None, "path": [], "last": None}

def emit(ctx, kw):
    rows.setdefault((ctx, kw), True)

def run(fn, depth=0, arg=""):
    if depth > 10 or fn not in funcs: return
    for kind, val in funcs[fn]:
        if kind == "kwvar":
            kind, val = "kw", arg
        if kind == "root":
            state["root"] = val; state["path"] = [val]; state["last"] = val
            emit("root", val)
        elif kind == "kw":
            ctx = "/".join(state["path"])
            emit(ctx, val); state["last"] = val
        elif kind == "sub":
            state["path"].append(state["last"])
        elif kind == "end":
            if len(state["path"]) > 1: state["path"].pop()
        elif kind == "call":
            run(val[0], depth + 1, val[1])

for entry in ["init_global_keywords", "init_vrrp_keywords", "init_check_keywords",
              "init_bfd_keywords", "add_track_file_keywords"]:
    run(entry)

ctxs = {c for c, _ in rows}
print("# context\tkeyword\tkind\tstatus")
for (ctx, kw) in rows:
    path = kw if ctx == "root" else ctx + "/" + kw
    kind = "block" if path in ctxs else "leaf"
    print(f"{ctx}\t{kw}\t{kind}")

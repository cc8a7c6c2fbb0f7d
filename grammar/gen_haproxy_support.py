#!/usr/bin/env python3
"""Renders the support table (for README.md) from grammar/haproxy-keywords.tsv.

usage: gen_haproxy_support.py grammar/haproxy-keywords.tsv > grammar/haproxy-support.md
"""
import sys
from collections import defaultdict

rows = []
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("#") or not line.strip():
        continue
    cols = line.rstrip("\n").split("\t")
    while len(cols) < 5:
        cols.append("")
    rows.append(cols)

KINDS = [("section", "Sections"), ("global", "global keywords"), ("proxy", "Proxy keywords"),
         ("option", "`option` names"), ("bind", "bind options"), ("server", "server options"),
         ("action", "Rule actions"), ("fetch", "Sample fetches"), ("converter", "Converters")]
counts = defaultdict(lambda: defaultdict(int))
by = defaultdict(lambda: defaultdict(list))
for kw, kind, secs, status, note in rows:
    counts[kind][status] += 1
    by[kind][status].append(kw)

print("## HAProxy 2.6 keyword support\n")
print("Generated from `grammar/haproxy-keywords.tsv` by `grammar/gen_haproxy_support.py`.")
print("*implemented*: the engine acts on it (or it is a pure checker matter, see the note in the TSV);")
print("*parsed-warned*: accepted and checked like haproxy, shown by `--dump`, but the engine does not")
print("act on it yet, so `rhaproxy -c` and start-up warn \"... is not implemented yet in rhaproxy\" with")
print("FILE:LINE; *rejected*: an error worded like haproxy's (removed keywords). Fetches, converters and")
print("actions follow the engine's registries (`proxy::sample::is_supported_fetch`, `is_supported_converter`,")
print("`proxy::rules::is_supported_action`); a unit test keeps them equal.\n")
print("| kind | implemented | parsed-warned | rejected |")
print("|---|---:|---:|---:|")
for kind, title in KINDS:
    c = counts[kind]
    print(f"| {title} | {c['implemented']} | {c['parsed-warned']} | {c['rejected']} |")
print()
for kind, title in KINDS:
    if kind in ("fetch", "converter"):
        continue
    for status in ("parsed-warned", "rejected"):
        kws = sorted(set(by[kind][status]))
        if kws:
            print(f"**{title}, {status}:** " + ", ".join(f"`{k}`" for k in kws) + "\n")

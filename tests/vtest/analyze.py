#!/usr/bin/env python3
"""Summarises what HAProxy reg-tests (.vtc) need from the haproxy binary under test.

    tests/vtest/analyze.py REGTESTS_DIR [FOLDER...] [--tsv]

For every test: the config keywords its haproxy instances use (first word, plus the second word
for option/http-request/http-response/tcp-request/balance/stats/http-check/tcp-check/log-format
...), the fetches and converters in %[...] and ACLs, and the VTest features it drives (CLI,
master CLI, syslog, -W/-S/-D, -conf-BAD, HTTP/2 clients). Reads the .vtc files only.
"""
import os
import re
import sys
from collections import Counter, defaultdict

TWO_WORD = {"option", "no", "http-request", "http-response", "http-after-response",
            "tcp-request", "tcp-response", "balance", "stats", "http-check", "tcp-check",
            "timeout", "hash-type", "stick", "http-error", "cookie", "errorfile", "log"}
SECTIONS = {"global", "defaults", "frontend", "backend", "listen", "userlist", "peers",
            "resolvers", "http-errors", "cache", "ring", "program", "mailers"}


def haproxy_blocks(text):
    """Yields the config text of every `haproxy NAME ... -conf {` block."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if re.match(r"\s*haproxy\s+\S+.*-conf(-OK|-BAD\s+\S+|\+vcl)?\s*\{\s*$", line) or \
           re.match(r"\s*haproxy\s+\S+.*-conf-BAD\s+\{.*\}\s*\{\s*$", line):
            depth = 1
            block = []
            i += 1
            while i < len(lines) and depth > 0:
                l = lines[i]
                depth += l.count("{") - l.count("}")
                if depth > 0:
                    block.append(l)
                i += 1
            yield "\n".join(block)
        else:
            i += 1


def keywords(block):
    kws = set()
    for raw in block.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        w0 = words[0]
        if w0 in SECTIONS:
            kws.add("section:" + w0)
            continue
        if w0 in TWO_WORD and len(words) > 1:
            w1 = words[1]
            if w0 in ("http-request", "http-response", "http-after-response", "tcp-request",
                      "tcp-response") and w1 in ("content", "connection", "session",
                                                 "inspect-delay") and len(words) > 2:
                w1 = w1 + " " + words[2]
            kws.add(w0 + " " + w1)
        else:
            kws.add(w0)
        if w0 in ("bind", "server", "default-server"):
            for opt in ("ssl", "check", "proto", "alpn", "weight", "cookie", "backup", "inter",
                        "agent-check", "port", "addr", "send-proxy", "accept-proxy", "crt",
                        "verify", "track", "id", "maxconn", "disabled", "init-addr"):
                if re.search(r"(^|\s)" + re.escape(opt) + r"(\s|$)", line):
                    kws.add(w0 + " +" + opt)
        for m in re.finditer(r"%\[([^\]]*)\]", line):
            for part in m.group(1).split(","):
                name = re.match(r"\s*([a-z0-9_.]+)", part)
                if name:
                    kws.add("expr:" + name.group(1))
    return kws


def vtest_features(text):
    f = set()
    if re.search(r"^\s*haproxy\s+\S+\s+-cli", text, re.M):
        f.add("vtest:cli")
    if re.search(r"^\s*haproxy\s+\S+\s+-mcli", text, re.M):
        f.add("vtest:mcli")
    if re.search(r"^\s*syslog\s", text, re.M):
        f.add("vtest:syslog")
    if re.search(r"^\s*haproxy\s+\S+.*\s-(W|S|D)\s", text, re.M):
        f.add("vtest:master-worker/daemon")
    if "-conf-BAD" in text:
        f.add("vtest:conf-BAD")
    if re.search(r"txpri|rxpri|^\s*stream\s", text, re.M):
        f.add("vtest:h2")
    if "fd@${" in text:
        f.add("vtest:fd@")
    if re.search(r"-cc\s+'", text):
        f.add("vtest:-cc")
    return f


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    tsv = "--tsv" in sys.argv
    root = args[0]
    folders = args[1:] or sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    per_test = {}
    for d in folders:
        for name in sorted(os.listdir(os.path.join(root, d))):
            if not name.endswith(".vtc"):
                continue
            text = open(os.path.join(root, d, name), encoding="utf-8", errors="replace").read()
            kws = set()
            for b in haproxy_blocks(text):
                kws |= keywords(b)
            kws |= vtest_features(text)
            per_test[f"{d}/{name}"] = kws
    if tsv:
        for t, kws in per_test.items():
            print(f"{t}\t{len(kws)}\t{' | '.join(sorted(kws))}")
        return
    count = Counter()
    users = defaultdict(list)
    for t, kws in per_test.items():
        for k in kws:
            count[k] += 1
            users[k].append(t)
    for k, n in count.most_common():
        print(f"{n:4d}  {k}")


if __name__ == "__main__":
    main()

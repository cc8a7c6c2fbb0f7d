#!/usr/bin/env python3
"""Regenerates grammar/haproxy-keywords.tsv from the HAProxy 2.6 configuration manual.

usage: gen_haproxy_keywords.py /path/to/haproxy-2.6-configuration.txt > grammar/haproxy-keywords.tsv

Only keyword *names* and where they are valid are taken from the manual; our status for each
(implemented | parsed-warned | rejected) comes from the tables below, which follow what
src/haproxy/parser handles with typed IR.
"""
import os, re
import sys

text = open(sys.argv[1], encoding="utf-8", errors="replace").read().split("\n")

def lines_between(start_re, end_re):
    out, on = [], False
    for l in text:
        if not on and re.match(start_re, l):
            on = True
            continue
        if on and re.match(end_re, l):
            break
        if on:
            out.append(l)
    return out

rows = {}  # (keyword, kind) -> [sections set, status, note]

def add(kw, kind, sections, status="parsed-warned", note=""):
    key = (kw, kind)
    if key in rows:
        rows[key][0].update(sections)
        return
    rows[key] = [set(sections), status, note]

# ---- sections
SECTIONS = ["global", "defaults", "frontend", "backend", "listen", "userlist", "peers",
            "resolvers", "mailers", "http-errors", "cache", "program", "ring", "log-forward",
            "fcgi-app"]
for s in SECTIONS:
    add(s, "section", ["top"], "implemented" if s not in ("log-forward", "fcgi-app") else "parsed-warned")

# ---- global keywords (§3 list) + keywords registered in 2.6 that the list omits
for l in lines_between(r"^3\. Global parameters", r"^3\.1\. "):
    m = re.match(r"^\s+- ([a-z0-9][a-z0-9._-]*)", l)
    if m:
        add(m.group(1), "global", ["global"])
for kw in ["master-worker", "nbproc", "busy-polling", "quiet", "zero-warning", "ssl-load-extra-files",
           "ssl-load-extra-del-ext", "close-spread-time", "thread-group", "thread-groups",
           "set-var-fmt", "profiling.memory", "tune.listener.multi-queue", "tune.h2.max-frame-size",
           "tune.vars.check-max-size", "tune.fail-alloc", "tune.quic.backend.max-idle-timeout",
           "stats"]:
    add(kw, "global", ["global"])

GLOBAL_IMPL = {"daemon", "master-worker", "nbthread", "maxconn", "maxsslconn", "maxconnrate", "pidfile",
               "user", "group", "uid", "gid", "chroot", "node", "description", "log", "log-send-hostname",
               "log-tag", "stats", "ca-base", "crt-base", "ssl-default-bind-ciphers",
               "ssl-default-bind-ciphersuites", "ssl-default-bind-options", "ssl-default-server-ciphers",
               "ssl-default-server-ciphersuites", "ssl-default-server-options", "ssl-dh-param-file",
               "tune.ssl.default-dh-param", "hard-stop-after", "spread-checks", "server-state-file",
               "server-state-base", "lua-load", "lua-load-per-thread", "setenv", "presetenv", "unsetenv",
               "resetenv", "quiet", "zero-warning"}
REMOVED_GLOBAL = {
    "nbproc": "nbproc is not supported any more since HAProxy 2.5. Threads will automatically be used on multi-processor machines if available.",
}
for kw, (secs, st, note) in list(rows.items()):
    if kw[1] == "global":
        if kw[0] in GLOBAL_IMPL or kw[0].startswith("tune."):
            rows[kw][1] = "implemented" if not kw[0].startswith("tune.") else "parsed-warned"
        if kw[0] in REMOVED_GLOBAL:
            rows[kw][1] = "rejected"
            rows[kw][2] = REMOVED_GLOBAL[kw[0]]
for kw in GLOBAL_IMPL:
    if (kw, "global") in rows:
        rows[(kw, "global")][1] = "implemented"

# ---- proxy keywords (§4.1 matrix)
matrix = lines_between(r"^4\.1\. Proxy keywords matrix", r"^4\.2\. ")
cols = ["defaults", "frontend", "listen", "backend"]
for l in matrix:
    m = re.match(r"^([a-z][a-z0-9_ .()<>-]*?)\s{2,}(\(deprecated\)\s+|\(\*\)\s+)?(X|-)(?: \(!\))?\s+(X|-)\s+(X|-)\s+(X|-)\s*$", l)
    if not m:
        continue
    kw = m.group(1).strip()
    secs = [c for c, v in zip(cols, m.group(3, 4, 5, 6)) if v == "X"]
    note = "deprecated" if m.group(2) and "deprecated" in m.group(2) else ""
    if kw.startswith("option ") or kw.startswith("no option "):
        add(kw.split(" ", 1)[1] if kw.startswith("option ") else kw[10:], "option", secs, note=note)
    else:
        add(kw, "proxy", secs, note=note)
for kw in ["server-template", "enabled", "http-error", "errorfiles", "declare capture", "retry-on",
           "rate-limit sessions", "max-keep-alive-queue", "use-fcgi-app", "filter", "http-send-name-header",
           "load-server-state-from-file", "server-state-file-name", "max-session-srv-conns",
           "dynamic-cookie-key", "error-log-format", "hash-balance-factor", "force-persist",
           "ignore-persist", "persist rdp-cookie", "log-format-sd", "email-alert mailers",
           "email-alert level", "email-alert myhostname", "email-alert to", "email-alert from"]:
    add(kw, "proxy", ["defaults", "frontend", "listen", "backend"])

PROXY_IMPL = {"acl", "backlog", "balance", "bind", "capture cookie", "capture request header",
              "capture response header", "cookie", "default-server", "default_backend", "description",
              "disabled", "enabled", "errorfile", "errorfiles", "errorloc", "errorloc302", "errorloc303",
              "fullconn", "hash-type", "hash-balance-factor", "http-after-response", "http-check comment",
              "http-check connect", "http-check disable-on-404", "http-check expect", "http-check send",
              "http-check send-state", "http-check set-var", "http-check unset-var", "http-request",
              "http-response", "http-reuse", "id", "log", "log-format", "log-format-sd", "error-log-format",
              "log-tag", "maxconn", "mode", "monitor fail", "monitor-uri", "redirect", "retries", "server",
              "server-template", "source", "stats admin", "stats auth", "stats enable", "stats hide-version",
              "stats http-request", "stats realm", "stats refresh", "stats scope", "stats show-desc",
              "stats show-legends", "stats show-node", "stats uri", "stick match", "stick on",
              "stick store-request", "stick store-response", "stick-table", "tcp-check comment",
              "tcp-check connect", "tcp-check expect", "tcp-check send", "tcp-check send-binary",
              "tcp-check send-lf", "tcp-request connection", "tcp-request content",
              "tcp-request inspect-delay", "tcp-request session", "tcp-response content",
              "tcp-response inspect-delay", "timeout check", "timeout client", "timeout client-fin",
              "timeout connect", "timeout http-keep-alive", "timeout http-request", "timeout queue",
              "timeout server", "timeout server-fin", "timeout tarpit", "timeout tunnel",
              "unique-id-format", "unique-id-header", "use_backend", "use-server", "rate-limit sessions",
              "external-check command", "external-check path", "http-error"}
REMOVED_PROXY = {
    "contimeout": "the 'contimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout connect'.",
    "clitimeout": "the 'clitimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout client'.",
    "srvtimeout": "the 'srvtimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout server'.",
    "redispatch": "keyword 'redispatch' directive is not supported anymore since HAProxy 2.1. Use 'option redispatch'.",
    "reqadd": "The 'reqadd' directive is not supported anymore since HAProxy 2.1. Use 'http-request add-header' instead.",
    "rspadd": "The 'rspadd' directive is not supported anymore since HAProxy 2.1. Use 'http-response add-header' instead.",
    "block": "The 'block' directive is not supported anymore since HAProxy 2.1. Use 'http-request deny' which uses the exact same syntax.",
    "monitor-net": "'monitor-net' doesn't exist anymore. Please use 'http-request return status 200 if { src %s }' instead.",
    "grace": "the 'grace' keyword is not supported any more since HAProxy version 2.5.",
}
for kw in ["reqrep", "reqirep", "reqdel", "reqidel", "reqdeny", "reqideny", "reqpass", "reqipass",
           "reqallow", "reqiallow", "reqtarpit", "reqitarpit", "rsprep", "rspirep", "rspdel", "rspidel",
           "rspdeny", "rspideny"]:
    REMOVED_PROXY[kw] = "removed since HAProxy 2.1 (see haproxy's message for the replacement)"
for kw, note in REMOVED_PROXY.items():
    add(kw, "proxy", ["defaults", "frontend", "listen", "backend"], "rejected", note)
for kw, v in rows.items():
    if kw[1] == "proxy" and kw[0] in PROXY_IMPL:
        v[1] = "implemented"

OPTION_IMPL = {"httplog", "tcplog", "dontlognull", "dontlog-normal", "log-separate-errors",
               "log-health-checks", "forwardfor", "originalto", "http-keep-alive", "http-server-close",
               "httpclose", "redispatch", "allbackups", "abortonclose", "httpchk", "pgsql-check",
               "mysql-check", "redis-check", "ssl-hello-chk", "smtpchk", "ldap-check", "spop-check",
               "tcp-check", "external-check", "http-buffer-request", "http-ignore-probes",
               "http-pretend-keepalive", "http-no-delay", "httpslog", "persist", "prefer-last-server",
               "splice-auto", "splice-request", "splice-response", "tcpka", "clitcpka", "srvtcpka",
               "socket-stats", "transparent", "accept-invalid-http-request",
               "accept-invalid-http-response", "h1-case-adjust-bogus-client",
               "h1-case-adjust-bogus-server", "independent-streams", "nolinger", "contstats",
               "disable-h2-upgrade", "idle-close-on-response", "http-use-htx"}
add("http_proxy", "option", ["defaults", "frontend", "listen", "backend"], "rejected",
    "option 'http_proxy' is not supported any more since HAProxy 2.5")
for kw, note in [("http-tunnel", "not supported any more since HAProxy 2.1"),
                 ("forceclose", "not supported any more since HAProxy 2.0; use 'option httpclose'"),
                 ("http-use-htx", "removed in HAProxy 2.1 (HTX is always on)")]:
    add(kw, "option", ["defaults", "frontend", "listen", "backend"], "rejected", note)
for kw, v in rows.items():
    if kw[1] == "option" and kw[0] in OPTION_IMPL:
        v[1] = "implemented"

# ---- actions (§4.2 headings "http-request <action> ...", "tcp-request content <action>")
ACTION_IMPL = {"allow", "deny", "tarpit", "auth", "redirect", "set-header", "add-header", "del-header",
               "replace-header", "replace-value", "set-path", "set-pathq", "set-query", "set-uri",
               "set-method", "replace-path", "replace-pathq", "replace-uri", "set-var", "set-var-fmt",
               "unset-var", "set-status", "return", "set-log-level", "set-nice", "set-tos", "set-mark",
               "set-dst", "set-dst-port", "set-src", "set-src-port", "track-sc0", "track-sc1",
               "track-sc2", "capture", "do-resolve", "use-service", "lua", "silent-drop", "reject",
               "early-hint", "normalize-uri", "wait-for-body", "cache-use", "cache-store", "accept",
               "expect-proxy", "expect-netscaler-cip", "close", "sc-inc-gpc0", "sc-inc-gpc1"}
for l in text:
    m = re.match(r"^(http-request|http-response|http-after-response|tcp-request connection|tcp-request content|tcp-request session|tcp-response content) ([a-z][a-z0-9-]*)", l)
    if m and m.group(2) not in ("action", "options"):
        name = m.group(2)
        add(name, "action", [m.group(1)], "implemented" if name in ACTION_IMPL else "parsed-warned")

# ---- bind options (§5.1) and server options (§5.2): headings at column 0
def headings(start, end):
    out = []
    for l in lines_between(start, end):
        m = re.match(r"^([a-z][a-z0-9._-]*)(\s|$)", l)
        if m and (l.strip() == m.group(1) or "<" in l or "[" in l or len(l.split()) <= 4):
            out.append(m.group(1))
    return out

BIND_IMPL = {"name", "id", "ssl", "crt", "crt-list", "ca-file", "crl-file", "verify", "alpn", "npn",
             "ciphers", "ciphersuites", "ssl-min-ver", "ssl-max-ver", "strict-sni", "accept-proxy",
             "accept-netscaler-cip", "transparent", "v4v6", "v6only", "defer-accept", "tfo", "interface",
             "namespace", "maxconn", "backlog", "mss", "nice", "proto", "process", "thread", "tcp-ut",
             "level", "mode", "user", "group", "uid", "gid", "expose-fd", "allow-0rtt"}
for kw in headings(r"^5\.1\. Bind options", r"^5\.2\. "):
    if kw in ("the", "as", "to"):
        continue
    add(kw, "bind", ["bind"], "implemented" if kw in BIND_IMPL else "parsed-warned")

SERVER_IMPL = {"addr", "agent-check", "agent-send", "agent-inter", "agent-addr", "agent-port", "alpn",
               "backup", "ca-file", "check", "check-send-proxy", "check-alpn", "check-proto", "check-sni",
               "check-ssl", "check-via-socks4", "ciphers", "cookie", "crt", "disabled", "enabled",
               "downinter", "error-limit", "fall", "fastinter", "id", "init-addr", "inter", "maxconn",
               "maxqueue", "minconn", "namespace", "no-sslv3", "no-tlsv10", "no-tlsv11", "observe",
               "on-error", "on-marked-down", "on-marked-up", "pool-max-conn", "pool-purge-delay", "port",
               "proto", "redir", "resolvers", "resolve-prefer", "resolve-net", "rise", "send-proxy",
               "send-proxy-v2", "send-proxy-v2-ssl", "send-proxy-v2-ssl-cn", "slowstart", "sni", "source",
               "ssl", "ssl-min-ver", "ssl-max-ver", "tfo", "track", "verify", "verifyhost", "weight"}
for kw in headings(r"^5\.2\. Server and default-server options", r"^5\.3\. "):
    if kw in ("the", "as", "to", "server", "default"):
        continue
    add(kw, "server", ["server", "default-server"], "implemented" if kw in SERVER_IMPL else "parsed-warned")

# ---- sample fetches (§7.3.2–7.3.6) and converters (§7.3.1): "name[(args)] : type"
def sample_heads(start, end, kind):
    for l in lines_between(start, end):
        m = re.match(r"^([a-z][a-z0-9._]*)(\(|\[| :|\s*$)", l)
        if m and " : " in l:
            add(m.group(1), kind, ["sample"], "implemented")
def converter_heads():
    body = lines_between(r"^7\.3\.1\. Converters", r"^7\.3\.2\. ")
    for i, l in enumerate(body[:-1]):
        m = re.match(r"^([a-z0-9][a-z0-9._]*)(\(.*)?(\s*:.*)?$", l)
        if m and body[i + 1].startswith("  ") and not l.endswith("."):
            add(m.group(1), "converter", ["sample"], "implemented")
converter_heads()
# map_<match>[_<output>] converters are documented as one pattern heading
for m in ["", "_str", "_beg", "_sub", "_dir", "_dom", "_end", "_reg", "_int", "_ip"]:
    for o in ["", "_int", "_ip"]:
        if m == "" and o:
            continue
        add("map" + m + o, "converter", ["sample"], "implemented", "map converter")
add("map_regm", "converter", ["sample"], "implemented", "map converter")
for kw in ["fcgi.docroot", "fcgi.index", "nbproc", "sc1_clr_gpc"]:
    add(kw, "fetch", ["sample"], "implemented")
# ACL derivatives ("hdr_beg([<name>]) : prefix match") listed under each fetch
for l in lines_between(r"^7\.3\.2\. Fetching samples from internal", r"^7\.4\. "):
    m = re.match(r"^\s{2,}([a-z][a-z0-9_.]*)(\([^)]*\))?\s*: (exact|prefix|suffix|substring|subdir|domain|regex|length|boolean|integer|IP|binary|string)", l)
    if m:
        add(m.group(1), "fetch", ["sample"], "implemented", "ACL derivative")
sample_heads(r"^7\.3\.2\. Fetching samples from internal", r"^7\.4\. ", "fetch")

# ---- other sections' keywords
OTHER = {
    "userlist": ["group", "user"],
    "peers": ["bind", "default-bind", "default-server", "disabled", "enable", "log", "peer", "server",
              "shards", "table"],
    "mailers": ["mailer", "timeout mail"],
    "program": ["command", "user", "group", "option start-on-reload"],
    "http-errors": ["errorfile"],
    "ring": ["description", "format", "maxlen", "server", "size", "timeout connect", "timeout server"],
    "log-forward": ["backlog", "bind", "dgram-bind", "log", "maxconn", "timeout client"],
    "resolvers": ["accepted_payload_size", "nameserver", "parse-resolv-conf", "hold", "resolve_retries",
                  "timeout resolve", "timeout retry"],
    "cache": ["total-max-size", "max-object-size", "max-age", "process-vary", "max-secondary-entries"],
    "fcgi-app": ["docroot", "index", "log-stderr", "option get-values", "option keep-conn",
                 "option max-reqs", "option mpxs-conns", "path-info", "pass-header", "set-param"],
}
for sec, kws in OTHER.items():
    for kw in kws:
        st = "parsed-warned" if sec in ("log-forward", "fcgi-app") or kw in ("shards", "table", "default-bind") else "implemented"
        add(kw, sec, [sec], st)

# Statuses are engine truth, maintained in the TSV itself (tests in src/haproxy/engine_support.rs
# pin fetches/converters/actions to the engine's registries): keep the status and note of every
# row already in the TSV; the tables above only seed rows for keywords new to it.
_tsv = os.path.join(os.path.dirname(os.path.abspath(__file__)), "haproxy-keywords.tsv")
if os.path.exists(_tsv):
    for _line in open(_tsv):
        if _line.startswith("#") or not _line.strip():
            continue
        _c = _line.rstrip("\n").split("\t") + ["", ""]
        if (_c[0], _c[1]) in rows:
            rows[(_c[0], _c[1])][1] = _c[3]
            rows[(_c[0], _c[1])][2] = _c[4]

print("# keyword\tkind\tsections\tstatus\tnote")
print("# Generated by grammar/gen_haproxy_keywords.py from the HAProxy 2.6 configuration manual.")
for (kw, kind), (secs, st, note) in sorted(rows.items(), key=lambda r: (r[0][1], r[0][0])):
    print(f"{kw}\t{kind}\t{','.join(sorted(secs))}\t{st}\t{note}")

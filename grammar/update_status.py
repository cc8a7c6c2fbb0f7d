#!/usr/bin/env python3
"""Refreshes the status column of keepalived-keywords.tsv from src/keepalived/typed.rs:
a keyword is `typed` when the extractor function for its context handles it."""
import re, os
here = os.path.dirname(os.path.abspath(__file__))
typed = open(os.path.join(here, "../src/keepalived/typed.rs")).read()

def body(name):
    i = typed.find(f"fn {name}(")
    ends = [x for x in (typed.find("\n    fn ", i + 10), typed.find("\n    pub fn ", i + 10), typed.find("\npub fn ", i + 10)) if x > 0]
    return typed[i:min(ends) if ends else len(typed)]

def kws(text):
    return set(re.findall(r'"([A-Za-z0-9_\-]+)"\s*(?:=>|\|)', text)) | set(re.findall(r'\|\s*"([A-Za-z0-9_\-]+)"', text))

by_ctx = {"root": kws(body("extract")) - {"use_pid_dir"}, "global_defs": kws(body("global_defs")),
          "vrrp_instance": kws(body("instance")), "vrrp_instance/authentication": kws(body("authentication")),
          "vrrp_script": kws(body("vrrp_script")), "vrrp_sync_group": kws(body("sync_group")),
          "virtual_server": kws(body("virtual_server")), "virtual_server/real_server": kws(body("real_server")),
          "vrrp_track_file": kws(body("track_file_block")), "track_file": kws(body("track_file_block"))}
checker = kws(body("checker"))
warned = {"nb_get_retry": "warned: deprecated, use retry (as keepalived)",
          "vrrp_iptables": "warned: iptables not supported (as Debian's keepalived)",
          "vrrp_ipsets": "warned: iptables not supported (as Debian's keepalived)",
          "vmac_garp_intvl": "warned: deprecated (as keepalived)",
          "vrrp_vmac_garp_intvl": "warned: deprecated (as keepalived)"}
path = os.path.join(here, "keepalived-keywords.tsv")
out = []
for line in open(path):
    if line.startswith("#"):
        out.append(line)
        continue
    c, k, kind, _ = line.rstrip("\n").split("\t")
    known = checker if c.startswith("virtual_server/real_server/") else by_ctx.get(c, set())
    status = warned.get(k) or ("typed" if k in known and not (c == "root" and k == "bfd_instance") else "accepted")
    out.append(f"{c}\t{k}\t{kind}\t{status}\n")
open(path, "w").writelines(out)

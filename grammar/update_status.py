#!/usr/bin/env python3
"""Sets the status column of keepalived-keywords.tsv from a hand audit of what the engines do.

status (engine truth, not parser truth):
  implemented   - the engine (VRRP: src/vrrp, LVS: src/lvs) acts on it, or it is purely a
                  configuration-check matter that keepalived also only checks;
  parsed-warned - recognised and checked like keepalived, but the daemon does not act on it:
                  `rkeepalived -t` and start-up print "(FILE: Line N) keyword 'X' is not
                  implemented yet in rkeepalived" for each use (exit status unchanged);
  rejected      - refused by rkeepalived.
note: keepalived's own warning for the keyword (deprecated, not supported by Debian's build).

The audit: grep each IR field (src/keepalived/ir.rs) in src/vrrp/config.rs (what the VRRP engine
receives) and in src/lvs (branch wip-lvs). Edit the sets below when a feature lands, then run
this script and `UPDATE_SUPPORT=1 cargo test --test it support_table`."""
import os

IMPLEMENTED = {
    "root": {"global_defs", "vrrp_sync_group", "vrrp_instance", "vrrp_script", "track_file",
             "vrrp_track_file", "virtual_server", "virtual_server_group", "static_ipaddress",
             "static_routes", "vrrp_track_process"},
    "vrrp_track_process": {"process", "param_match", "weight", "quorum", "quorum_max",
                           "full_command"},
    "global_defs": {"router_id", "script_user", "enable_script_security", "vrrp_version",
                    "vrrp_skip_check_adv_addr", "vrrp_check_unicast_src", "vrrp_garp_master_delay",
                    "vrrp_garp_master_repeat", "vrrp_garp_master_refresh",
                    "vrrp_garp_master_refresh_repeat", "vrrp_garp_interval", "vrrp_gna_interval",
                    "vrrp_garp_lower_prio_delay", "vrrp_garp_lower_prio_repeat",                                         "vrrp_lower_prio_no_advert", "vrrp_higher_prio_send_advert",
                    "vrrp_mcast_group4", "vrrp_mcast_group6", "vrrp_startup_delay", "notify_fifo",
                    "vrrp_notify_fifo", "default_interface", "vrrp_strict", "dynamic_interfaces",
                    # keepalived as Debian builds it only warns about these (no iptables/ipsets):
                    "vrrp_iptables", "vrrp_ipsets"},
    "vrrp_instance": {"state", "interface", "virtual_router_id", "priority", "advert_int", "version",
                      "authentication", "virtual_ipaddress", "virtual_ipaddress_excluded",
                      "virtual_routes", "unicast_src_ip", "unicast_peer", "check_unicast_src",
                      "mcast_src_ip", "mcast_dst_ip", "track_interface", "track_script",
                      "track_file", "preempt", "nopreempt", "preempt_delay",
                      "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify",
                      "garp_master_delay", "garp_master_repeat", "garp_master_refresh",
                      "garp_master_refresh_repeat", "skip_check_adv_addr", "lower_prio_no_advert",
                      "higher_prio_send_advert", "use_vmac", "dont_track_primary", "strict_mode",
                      "accept", "track_process", "unicast_ttl",
                      "notify_master_rx_lower_pri", "notify_priority_changes",
                      "garp_lower_prio_delay", "garp_lower_prio_repeat"},
    "vrrp_instance/authentication": {"auth_type", "auth_pass"},
    "vrrp_script": {"script", "interval", "timeout", "weight", "rise", "fall", "user", "init_fail"},
    "vrrp_track_file": {"file", "weight", "init_file"},
    "track_file": {"file", "weight", "init_file"},
    "vrrp_sync_group": {"group", "notify_master", "notify_backup", "notify_fault", "notify_stop",
                        "notify", "notify_priority_changes", "track_interface", "track_script",
                        "track_file", "sync_group_tracking_weight", "global_tracking"},
    # LVS: what src/lvs on branch wip-lvs (helper H6) reads from the IR.
    "virtual_server": {"retry", "delay_before_retry", "warmup", "connect_timeout", "delay_loop",
                       "inhibit_on_failure", "lb_algo", "lvs_sched", "lb_kind", "lvs_method",
                       "persistence_timeout", "persistence_granularity", "protocol", "ha_suspend",
                       "virtualhost", "alpha", "quorum_up", "quorum_down", "quorum", "hysteresis",
                       "sorry_server", "sorry_server_inhibit", "real_server"},
    "virtual_server/real_server": {"weight", "lvs_method", "uthreshold", "inhibit_on_failure",
                                   "notify_up", "notify_down", "alpha", "retry",
                                   "delay_before_retry", "warmup", "connect_timeout", "delay_loop",
                                   "virtualhost", "MISC_CHECK", "SMTP_CHECK", "TCP_CHECK",
                                   "HTTP_GET", "SSL_GET", "DNS_CHECK"},
}
CHECKER_COMMON = {"connect_ip", "connect_port", "bindto", "connect_timeout", "retry",
                  "delay_before_retry", "warmup", "delay_loop", "alpha", "log_all_failures"}
for chk, extra in {"TCP_CHECK": set(), "HTTP_GET": {"virtualhost", "http_protocol", "enable_sni",
                                                    "url", "nb_get_retry"},
                   "SSL_GET": {"virtualhost", "http_protocol", "enable_sni", "url", "nb_get_retry"},
                   "MISC_CHECK": {"misc_path", "misc_timeout", "misc_dynamic"},
                   "DNS_CHECK": {"type", "name"}, "SMTP_CHECK": {"helo_name", "host"},
                   "SMTP_CHECK/host": set()}.items():
    IMPLEMENTED[f"virtual_server/real_server/{chk}"] = CHECKER_COMMON | extra
for chk in ("HTTP_GET", "SSL_GET"):
    IMPLEMENTED[f"virtual_server/real_server/{chk}/url"] = {"path", "digest", "status_code",
                                                          "virtualhost"}

NOTES = {"nb_get_retry": "keepalived warns: deprecated, use retry",
         "vrrp_iptables": "keepalived (Debian build) warns: iptables not supported",
         "vrrp_ipsets": "keepalived (Debian build) warns: iptables not supported",
         "vmac_garp_intvl": "keepalived warns: deprecated",
         "vrrp_vmac_garp_intvl": "keepalived warns: deprecated",
         "smtp_alert": "no mail is sent",
         "accept": "rkeepalived never filters VIP traffic, i.e. always accept mode",
         "no_accept": "needs nftables (keepalived adds drop rules); rkeepalived installs none",
         "vrrp_strict": "checks and resets like keepalived; VIP traffic is not blocked (no nftables)",
         "strict_mode": "checks and resets like keepalived; VIP traffic is not blocked (no nftables)",
         "vrrp_track_process": "/proc is scanned every 250 ms (keepalived uses process events)",
         "dynamic_interfaces": "missing interface: instance in FAULT until it appears (polled every 100 ms)",
         "unicast_ttl": "IPv4 adverts; IPv6 hop limit stays 255",
         "unicast_peer": "min_ttl / max_ttl checked with check_unicast_src, like keepalived",
         "global_tracking": "keepalived warns: deprecated (same as sync_group_tracking_weight)",
         "vrrp_garp_interval": "spacing per instance (keepalived: per interface); pending addresses sent once",
         "vrrp_gna_interval": "spacing per instance (keepalived: per interface); pending addresses sent once",
         "static_ipaddress": "added at start, removed at stop; entries need dev", "notification_email": "no mail is sent"}

here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, "keepalived-keywords.tsv")
HEADER = """# keepalived 2.2.7 keyword catalogue (generated by gen_keywords.py from the keepalived sources,
# value blocks added by hand; status from the engine audit in update_status.py).
# context: root, or the path of enclosing block keywords.  kind: leaf (one line), block (has its
# own keyword table), valueblock (a { } list of values read without keyword checks).
# status: implemented = the engine acts on it (or it is only a check, as in keepalived);
# parsed-warned = checked like keepalived, but rkeepalived does not act on it and says so with
# file:line; rejected = refused.  note: keepalived's own warning, or what is missing.
#context\tkeyword\tkind\tstatus\tnote
"""
rows = []
for line in open(path):
    if line.startswith("#") or not line.strip():
        continue
    c, k, kind = line.rstrip("\n").split("\t")[:3]
    status = "implemented" if k in IMPLEMENTED.get(c, set()) else "parsed-warned"
    rows.append(f"{c}\t{k}\t{kind}\t{status}\t{NOTES.get(k, '')}\n")
open(path, "w").write(HEADER + "".join(rows))

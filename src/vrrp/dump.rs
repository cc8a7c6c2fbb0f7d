//! SIGUSR1 / SIGUSR2 dumps: `$TMPDIR/keepalived.data` and `$TMPDIR/keepalived.stats`, in
//! keepalived's layout.

use std::io::Write;
use std::path::PathBuf;

use super::engine::{Engine, Inst};
use super::log;
use super::packet::AuthType;
use super::state::VrrpState;

impl Engine {
    pub(super) fn dump_data(&self) {
        let path = tmp_path("keepalived.data");
        let mut out = String::new();
        out.push_str("------< Global definitions >------\n");
        if let Some(r) = &self.cfg.router_id {
            out.push_str(&format!(" Router ID = {r}\n"));
        }
        out.push_str("------< VRRP Topology >------\n");
        for inst in &self.insts {
            let c = &inst.cfg;
            let sm = &inst.sm;
            out.push_str(&format!(" VRRP Instance = {}\n", c.name));
            out.push_str(&format!("   VRRP Version = {}\n", c.version.number()));
            if let Some(g) = c.sync_group {
                out.push_str(&format!(
                    "   Sync group = {}\n",
                    self.cfg.sync_groups[g].name
                ));
            }
            out.push_str(&format!("   State = {}\n", sm.state()));
            if sm.state() == VrrpState::Backup {
                if let Some(m) = sm.master_addr {
                    out.push_str(&format!("   Master router = {m}\n"));
                    out.push_str(&format!("   Master priority = {}\n", sm.master_priority));
                }
            }
            out.push_str(&format!(
                "   Flags: {}\n",
                if c.unicast() {
                    "\n     Using unicast"
                } else {
                    "none"
                }
            ));
            out.push_str(&format!(
                "   Number of interface and track script faults = {}\n",
                u32::from(inst.faulted)
            ));
            out.push_str(&format!(
                "   Master down timer = {} usecs\n",
                sm.master_down_interval().as_micros()
            ));
            out.push_str(&format!("   Interface = {}\n", inst.iface.name));
            out.push_str(&format!("   Virtual Router ID = {}\n", c.vrid));
            out.push_str(&format!("   Priority = {}\n", c.priority));
            out.push_str(&format!(
                "   Effective priority = {}\n",
                sm.effective_priority()
            ));
            out.push_str(&format!(
                "   Advert interval = {} milli-sec\n",
                c.adver_int.as_millis()
            ));
            out.push_str(&format!(
                "   Preempt = {}\n",
                if c.nopreempt { "disabled" } else { "enabled" }
            ));
            if !c.preempt_delay.is_zero() {
                out.push_str(&format!(
                    "   Preempt delay = {} secs\n",
                    c.preempt_delay.as_secs_f64()
                ));
            }
            out.push_str(&format!(
                "   Authentication type = {}\n",
                match c.auth_type {
                    AuthType::None => "none",
                    AuthType::Pass => "SIMPLE_PASSWORD",
                    AuthType::Ah => "IPSEC_AH",
                }
            ));
            out.push_str(&format!("   Virtual IP ({}):\n", c.vips.len()));
            for v in &c.vips {
                out.push_str(&format!(
                    "     {} dev {} scope {}\n",
                    v.addr,
                    v.dev.as_deref().unwrap_or(&inst.iface.name),
                    v.scope
                ));
            }
            if c.unicast() {
                out.push_str(&format!("   Unicast Peer ({}):\n", c.unicast_peers.len()));
                for p in &c.unicast_peers {
                    out.push_str(&format!("     {p}\n"));
                }
            }
            stats_block(&mut out, inst);
        }
        if let Err(e) = std::fs::write(&path, out) {
            log::info(&format!("Can't open {} ({e})", path.display()));
        }
    }

    pub(super) fn dump_stats(&self) {
        let path = tmp_path("keepalived.stats");
        let mut out = String::new();
        for inst in &self.insts {
            out.push_str(&format!("VRRP Instance: {}\n", inst.cfg.name));
            stats_block(&mut out, inst);
        }
        match std::fs::File::create(&path) {
            Ok(mut f) => {
                let _ = f.write_all(out.as_bytes());
            }
            Err(e) => log::info(&format!("Can't open {} ({e})", path.display())),
        }
    }
}

/// keepalived's per-instance statistics lines (`/tmp/keepalived.stats`), plus our extra counters.
fn stats_block(out: &mut String, inst: &Inst) {
    let s = &inst.stats;
    out.push_str("  Advertisements:\n");
    out.push_str(&format!("    Received: {}\n", s.advert_rcvd));
    out.push_str(&format!("    Sent: {}\n", s.advert_sent));
    out.push_str(&format!("  Became master: {}\n", s.become_master));
    out.push_str(&format!("  Released master: {}\n", s.release_master));
    out.push_str("  Packet Errors:\n");
    out.push_str(&format!("    Length: {}\n", s.packet_len_err));
    out.push_str(&format!("    TTL: {}\n", s.ip_ttl_err));
    out.push_str(&format!("    Invalid Type: {}\n", s.invalid_type_rcvd));
    out.push_str(&format!(
        "    Advertisement Interval: {}\n",
        s.advert_interval_err
    ));
    out.push_str(&format!("    Address List: {}\n", s.addr_list_err));
    out.push_str("  Authentication Errors:\n");
    out.push_str(&format!("    Invalid Type: {}\n", s.invalid_authtype));
    out.push_str(&format!("    Type Mismatch: {}\n", s.authtype_mismatch));
    out.push_str(&format!("    Failure: {}\n", s.auth_failure));
    out.push_str("  Priority Zero:\n");
    out.push_str(&format!("    Received: {}\n", s.pri_zero_rcvd));
    out.push_str(&format!("    Sent: {}\n", s.pri_zero_sent));
    out.push_str("  Other Errors:\n");
    out.push_str(&format!("    Version: {}\n", s.version_err));
    out.push_str(&format!("    Checksum: {}\n", s.checksum_err));
    out.push_str(&format!("    Interval: {}\n", s.interval_mismatch));
    out.push_str(&format!("    Dropped: {}\n", s.dropped));
}

/// `$TMPDIR/NAME` (keepalived's `make_tmp_filename`), /tmp by default.
pub fn tmp_path(name: &str) -> PathBuf {
    let dir = std::env::var_os("TMPDIR")
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "/tmp".into());
    PathBuf::from(dir).join(name)
}

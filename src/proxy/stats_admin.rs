//! Admin actions of the stats page (`stats admin if ...`): the form a browser posts
//! (`s=SRV&...&action=ACTION&b=#ID`), applied to the live server states, and the
//! `303 See Other` answer pointing back to the page with `;st=DONE|NONE|PART|ERRP|...`.
//!
//! The form fields and result codes are HAProxy 2.6's (stats.c); a page that posted to
//! HAProxy posts to us unchanged.

use std::sync::atomic::Ordering;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::http1::{BodyKind, BodyProgress};
use super::log::Logger;
use super::runtime::{Backend, Runtime, Server};

/// The result of an admin request, as the `;st=` code of the redirect and the page's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminStatus {
    /// POST without admin rights.
    Deny,
    /// Every named server was changed.
    Done,
    /// Invalid parameters (unknown action or backend, or no named server changed).
    Errp,
    /// The form did not fit in the buffer.
    Excd,
    /// Nothing to do (no server named, or the action does not apply).
    None,
    /// Some named servers were changed, others are unknown.
    Part,
    /// Unknown result code in the URI.
    Unkn,
    /// Unsupported method or invalid request.
    Ival,
}

impl AdminStatus {
    const ALL: [AdminStatus; 8] = [
        AdminStatus::Deny,
        AdminStatus::Done,
        AdminStatus::Errp,
        AdminStatus::Excd,
        AdminStatus::None,
        AdminStatus::Part,
        AdminStatus::Unkn,
        AdminStatus::Ival,
    ];

    /// The four-letter code used in `;st=`.
    pub fn code(self) -> &'static str {
        match self {
            AdminStatus::Deny => "DENY",
            AdminStatus::Done => "DONE",
            AdminStatus::Errp => "ERRP",
            AdminStatus::Excd => "EXCD",
            AdminStatus::None => "NONE",
            AdminStatus::Part => "PART",
            AdminStatus::Unkn => "UNKN",
            AdminStatus::Ival => "IVAL",
        }
    }

    /// The status named by the first four bytes of `s` (HAProxy falls back to UNKN).
    pub fn from_code(s: &[u8]) -> AdminStatus {
        let s = &s[..s.len().min(4)];
        Self::ALL
            .into_iter()
            .find(|st| st.code().as_bytes() == s)
            .unwrap_or(AdminStatus::Unkn)
    }

    /// CSS class and message of the banner the HTML page shows for this result.
    pub fn banner(self) -> (&'static str, &'static str) {
        match self {
            AdminStatus::Done => ("active_up", "Action processed successfully."),
            AdminStatus::None => ("active_going_down", "Nothing has changed."),
            AdminStatus::Part => (
                "active_going_down",
                "Action partially processed.<br>Some server names are probably unknown or ambiguous (duplicated names in the backend).",
            ),
            AdminStatus::Errp => (
                "active_down",
                "Action not processed because of invalid parameters.<ul><li>The action is maybe unknown.</li><li>Invalid key parameter (empty or too long).</li><li>The backend name is probably unknown or ambiguous (duplicated names).</li><li>Some server names are probably unknown or ambiguous (duplicated names in the backend).</li></ul>",
            ),
            AdminStatus::Excd => (
                "active_down",
                "<b>Action not processed : the buffer couldn't store all the data.<br>You should retry with less servers at a time.</b>",
            ),
            AdminStatus::Deny => ("active_down", "<b>Action denied.</b>"),
            AdminStatus::Ival => (
                "active_down",
                "<b>Invalid requests (unsupported method or chunked encoded request).</b>",
            ),
            AdminStatus::Unkn => ("active_no_check", "Unexpected result."),
        }
    }
}

/// One action of the form's `action` select.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminAction {
    Ready,
    Drain,
    Maint,
    /// Health: disable / enable checks.
    DisableHealth,
    EnableHealth,
    /// Health: force UP / NOLB / DOWN.
    HealthUp,
    HealthNolb,
    HealthDown,
    /// Agent: disable / enable checks, force UP / DOWN.
    DisableAgent,
    EnableAgent,
    AgentUp,
    AgentDown,
    /// Kill the server's sessions.
    Shutdown,
    /// The pre-1.6 names: disable/enable (maintenance), stop/start (drain).
    LegacyDisable,
    LegacyEnable,
    LegacyStop,
    LegacyStart,
}

impl AdminAction {
    pub fn parse(v: &str) -> Option<AdminAction> {
        Some(match v {
            "ready" => AdminAction::Ready,
            "drain" => AdminAction::Drain,
            "maint" => AdminAction::Maint,
            "dhlth" => AdminAction::DisableHealth,
            "ehlth" => AdminAction::EnableHealth,
            "hrunn" => AdminAction::HealthUp,
            "hnolb" => AdminAction::HealthNolb,
            "hdown" => AdminAction::HealthDown,
            "dagent" => AdminAction::DisableAgent,
            "eagent" => AdminAction::EnableAgent,
            "arunn" => AdminAction::AgentUp,
            "adown" => AdminAction::AgentDown,
            "shutdown" => AdminAction::Shutdown,
            "disable" => AdminAction::LegacyDisable,
            "enable" => AdminAction::LegacyEnable,
            "stop" => AdminAction::LegacyStop,
            "start" => AdminAction::LegacyStart,
            _ => return None,
        })
    }
}

/// The parsed form: backend (`b`), action, and the server names (`s`), values URL-decoded.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AdminForm {
    pub backend: Option<String>,
    pub action: Option<String>,
    pub servers: Vec<String>,
}

/// Decodes `%XX` and `+` (form encoding). None on a malformed escape.
pub fn form_decode(s: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

impl AdminForm {
    /// Parses `application/x-www-form-urlencoded` data. As HAProxy, the last `b` and the last
    /// `action` win, and parsing stops at the first undecodable pair (from the end).
    pub fn parse(body: &[u8]) -> AdminForm {
        let mut form = AdminForm::default();
        for pair in body.split(|&c| c == b'&').rev() {
            let (k, v) = match pair.iter().position(|&c| c == b'=') {
                Some(p) => (&pair[..p], &pair[p + 1..]),
                None => (pair, &b""[..]),
            };
            let (Some(k), Some(v)) = (form_decode(k), form_decode(v)) else {
                break;
            };
            match k.as_str() {
                "b" if form.backend.is_none() => form.backend = Some(v),
                "action" if form.action.is_none() => form.action = Some(v),
                "s" => form.servers.push(v),
                _ => {}
            }
        }
        form.servers.reverse();
        form
    }
}

/// Finds a backend by name or by `#ID`.
fn backend_by_ref<'a>(rt: &'a Runtime, r: &str) -> Option<&'a Backend> {
    match r.strip_prefix('#') {
        Some(id) => {
            let id: u32 = id.trim().parse().ok()?;
            rt.backends.iter().find(|b| b.id == id).map(|b| &**b)
        }
        None => rt.backend(r).map(|b| &**b),
    }
}

/// Applies `action` to one server; returns whether it counts as changed (HAProxy counts a
/// server only when the action applies to it, e.g. health actions need a configured check).
fn apply_to_server(logger: &Logger, be: &Backend, srv: &Server, action: AdminAction) -> bool {
    let before = AdminSnapshot::of(be, srv);
    let changed = apply_action(be, srv, action);
    let maint = be.live.get(srv.index).is_some_and(|l| l.is_maint());
    if maint != before.maint {
        super::checker::maint_changed(logger, be, srv, maint);
    }
    report_admin_change(logger, be, srv, before);
    changed
}

fn apply_action(be: &Backend, srv: &Server, action: AdminAction) -> bool {
    let live = &be.live;
    let idx = srv.index;
    let Some(st) = live.get(idx) else {
        return false;
    };
    let checked = srv.cfg.check;
    let agent = super::cli_api::agent_configured(srv);
    match action {
        AdminAction::Ready => {
            live.set_maint(idx, false);
            live.set_drain(idx, false);
            true
        }
        AdminAction::Drain => {
            live.set_maint(idx, false);
            live.set_drain(idx, true);
            true
        }
        AdminAction::Maint => {
            live.set_maint(idx, true);
            live.set_drain(idx, false);
            true
        }
        AdminAction::LegacyDisable => !st.is_maint() && live.set_maint(idx, true),
        AdminAction::LegacyEnable => st.is_maint() && live.set_maint(idx, false),
        AdminAction::LegacyStop => !st.is_drain() && live.set_drain(idx, true),
        AdminAction::LegacyStart => st.is_drain() && live.set_drain(idx, false),
        AdminAction::DisableHealth | AdminAction::EnableHealth => {
            if checked {
                super::cli_api::set_health_enabled(srv, action == AdminAction::EnableHealth);
            }
            checked
        }
        AdminAction::HealthUp | AdminAction::HealthNolb => {
            live.set_running(idx, true);
            srv.stats
                .health
                .store(srv.cfg.rise + srv.cfg.fall - 1, Ordering::Relaxed);
            true
        }
        AdminAction::HealthDown => {
            live.set_running(idx, false);
            srv.stats.health.store(0, Ordering::Relaxed);
            true
        }
        AdminAction::DisableAgent | AdminAction::EnableAgent => {
            if agent {
                super::cli_api::set_agent_enabled(srv, action == AdminAction::EnableAgent);
            }
            agent
        }
        AdminAction::AgentUp | AdminAction::AgentDown => {
            let enabled = agent && super::cli_api::agent_enabled(srv);
            if enabled {
                live.set_running(idx, action == AdminAction::AgentUp);
            }
            enabled
        }
        AdminAction::Shutdown => {
            super::sessions::shutdown_server(srv.uid);
            true
        }
    }
}

/// Applies a posted admin form; the result is the `;st=` code.
pub fn apply(rt: &Runtime, logger: &Logger, body: &[u8]) -> AdminStatus {
    let form = AdminForm::parse(body);
    let be = match form.backend.as_deref() {
        Some(b) => match backend_by_ref(rt, b) {
            Some(be) => Some(be),
            None => return AdminStatus::Errp,
        },
        None => None,
    };
    let action = match form.action.as_deref() {
        Some(a) => match AdminAction::parse(a) {
            Some(a) => Some(a),
            None => return AdminStatus::Errp,
        },
        None => None,
    };
    let (Some(be), Some(action)) = (be, action) else {
        return AdminStatus::None;
    };
    let mut total = 0usize;
    let mut altered = 0usize;
    for name in &form.servers {
        match be.server(name) {
            Some(srv) => {
                if apply_to_server(logger, be, srv, action) {
                    altered += 1;
                    total += 1;
                }
            }
            None => total += 1,
        }
    }
    if altered > 0 {
        be.last_change
            .store(super::runtime::unix_now(), Ordering::Relaxed);
    }
    if total == 0 {
        AdminStatus::None
    } else if altered == 0 {
        AdminStatus::Errp
    } else if altered == total {
        AdminStatus::Done
    } else {
        AdminStatus::Part
    }
}

/// A server's administrative and operational state before a change, to report the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminSnapshot {
    maint: bool,
    drain: bool,
    running: bool,
}

impl AdminSnapshot {
    pub fn of(be: &Backend, srv: &Server) -> AdminSnapshot {
        let l = be.live.get(srv.index);
        AdminSnapshot {
            maint: l.is_some_and(|l| l.is_maint()),
            drain: l.is_some_and(|l| l.is_drain()),
            running: l.is_some_and(|l| l.is_running()),
        }
    }
}

/// Reports a drain change of `srv` as HAProxy does (maintenance: `checker::maint_changed`): a `[WARNING]` line on
/// stderr and the backend's log targets (alert when a running server goes to maintenance,
/// notice otherwise), plus the backend alert when it has no usable server left.
pub fn report_admin_change(logger: &Logger, be: &Backend, srv: &Server, before: AdminSnapshot) {
    let after = AdminSnapshot::of(be, srv);
    if after == before {
        return;
    }
    let kind = if srv.backup {
        "Backup Server"
    } else {
        "Server"
    };
    let name = format!("{kind} {}/{}", be.name, srv.name);
    let usable = |backup: bool| {
        be.servers
            .iter()
            .filter(|s| {
                s.backup == backup && be.live.get(s.index).is_some_and(|l| l.is_lb_usable())
            })
            .count()
    };
    let (act, bck) = (usable(false), usable(true));
    let on_backup = if bck > 0 && act == 0 {
        " Running on backup."
    } else {
        ""
    };
    let mut events: Vec<(u8, String)> = Vec::new();
    // maintenance changes are reported by `checker::maint_changed`, which also moves the
    // operational state; only what follows from them for drain is reported here
    if before.maint != after.maint {
        if before.maint && after.drain {
            events.push((5, format!("{name} remains in forced drain mode.")));
        }
    } else if !after.maint && !before.drain && after.drain {
        events.push((5, format!("{name} enters drain state. {act} active and {bck} backup servers online.{on_backup} 0 sessions requeued, 0 total in queue.")));
    } else if !after.maint && before.drain && !after.drain {
        events.push((
            5,
            format!(
                "{name} is {} (leaving forced drain).",
                if after.running { "UP" } else { "DOWN" }
            ),
        ));
    }
    let pid = std::process::id();
    for (level, msg) in events {
        eprintln!("[WARNING]  ({pid}) : {msg}");
        logger.backend_event(be.index, level, &msg);
    }
}

/// Why a posted body could not be read whole.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("request body larger than {0} bytes")]
    TooLarge(usize),
    #[error("invalid request body framing")]
    Framing,
    #[error("client closed or timed out while sending the body")]
    Io,
}

/// Reads a whole request body (`Content-Length` or chunked) of at most `limit` bytes,
/// starting with what `cbuf` already holds; chunked framing is removed.
pub async fn read_body<C: AsyncRead + Unpin>(
    client: &mut C,
    cbuf: &mut BytesMut,
    kind: BodyKind,
    limit: usize,
    wait: std::time::Duration,
) -> Result<Vec<u8>, BodyError> {
    let mut progress = BodyProgress::start(kind);
    let mut raw = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let n = progress.advance(cbuf).map_err(|_| BodyError::Framing)?;
        raw.extend_from_slice(&cbuf[..n]);
        bytes::Buf::advance(cbuf, n);
        if progress.is_done() {
            break;
        }
        if raw.len() > limit + limit / 4 {
            return Err(BodyError::TooLarge(limit));
        }
        match tokio::time::timeout_at(deadline, client.read_buf(cbuf)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => return Err(BodyError::Io),
        }
    }
    let body = if kind == BodyKind::Chunked {
        dechunk(&raw).ok_or(BodyError::Framing)?
    } else {
        raw
    };
    if body.len() > limit {
        return Err(BodyError::TooLarge(limit));
    }
    Ok(body)
}

/// Removes chunked transfer framing (size lines, extensions, trailers).
fn dechunk(mut s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    loop {
        let eol = s.windows(2).position(|w| w == b"\r\n")?;
        let line = std::str::from_utf8(&s[..eol]).ok()?;
        let size = line.split(';').next()?.trim();
        let n = usize::from_str_radix(size, 16).ok()?;
        s = &s[eol + 2..];
        if n == 0 {
            return Some(out);
        }
        out.extend_from_slice(s.get(..n)?);
        s = s.get(n + 2..)?;
    }
}

/// The `303 See Other` answer to a POST: back to the page with the result in `;st=`.
pub fn redirect(location: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 303 See Other\r\ncache-control: no-cache\r\ncontent-type: text/plain\r\ncontent-length: 0\r\nlocation: {location}\r\n\r\n"
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_parsing_keeps_last_backend_and_action() {
        let f = AdminForm::parse(b"s=srv1&s=srv%202&action=maint&b=%233&b=x");
        assert_eq!(f.backend.as_deref(), Some("x"));
        assert_eq!(f.action.as_deref(), Some("maint"));
        assert_eq!(f.servers, vec!["srv1".to_string(), "srv 2".to_string()]);
        assert_eq!(form_decode(b"a+b%2Fc"), Some("a b/c".into()));
        assert_eq!(form_decode(b"%zz"), None);
    }

    #[test]
    fn status_codes_round_trip() {
        for st in AdminStatus::ALL {
            assert_eq!(AdminStatus::from_code(st.code().as_bytes()), st);
        }
        assert_eq!(AdminStatus::from_code(b"XXXX"), AdminStatus::Unkn);
        assert_eq!(AdminAction::parse("hnolb"), Some(AdminAction::HealthNolb));
        assert_eq!(AdminAction::parse("bogus"), None);
    }

    #[test]
    fn chunked_bodies() {
        assert_eq!(
            dechunk(b"4\r\ns=a&\r\n3;x=1\r\nb=c\r\n0\r\n\r\n"),
            Some(b"s=a&b=c".to_vec())
        );
        assert_eq!(dechunk(b"zz\r\n"), None);
    }
}

//! keepalived-style logging: `Sat Nov 21 14:09:49 2026: (VI_1) Entering MASTER STATE` on the
//! console with `-l`, syslog (ident `Keepalived_vrrp`) otherwise.

use std::ffi::CString;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static CONSOLE: AtomicBool = AtomicBool::new(true);
static DETAIL: AtomicBool = AtomicBool::new(false);
static SYSLOG_OPEN: AtomicBool = AtomicBool::new(false);

/// Chooses the log destination (`-l`) and detail level (`-D`).
pub fn init(console: bool, detail: bool, facility: Option<u8>) {
    CONSOLE.store(console, Ordering::Relaxed);
    DETAIL.store(detail, Ordering::Relaxed);
    if !console && !SYSLOG_OPEN.swap(true, Ordering::Relaxed) {
        static IDENT: &[u8] = b"Keepalived_vrrp\0";
        // `-S N` selects local0..local7, like keepalived; daemon otherwise.
        let fac = match facility {
            Some(n) if n <= 7 => libc::LOG_LOCAL0 + i32::from(n) * 8,
            _ => libc::LOG_DAEMON,
        };
        // SAFETY: IDENT is a static NUL-terminated string that outlives every syslog call.
        unsafe { libc::openlog(IDENT.as_ptr() as *const libc::c_char, libc::LOG_PID, fac) };
    }
}

/// Whether `-D` (log detail) is on.
pub fn detail() -> bool {
    DETAIL.load(Ordering::Relaxed)
}

/// keepalived's console timestamp (`%a %b %e %H:%M:%S %Y`, local time).
pub fn timestamp() -> String {
    let mut now: libc::time_t = 0;
    // SAFETY: tm is plain data; time and localtime_r write into locals we own.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe {
        libc::time(&mut now);
        libc::localtime_r(&now, &mut tm);
    }
    let mut buf = [0u8; 64];
    let fmt = b"%a %b %e %H:%M:%S %Y\0";
    // SAFETY: strftime writes at most buf.len() bytes into buf.
    let n = unsafe {
        libc::strftime(
            buf.as_mut_ptr() as *mut libc::c_char,
            buf.len(),
            fmt.as_ptr() as *const libc::c_char,
            &tm,
        )
    };
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// Logs one line at LOG_INFO.
pub fn info(msg: &str) {
    if CONSOLE.load(Ordering::Relaxed) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{}: {}", timestamp(), msg);
    } else if let Ok(c) = CString::new(msg.replace('\0', " ")) {
        static FMT: &[u8] = b"%s\0";
        // SAFETY: a constant "%s" format with one NUL-terminated argument.
        unsafe {
            libc::syslog(
                libc::LOG_INFO,
                FMT.as_ptr() as *const libc::c_char,
                c.as_ptr(),
            )
        };
    }
}

/// Logs only with `-D`.
pub fn detail_info(msg: &str) {
    if detail() {
        info(msg);
    }
}

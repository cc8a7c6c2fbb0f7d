//! crypt(3) password verification for userlist `password` entries.
//!
//! HAProxy checks `password <hash>` with the system's crypt(3) (DES, MD5 `$1$`, SHA-256 `$5$`,
//! SHA-512 `$6$`, yescrypt `$y$`, ... whatever libcrypt supports). We use the same library,
//! loaded at run time with dlopen (libcrypt.so.1 is part of every glibc system), so no
//! development package is needed to build. crypt() is not reentrant: calls are serialised by a
//! mutex, and verified (password, hash) pairs are remembered so repeated requests with the
//! same credentials cost a lookup, not a hash computation.

use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::{Mutex, OnceLock};

type CryptFn = unsafe extern "C" fn(*const c_char, *const c_char) -> *mut c_char;

struct Lib {
    crypt: Option<CryptFn>,
}

// SAFETY: the function pointer is only called under CRYPT_LOCK.
unsafe impl Send for Lib {}
unsafe impl Sync for Lib {}

static LIB: OnceLock<Lib> = OnceLock::new();
static CRYPT_LOCK: Mutex<()> = Mutex::new(());
/// Small cache of successful verifications: (password, hash).
static OK_CACHE: Mutex<Vec<(Vec<u8>, String)>> = Mutex::new(Vec::new());

fn lib() -> &'static Lib {
    LIB.get_or_init(|| {
        for name in [
            &b"libcrypt.so.1\0"[..],
            b"libcrypt.so.2\0",
            b"libcrypt.so\0",
        ] {
            // SAFETY: dlopen/dlsym with NUL-terminated names; the handle is never closed.
            unsafe {
                let h = libc::dlopen(
                    name.as_ptr() as *const c_char,
                    libc::RTLD_NOW | libc::RTLD_LOCAL,
                );
                if h.is_null() {
                    continue;
                }
                let sym: *mut c_void = libc::dlsym(h, c"crypt".as_ptr());
                if !sym.is_null() {
                    return Lib {
                        crypt: Some(std::mem::transmute::<*mut c_void, CryptFn>(sym)),
                    };
                }
            }
        }
        Lib { crypt: None }
    })
}

/// Whether crypt(3) is available on this system.
pub fn available() -> bool {
    lib().crypt.is_some()
}

/// crypt(3) of `pass` with `salt` (a full hash works as salt). None if unavailable or the
/// salt/method is unsupported.
pub fn crypt(pass: &[u8], salt: &str) -> Option<String> {
    let f = lib().crypt?;
    let p = CString::new(pass).ok()?;
    let s = CString::new(salt).ok()?;
    let _g = CRYPT_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: valid C strings; the result points to static storage read before unlocking.
    unsafe {
        let r = f(p.as_ptr(), s.as_ptr());
        if r.is_null() {
            return None;
        }
        let out = CStr::from_ptr(r).to_string_lossy().into_owned();
        // glibc/xcrypt return "*0"/"*1" on failure.
        if out.starts_with('*') {
            return None;
        }
        Some(out)
    }
}

/// Checks `pass` against the crypt(3) `hash`.
pub fn verify(pass: &[u8], hash: &str) -> bool {
    {
        let c = OK_CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if c.iter().any(|(p, h)| p == pass && h == hash) {
            return true;
        }
    }
    let ok = crypt(pass, hash).map(|h| h == hash).unwrap_or(false);
    if ok {
        let mut c = OK_CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if c.len() >= 64 {
            c.remove(0);
        }
        c.push((pass.to_vec(), hash.to_string()));
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha512_crypt_roundtrip() {
        if !available() {
            eprintln!("libcrypt not available; skipping");
            return;
        }
        let h = crypt(b"secret", "$6$saltsalt$").expect("sha512-crypt supported");
        assert!(h.starts_with("$6$saltsalt$"));
        assert!(verify(b"secret", &h));
        assert!(verify(b"secret", &h), "cached");
        assert!(!verify(b"wrong", &h));
        // Known vector from the SHA-crypt specification.
        assert_eq!(
            crypt(b"Hello world!", "$5$saltstring").as_deref(),
            Some("$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5")
        );
    }
}

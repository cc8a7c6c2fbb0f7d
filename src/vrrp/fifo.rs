//! keepalived's notify FIFOs (`notify_fifo`, `vrrp_notify_fifo`): one line per state change,
//! `INSTANCE|GROUP "name" STATE priority`.

use std::path::PathBuf;

/// An open notify FIFO (keepalived's `notify_fifo` / `vrrp_notify_fifo`).
pub struct NotifyFifo {
    fd: std::os::fd::OwnedFd,
    pub path: PathBuf,
    pub created: bool,
}

impl NotifyFifo {
    /// Creates the FIFO when missing and opens it read-write, so writes never block or fail
    /// for want of a reader (like keepalived).
    pub fn open(path: &std::path::Path) -> std::io::Result<NotifyFifo> {
        use std::os::fd::FromRawFd;
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(path.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "NUL in path"))?;
        // SAFETY: mkfifo on a NUL-terminated path we own.
        let created = unsafe { libc::mkfifo(c.as_ptr(), 0o644) } == 0;
        // SAFETY: as above; the descriptor is owned from here on.
        let fd = unsafe {
            libc::open(
                c.as_ptr(),
                libc::O_RDWR | libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_NOFOLLOW,
            )
        };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor.
        let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
        Ok(NotifyFifo {
            fd,
            path: path.to_owned(),
            created,
        })
    }

    pub fn write_line(&self, line: &str) {
        use std::os::fd::AsRawFd;
        // SAFETY: writing a buffer we own to our descriptor.
        let _ = unsafe {
            libc::write(
                self.fd.as_raw_fd(),
                line.as_ptr() as *const libc::c_void,
                line.len(),
            )
        };
    }
}

//! Helpers shared by every integration-test module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Path of the freshly built `rhaproxy` binary.
pub fn rhaproxy_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rhaproxy"))
}

/// Path of the freshly built `rkeepalived` binary.
pub fn rkeepalived_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rkeepalived"))
}

/// The repository root (for `examples/`, `grammar/`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared` beside the checkout, when present (corpus, seeds).
pub fn shared_dir() -> Option<PathBuf> {
    let p = repo_root().join("..").join("shared");
    p.is_dir().then_some(p)
}

/// Runs a command to completion in `dir`, returning its output.
pub fn run_in(dir: &Path, cmd: &mut Command) -> Output {
    cmd.current_dir(dir).output().expect("spawn")
}

/// Whether an external program is on PATH (tests that need one skip loudly without it, except in CI).
pub fn have(program: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program} >/dev/null 2>&1"))
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// In CI (CI=true) a missing tool is a failure, elsewhere a skip with a message.
pub fn require(program: &str) -> bool {
    if have(program) {
        return true;
    }
    if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
        panic!("{program} is required in CI but is not installed");
    }
    eprintln!("skipping: {program} not installed");
    false
}

/// Whether the tests run as root (network namespaces need it).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs `cmd` to completion with stdout/stderr captured, killing it after `timeout`.
/// Returns the output and whether it had to be killed.
pub fn output_with_timeout(cmd: &mut Command, timeout: std::time::Duration) -> (Output, bool) {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let deadline = std::time::Instant::now() + timeout;
    let mut killed = false;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            killed = true;
            break child.wait().expect("wait");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    (
        Output {
            status,
            stdout,
            stderr,
        },
        killed,
    )
}

/// A network namespace created for one test and deleted on drop (also when the test fails).
/// Interfaces are veth pairs (the `dummy` module is not always available); both ends are up.
pub struct TestNetns {
    name: String,
    peers: usize,
}

impl TestNetns {
    /// Creates `<prefix>-<pid>-<n>` with `lo` up. Needs root.
    pub fn new(prefix: &str) -> TestNetns {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let name = format!("{prefix}-{}-{n}", std::process::id());
        let st = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .expect("ip");
        assert!(st.success(), "ip netns add {name} failed");
        let ns = TestNetns { name, peers: 0 };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// The namespace's name (for `ip netns exec`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `ip -n NS ARGS...`, panicking on failure.
    pub fn ip(&self, args: &[&str]) {
        let st = Command::new("ip")
            .arg("-n")
            .arg(&self.name)
            .args(args)
            .status()
            .expect("ip");
        assert!(st.success(), "ip -n {} {:?} failed", self.name, args);
    }

    /// Adds an interface named `ifname` (a veth whose peer is `vp<N>`), both ends up.
    pub fn add_iface(&mut self, ifname: &str) {
        let peer = format!("vp{}", self.peers);
        self.peers += 1;
        self.ip(&[
            "link", "add", "name", ifname, "type", "veth", "peer", "name", &peer,
        ]);
        self.ip(&["link", "set", ifname, "up"]);
        self.ip(&["link", "set", &peer, "up"]);
    }

    /// A command that runs `program` inside the namespace.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).arg(program);
        c
    }
}

impl Drop for TestNetns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// A loopback TCP server that runs `handler(connection, name)` on a thread per connection until
/// it is dropped: the in-test backends that answer with their own name.
pub struct ThreadServer {
    pub port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl ThreadServer {
    pub fn start(name: &str, handler: fn(std::net::TcpStream, &str)) -> ThreadServer {
        use std::sync::atomic::{AtomicBool, Ordering};
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind backend");
        let port = l.local_addr().expect("addr").port();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let name = name.to_string();
        std::thread::spawn(move || {
            for s in l.incoming() {
                if stop2.load(Ordering::Relaxed) {
                    break;
                }
                if let Ok(s) = s {
                    let name = name.clone();
                    std::thread::spawn(move || handler(s, &name));
                }
            }
        });
        ThreadServer { port, stop }
    }
}

impl Drop for ThreadServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
    }
}

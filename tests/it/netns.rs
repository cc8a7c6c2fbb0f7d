//! A reusable network-namespace lab for integration tests.
//!
//! A [`Lab`] owns uniquely named namespaces: one holding a Linux bridge (`br0`) and any number
//! of node namespaces, each connected to the bridge by a veth pair created *inside* the bridge
//! namespace (so no interface ever appears in the host namespace). Dropping the lab — also while
//! a test panics — kills every process left in its namespaces and deletes them.
//!
//! ```ignore
//! let mut lab = Lab::new("vrrp");
//! let lb1 = lab.node("lb1", "eth0", "192.168.57.130/24");
//! let out = lb1.run(&["ip", "-4", "addr", "show", "eth0"]);
//! let child = lb1.command("socat").args(["TCP-LISTEN:80,fork", "SYSTEM:echo hi"]).spawn();
//! ```
#![allow(dead_code)]

use std::os::fd::AsRawFd;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Whether this process may create namespaces (root with `ip` available).
pub fn netns_available() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    root && Command::new("ip")
        .args(["netns", "list"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Skips (returns false) without namespaces outside CI; fails in CI.
pub fn require_netns() -> bool {
    if netns_available() {
        return true;
    }
    if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
        panic!("network namespaces (root + iproute2) are required in CI");
    }
    eprintln!("skipping: needs root and iproute2 for network namespaces");
    false
}

fn run_ok(args: &[&str]) -> Output {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("spawn {args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A namespace of the lab.
#[derive(Debug, Clone)]
pub struct Ns {
    pub name: String,
}

impl Ns {
    /// A command that runs `program` inside this namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// Runs a command inside the namespace to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args[0])
            .args(&args[1..])
            .stdin(Stdio::null())
            .output()
            .expect("spawn ip netns exec")
    }

    /// Runs a command that must succeed; returns its stdout.
    pub fn run_ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} in {} failed: {}{}",
            self.name,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `ip -n NS ARGS...`, which must succeed.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut v = vec!["ip", "-n", &self.name];
        v.extend_from_slice(args);
        String::from_utf8_lossy(&run_ok(&v).stdout).into_owned()
    }

    /// Whether `addr` is configured on any interface of this namespace.
    pub fn has_addr(&self, addr: &str) -> bool {
        let out = Command::new("ip")
            .args(["-n", &self.name, "-o", "addr", "show"])
            .output();
        match out {
            Ok(o) => String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .any(|w| w.split('/').next() == Some(addr)),
            Err(_) => false,
        }
    }

    /// Runs `f` on a thread that has entered this namespace (sockets it opens stay in it).
    pub fn within<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        self.spawn_within(f)
            .join()
            .expect("namespace thread panicked")
    }

    /// Starts a thread that enters this namespace and runs `f` (a packet watcher, a server...).
    pub fn spawn_within<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> std::thread::JoinHandle<T> {
        let path = format!("/var/run/netns/{}", self.name);
        std::thread::spawn(move || {
            let file = std::fs::File::open(&path).expect("open netns");
            // SAFETY: setns on this thread only, with a namespace fd we hold open.
            let r = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(r, 0, "setns: {}", std::io::Error::last_os_error());
            f()
        })
    }
}

/// Namespaces, a bridge and veth links; everything is removed on drop.
pub struct Lab {
    prefix: String,
    bridge: Ns,
    nodes: Vec<Ns>,
    links: u32,
}

impl Lab {
    /// Creates a lab with a bridge namespace; `tag` (≤ 6 chars) helps reading `ip netns list`.
    pub fn new(tag: &str) -> Lab {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let prefix = format!("{}{}x{}", tag, std::process::id() % 100_000, n);
        let bridge = Ns {
            name: format!("{prefix}-br"),
        };
        run_ok(&["ip", "netns", "add", &bridge.name]);
        let lab = Lab {
            prefix,
            bridge,
            nodes: Vec::new(),
            links: 0,
        };
        lab.bridge.ip(&["link", "set", "lo", "up"]);
        lab.bridge.ip(&["link", "add", "br0", "type", "bridge"]);
        // no STP delays, forward at once
        lab.bridge.ip(&[
            "link",
            "set",
            "br0",
            "type",
            "bridge",
            "forward_delay",
            "0",
            "stp_state",
            "0",
        ]);
        lab.bridge.ip(&["link", "set", "br0", "up"]);
        lab
    }

    /// The bridge namespace.
    pub fn bridge(&self) -> &Ns {
        &self.bridge
    }

    /// Creates node namespace `short` with interface `ifname` on the bridge, holding `cidr`.
    pub fn node(&mut self, short: &str, ifname: &str, cidr: &str) -> Ns {
        let ns = Ns {
            name: format!("{}-{}", self.prefix, short),
        };
        run_ok(&["ip", "netns", "add", &ns.name]);
        self.nodes.push(ns.clone());
        ns.ip(&["link", "set", "lo", "up"]);
        self.connect(&ns, ifname, Some(cidr));
        ns
    }

    /// Adds another interface `ifname` of `ns` on the bridge (optionally addressed).
    pub fn connect(&mut self, ns: &Ns, ifname: &str, cidr: Option<&str>) {
        self.links += 1;
        let port = format!("p{}", self.links);
        self.bridge.ip(&[
            "link", "add", &port, "type", "veth", "peer", "name", ifname, "netns", &ns.name,
        ]);
        self.bridge.ip(&["link", "set", &port, "master", "br0"]);
        self.bridge.ip(&["link", "set", &port, "up"]);
        if let Some(c) = cidr {
            ns.ip(&["addr", "add", c, "dev", ifname]);
        }
        ns.ip(&["link", "set", ifname, "up"]);
    }

    /// Takes a node's link down or up from the bridge side (cable pull).
    pub fn set_port(&self, n: u32, up: bool) {
        self.bridge.ip(&[
            "link",
            "set",
            &format!("p{n}"),
            if up { "up" } else { "down" },
        ]);
    }
}

fn kill_all_in(ns: &str) {
    if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() {
        for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            if let Ok(p) = pid.parse::<i32>() {
                // SAFETY: signalling processes that live in our own test namespace.
                unsafe {
                    libc::kill(p, libc::SIGCONT);
                    libc::kill(p, libc::SIGKILL);
                }
            }
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in self.nodes.iter().chain(std::iter::once(&self.bridge)) {
            kill_all_in(&ns.name);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        for ns in self.nodes.iter().chain(std::iter::once(&self.bridge)) {
            let _ = Command::new("ip").args(["netns", "del", &ns.name]).status();
        }
    }
}

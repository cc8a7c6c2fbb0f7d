//! The VRRP engine's contact with the kernel: raw VRRP/AH sockets, interface facts, virtual
//! addresses and routes through a small NETLINK_ROUTE client, gratuitous ARP (AF_PACKET) and
//! unsolicited neighbour advertisements (ICMPv6).
//!
//! Every `unsafe` block is a plain libc call on buffers we own, with its lengths checked.

use std::ffi::CString;
use std::io;
use std::mem::{size_of, MaybeUninit};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockAddr, Socket, Type};
use tokio::io::unix::AsyncFd;

use super::config::{RouteConfig, VipConfig};
use super::packet::{IPPROTO_AH, IPPROTO_VRRP, MCAST_V4, MCAST_V6, VRRP_TTL};

/// Facts about a network interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub index: u32,
    pub mac: [u8; 6],
    /// The primary IPv4 address (the advert source unless configured).
    pub ipv4: Option<Ipv4Addr>,
    /// The first link-local IPv6 address (the IPv6 advert source).
    pub ipv6_link_local: Option<Ipv6Addr>,
}

/// The index of interface `name`.
pub fn if_index(name: &str) -> io::Result<u32> {
    let c = CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface name has NUL"))?;
    // SAFETY: c is a valid NUL-terminated string.
    let idx = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if idx == 0 {
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("interface {name} not found"),
        ))
    } else {
        Ok(idx)
    }
}

/// An `ifreq` ioctl on a throwaway datagram socket (namespace-correct, unlike /sys).
fn ifreq_ioctl(name: &str, request: libc::c_ulong) -> Option<libc::ifreq> {
    if name.is_empty() || name.len() >= libc::IFNAMSIZ {
        return None;
    }
    // SAFETY: ifreq is plain data; the name fits (checked above) and stays NUL-terminated.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(name.as_bytes()) {
        *d = *s as libc::c_char;
    }
    let sock = Socket::new(Domain::IPV4, Type::DGRAM, None).ok()?;
    // SAFETY: the ioctl reads the name and writes into req, which we own.
    let r = unsafe { libc::ioctl(sock.as_raw_fd(), request as _, &mut req) };
    (r == 0).then_some(req)
}

fn read_mac(name: &str) -> [u8; 6] {
    let mut mac = [0u8; 6];
    if let Some(req) = ifreq_ioctl(name, libc::SIOCGIFHWADDR) {
        // SAFETY: SIOCGIFHWADDR fills the ifru_hwaddr member.
        let data = unsafe { req.ifr_ifru.ifru_hwaddr.sa_data };
        for (d, s) in mac.iter_mut().zip(data.iter()) {
            *d = *s as u8;
        }
    }
    mac
}

/// Whether an interface is up and running (keepalived's `IF_FLAGS_UP`).
pub fn interface_is_up(name: &str) -> bool {
    match ifreq_ioctl(name, libc::SIOCGIFFLAGS) {
        Some(req) => {
            // SAFETY: SIOCGIFFLAGS fills the ifru_flags member.
            let flags = i32::from(unsafe { req.ifr_ifru.ifru_flags });
            flags & libc::IFF_UP != 0 && flags & libc::IFF_RUNNING != 0
        }
        None => false,
    }
}

/// Looks an interface up: index, MAC and addresses (through `getifaddrs`, primary first).
pub fn lookup_interface(name: &str) -> io::Result<Interface> {
    let index = if_index(name)?;
    let mut ipv4 = None;
    let mut ipv6_link_local = None;
    let mut ifap: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills ifap with a list we free below.
    if unsafe { libc::getifaddrs(&mut ifap) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut cur = ifap;
    while !cur.is_null() {
        // SAFETY: cur points into the list getifaddrs returned.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_addr.is_null() || ifa.ifa_name.is_null() {
            continue;
        }
        // SAFETY: ifa_name is a NUL-terminated string owned by the list.
        let ifname = unsafe { std::ffi::CStr::from_ptr(ifa.ifa_name) };
        if ifname.to_bytes() != name.as_bytes() {
            continue;
        }
        // SAFETY: ifa_addr is non-null and starts with sa_family.
        let family = i32::from(unsafe { (*ifa.ifa_addr).sa_family });
        if family == libc::AF_INET && ipv4.is_none() {
            // SAFETY: AF_INET addresses are sockaddr_in.
            let sin = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
            ipv4 = Some(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)));
        } else if family == libc::AF_INET6 && ipv6_link_local.is_none() {
            // SAFETY: AF_INET6 addresses are sockaddr_in6.
            let sin6 = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in6) };
            let a = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            if a.segments()[0] & 0xffc0 == 0xfe80 {
                ipv6_link_local = Some(a);
            }
        }
    }
    // SAFETY: ifap came from getifaddrs.
    unsafe { libc::freeifaddrs(ifap) };
    Ok(Interface {
        name: name.to_owned(),
        index,
        mac: read_mac(name),
        ipv4,
        ipv6_link_local,
    })
}

fn setsockopt_int(fd: RawFd, level: i32, name: i32, val: i32) -> io::Result<()> {
    // SAFETY: passing a pointer to a live i32 and its size.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            &val as *const i32 as *const libc::c_void,
            size_of::<i32>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// A received advert with its ancillary facts.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    pub len: usize,
    pub src: IpAddr,
    /// IPv6 only (IPv4 carries it in the header): destination and hop limit.
    pub dst: Option<Ipv6Addr>,
    pub hop_limit: Option<u8>,
}

/// The raw sockets of one instance: one to receive (joined to the VRRP group, or bound to the
/// unicast source), one to send.
pub struct VrrpSocket {
    rx: AsyncFd<Socket>,
    tx: Socket,
    ipv6: bool,
    ifindex: u32,
}

/// How to open an instance's sockets.
#[derive(Debug, Clone, Copy)]
pub struct SocketSpec<'a> {
    pub interface: &'a Interface,
    pub ipv6: bool,
    /// Listen for AH (IPv4 with `auth_type AH`) instead of VRRP.
    pub ah: bool,
    /// Unicast mode: bind the receive socket to this local address.
    pub unicast_src: Option<IpAddr>,
    /// IPv6 source for sends (link-local by default).
    pub src6: Option<Ipv6Addr>,
}

impl VrrpSocket {
    pub fn open(spec: &SocketSpec<'_>) -> io::Result<VrrpSocket> {
        let proto = if spec.ah { IPPROTO_AH } else { IPPROTO_VRRP };
        let domain = if spec.ipv6 {
            Domain::IPV6
        } else {
            Domain::IPV4
        };
        let ifname = spec.interface.name.as_bytes();
        let index = spec.interface.index;

        let rx = Socket::new(domain, Type::RAW, Some(Protocol::from(i32::from(proto))))?;
        rx.set_nonblocking(true)?;
        rx.set_cloexec(true)?;
        if spec.ipv6 {
            // IPV6_MULTICAST_ALL = 29
            let _ = setsockopt_int(rx.as_raw_fd(), libc::IPPROTO_IPV6, 29, 0);
            setsockopt_int(rx.as_raw_fd(), libc::IPPROTO_IPV6, libc::IPV6_CHECKSUM, 6)?;
            setsockopt_int(
                rx.as_raw_fd(),
                libc::IPPROTO_IPV6,
                libc::IPV6_RECVHOPLIMIT,
                1,
            )?;
            setsockopt_int(
                rx.as_raw_fd(),
                libc::IPPROTO_IPV6,
                libc::IPV6_RECVPKTINFO,
                1,
            )?;
        } else {
            setsockopt_int(rx.as_raw_fd(), libc::IPPROTO_IP, libc::IP_MULTICAST_ALL, 0)?;
        }
        match spec.unicast_src {
            None => {
                if spec.ipv6 {
                    rx.join_multicast_v6(&MCAST_V6, index)?;
                } else {
                    rx.join_multicast_v4_n(&MCAST_V4, &InterfaceIndexOrAddress::Index(index))?;
                    // Binding to the group keeps unicast packets out.
                    rx.bind(&SockAddr::from(SocketAddrV4::new(MCAST_V4, 0)))?;
                }
            }
            Some(src) => {
                let sa = match src {
                    IpAddr::V4(a) => SocketAddr::V4(SocketAddrV4::new(a, 0)),
                    IpAddr::V6(a) => SocketAddr::V6(SocketAddrV6::new(a, 0, 0, index)),
                };
                rx.bind(&SockAddr::from(sa))?;
            }
        }
        rx.bind_device(Some(ifname))?;

        let tx = Socket::new(domain, Type::RAW, Some(Protocol::from(i32::from(proto))))?;
        tx.set_nonblocking(true)?;
        tx.set_cloexec(true)?;
        tx.set_recv_buffer_size(0).ok();
        tx.bind_device(Some(ifname))?;
        if spec.ipv6 {
            setsockopt_int(tx.as_raw_fd(), libc::IPPROTO_IPV6, libc::IPV6_CHECKSUM, 6)?;
            tx.set_multicast_hops_v6(u32::from(VRRP_TTL))?;
            tx.set_unicast_hops_v6(u32::from(VRRP_TTL))?;
            tx.set_multicast_if_v6(index)?;
            tx.set_multicast_loop_v6(false)?;
            let src = spec.unicast_src.and_then(|a| match a {
                IpAddr::V6(v6) => Some(v6),
                IpAddr::V4(_) => None,
            });
            if let Some(src) = src.or(spec.src6) {
                let scope = if src.segments()[0] & 0xffc0 == 0xfe80 {
                    index
                } else {
                    0
                };
                // A link-local address still in DAD cannot be bound yet; the kernel then picks
                // the source itself (the interface's link-local once valid).
                if let Err(e) = tx.bind(&SockAddr::from(SocketAddrV6::new(src, 0, 0, scope))) {
                    if e.raw_os_error() != Some(libc::EADDRNOTAVAIL) {
                        return Err(e);
                    }
                }
            }
        } else {
            tx.set_header_included_v4(true)?;
            // By index (ip_mreqn): the VMAC has no address of its own.
            // SAFETY: ip_mreqn is plain data.
            let mut mreq: libc::ip_mreqn = unsafe { std::mem::zeroed() };
            mreq.imr_ifindex = index as i32;
            // SAFETY: passing a live ip_mreqn and its size.
            let r = unsafe {
                libc::setsockopt(
                    tx.as_raw_fd(),
                    libc::IPPROTO_IP,
                    libc::IP_MULTICAST_IF,
                    &mreq as *const libc::ip_mreqn as *const libc::c_void,
                    size_of::<libc::ip_mreqn>() as libc::socklen_t,
                )
            };
            if r != 0 {
                return Err(io::Error::last_os_error());
            }
            tx.set_multicast_loop_v4(false)?;
        }
        // SO_PRIORITY: keepalived sends adverts at TC_PRIO_CONTROL (7).
        let _ = setsockopt_int(tx.as_raw_fd(), libc::SOL_SOCKET, libc::SO_PRIORITY, 7);
        // SAFETY: `rx` owns its descriptor, which stays open as long as the AsyncFd holds it.
        let rx = unsafe { AsyncFd::register_with_interest(rx, tokio::io::Interest::READABLE) }
            .map_err(|e| io::Error::other(e.to_string()))?;
        Ok(VrrpSocket {
            rx,
            tx,
            ipv6: spec.ipv6,
            ifindex: index,
        })
    }

    /// Sends one datagram (a whole IPv4 packet, or an IPv6 VRRP payload) to `dst`.
    pub fn send(&self, bytes: &[u8], dst: IpAddr) -> io::Result<()> {
        let sa = match dst {
            IpAddr::V4(a) => SocketAddr::V4(SocketAddrV4::new(a, 0)),
            IpAddr::V6(a) => {
                let scope = if a.is_multicast() || a.segments()[0] & 0xffc0 == 0xfe80 {
                    self.ifindex
                } else {
                    0
                };
                SocketAddr::V6(SocketAddrV6::new(a, 0, 0, scope))
            }
        };
        self.tx.send_to(bytes, &SockAddr::from(sa)).map(|_| ())
    }

    /// Waits for the next datagram.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<Received> {
        loop {
            let mut guard = self.rx.readable().await?;
            let ipv6 = self.ipv6;
            match guard.try_io(|inner| recv_msg(inner.get_ref().as_raw_fd(), buf, ipv6)) {
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }
}

/// `recvmsg` with IPv6 ancillary data (hop limit, destination).
fn recv_msg(fd: RawFd, buf: &mut [u8], ipv6: bool) -> io::Result<Received> {
    let mut name: MaybeUninit<libc::sockaddr_storage> = MaybeUninit::zeroed();
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    let mut control = [0u64; 16];
    // SAFETY: msghdr is plain data; zeroed is a valid starting value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = name.as_mut_ptr() as *mut libc::c_void;
    msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: every pointer in msg refers to a live buffer of the stated size.
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_TRUNC) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let len = (n as usize).min(buf.len());
    if msg.msg_flags & libc::MSG_TRUNC != 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "datagram truncated",
        ));
    }
    // SAFETY: the kernel wrote a sockaddr of msg_namelen bytes.
    let storage = unsafe { name.assume_init() };
    let src = match i32::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: AF_INET storage holds a sockaddr_in.
            let sin = unsafe {
                &*(&storage as *const libc::sockaddr_storage as *const libc::sockaddr_in)
            };
            IpAddr::V4(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)))
        }
        libc::AF_INET6 => {
            // SAFETY: AF_INET6 storage holds a sockaddr_in6.
            let sin6 = unsafe {
                &*(&storage as *const libc::sockaddr_storage as *const libc::sockaddr_in6)
            };
            IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr))
        }
        _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    };
    let mut dst = None;
    let mut hop_limit = None;
    if ipv6 {
        // SAFETY: iterating the control buffer with the libc CMSG helpers over msg.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
            while !cmsg.is_null() {
                let c = &*cmsg;
                if c.cmsg_level == libc::IPPROTO_IPV6 && c.cmsg_type == libc::IPV6_HOPLIMIT {
                    let v = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg) as *const i32);
                    hop_limit = Some(v.clamp(0, 255) as u8);
                } else if c.cmsg_level == libc::IPPROTO_IPV6 && c.cmsg_type == libc::IPV6_PKTINFO {
                    let info =
                        std::ptr::read_unaligned(libc::CMSG_DATA(cmsg) as *const libc::in6_pktinfo);
                    dst = Some(Ipv6Addr::from(info.ipi6_addr.s6_addr));
                }
                cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
            }
        }
    }
    Ok(Received {
        len,
        src,
        dst,
        hop_limit,
    })
}

// ---------------------------------------------------------------------------------------------
// NETLINK_ROUTE

const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_REPLACE: u16 = 0x100;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_NEWADDR: u16 = 20;
const RTM_DELADDR: u16 = 21;
const RTM_NEWROUTE: u16 = 24;
const RTM_DELROUTE: u16 = 25;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_LABEL: u16 = 3;
const IFA_BROADCAST: u16 = 4;
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PRIORITY: u16 = 6;
const RTA_PREFSRC: u16 = 7;
const RTA_TABLE: u16 = 15;
const RTPROT_KEEPALIVED: u8 = 18;
const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_LINK: u16 = 5;
const IFLA_LINKINFO: u16 = 18;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const IFLA_MACVLAN_MODE: u16 = 1;
const MACVLAN_MODE_PRIVATE: u32 = 1;
const IFF_UP: u32 = 0x1;

/// A netlink message under construction.
struct NlMsg {
    buf: Vec<u8>,
}

impl NlMsg {
    fn new(kind: u16, flags: u16) -> Self {
        let mut buf = Vec::with_capacity(128);
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(&(flags | NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        buf.extend_from_slice(&0u32.to_ne_bytes()); // seq
        buf.extend_from_slice(&0u32.to_ne_bytes()); // pid
        NlMsg { buf }
    }
    fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }
    fn pad(&mut self) {
        while self.buf.len() % 4 != 0 {
            self.buf.push(0);
        }
    }
    fn attr(&mut self, kind: u16, data: &[u8]) {
        let len = 4 + data.len();
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(data);
        self.pad();
    }
    /// Starts a nested attribute; returns its offset for [`end_nest`](Self::end_nest).
    fn begin_nest(&mut self, kind: u16) -> usize {
        let at = self.buf.len();
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        at
    }
    fn end_nest(&mut self, at: usize) {
        let len = (self.buf.len() - at) as u16;
        self.buf[at..at + 2].copy_from_slice(&len.to_ne_bytes());
    }
    fn addr_attr(&mut self, kind: u16, a: IpAddr) {
        match a {
            IpAddr::V4(v) => self.attr(kind, &v.octets()),
            IpAddr::V6(v) => self.attr(kind, &v.octets()),
        }
    }
    fn finish(mut self, seq: u32) -> Vec<u8> {
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        self.buf
    }
}

/// A NETLINK_ROUTE socket for address, route and link changes.
pub struct Netlink {
    fd: OwnedFd,
    seq: u32,
}

/// What an address or route change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Done,
    /// Already present (add) or already absent (delete).
    Unchanged,
}

fn family_of(a: IpAddr) -> u8 {
    if a.is_ipv4() {
        libc::AF_INET as u8
    } else {
        libc::AF_INET6 as u8
    }
}

impl Netlink {
    pub fn open() -> io::Result<Netlink> {
        // SAFETY: plain socket(2) call.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: sockaddr_nl is plain data.
        let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        sa.nl_family = libc::AF_NETLINK as u16;
        // SAFETY: binding with a valid sockaddr_nl.
        let r = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                &sa as *const libc::sockaddr_nl as *const libc::sockaddr,
                size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Netlink { fd, seq: 1 })
    }

    /// Sends a request and waits for its acknowledgement; returns the kernel's errno (0 = ok).
    fn request(&mut self, msg: NlMsg) -> io::Result<i32> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let bytes = msg.finish(seq);
        // SAFETY: sending a buffer we own.
        let n = unsafe {
            libc::send(
                self.fd.as_raw_fd(),
                bytes.as_ptr() as *const libc::c_void,
                bytes.len(),
                0,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut buf = vec![0u8; 8192];
        loop {
            // SAFETY: receiving into a buffer we own.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr() as *mut libc::c_void,
                    buf.len(),
                    0,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            let mut off = 0usize;
            let n = n as usize;
            while off + 16 <= n {
                let len = u32::from_ne_bytes([buf[off], buf[off + 1], buf[off + 2], buf[off + 3]])
                    as usize;
                let kind = u16::from_ne_bytes([buf[off + 4], buf[off + 5]]);
                let mseq =
                    u32::from_ne_bytes([buf[off + 8], buf[off + 9], buf[off + 10], buf[off + 11]]);
                if len < 16 || off + len > n {
                    break;
                }
                if kind == NLMSG_ERROR && mseq == seq && len >= 20 {
                    let err = i32::from_ne_bytes([
                        buf[off + 16],
                        buf[off + 17],
                        buf[off + 18],
                        buf[off + 19],
                    ]);
                    return Ok(-err);
                }
                off += (len + 3) & !3;
            }
        }
    }

    /// Adds or removes a virtual address on interface `ifindex`
    /// (`ip addr add ADDR/PFX [brd B] dev IF [scope S] [label L]`).
    pub fn address(&mut self, add: bool, ifindex: u32, vip: &VipConfig) -> io::Result<Change> {
        let a = vip.addr.addr();
        let mut m = NlMsg::new(
            if add { RTM_NEWADDR } else { RTM_DELADDR },
            if add { NLM_F_CREATE | NLM_F_EXCL } else { 0 },
        );
        // keepalived adds IPv6 VIPs with IFA_F_NODAD: usable at once, never stuck in dadfailed.
        const IFA_F_NODAD: u8 = 0x02;
        let flags = if add && a.is_ipv6() { IFA_F_NODAD } else { 0 };
        m.bytes(&[family_of(a), vip.addr.prefix_len(), flags, vip.scope]);
        m.bytes(&ifindex.to_ne_bytes());
        m.addr_attr(IFA_LOCAL, a);
        m.addr_attr(IFA_ADDRESS, a);
        if let Some(b) = vip.brd {
            m.addr_attr(IFA_BROADCAST, b);
        }
        if let Some(l) = &vip.label {
            let mut v = l.as_bytes().to_vec();
            v.push(0);
            m.attr(IFA_LABEL, &v);
        }
        match self.request(m)? {
            0 => Ok(Change::Done),
            e if add && e == libc::EEXIST => Ok(Change::Unchanged),
            e if !add && (e == libc::EADDRNOTAVAIL || e == libc::ENODEV) => Ok(Change::Unchanged),
            e => Err(io::Error::from_raw_os_error(e)),
        }
    }

    /// Adds or removes a virtual route.
    pub fn route(&mut self, add: bool, r: &RouteConfig, oif: Option<u32>) -> io::Result<Change> {
        let dst = r.dest.addr();
        let table = r.table.unwrap_or(254);
        let scope = r.scope.unwrap_or(if r.via.is_none() && r.route_type == 1 {
            253
        } else {
            0
        });
        let mut m = NlMsg::new(
            if add { RTM_NEWROUTE } else { RTM_DELROUTE },
            if add { NLM_F_CREATE | NLM_F_REPLACE } else { 0 },
        );
        m.bytes(&[
            family_of(dst),
            r.dest.prefix_len(),
            0,
            0,
            if table < 256 { table as u8 } else { 252 },
            RTPROT_KEEPALIVED,
            scope,
            r.route_type,
        ]);
        m.bytes(&0u32.to_ne_bytes());
        m.addr_attr(RTA_DST, dst);
        if let Some(gw) = r.via {
            m.addr_attr(RTA_GATEWAY, gw);
        }
        if let Some(src) = r.src {
            m.addr_attr(RTA_PREFSRC, src);
        }
        if let Some(i) = oif {
            m.attr(RTA_OIF, &i.to_ne_bytes());
        }
        if let Some(p) = r.metric {
            m.attr(RTA_PRIORITY, &p.to_ne_bytes());
        }
        m.attr(RTA_TABLE, &table.to_ne_bytes());
        match self.request(m)? {
            0 => Ok(Change::Done),
            e if add && e == libc::EEXIST => Ok(Change::Unchanged),
            e if !add && (e == libc::ESRCH || e == libc::ENOENT) => Ok(Change::Unchanged),
            e => Err(io::Error::from_raw_os_error(e)),
        }
    }

    /// Creates a private-mode macvlan `name` on `parent` with MAC `mac` and brings it up
    /// (keepalived's `use_vmac`).
    pub fn create_vmac(&mut self, name: &str, parent: u32, mac: [u8; 6]) -> io::Result<Change> {
        let mut m = NlMsg::new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
        // ifinfomsg: family, pad, type, index, flags, change
        m.bytes(&[libc::AF_UNSPEC as u8, 0]);
        m.bytes(&0u16.to_ne_bytes());
        m.bytes(&0i32.to_ne_bytes());
        m.bytes(&IFF_UP.to_ne_bytes());
        m.bytes(&IFF_UP.to_ne_bytes());
        let mut n = name.as_bytes().to_vec();
        n.push(0);
        m.attr(IFLA_IFNAME, &n);
        m.attr(IFLA_LINK, &parent.to_ne_bytes());
        m.attr(IFLA_ADDRESS, &mac);
        let info = m.begin_nest(IFLA_LINKINFO);
        m.attr(IFLA_INFO_KIND, b"macvlan");
        let data = m.begin_nest(IFLA_INFO_DATA);
        m.attr(IFLA_MACVLAN_MODE, &MACVLAN_MODE_PRIVATE.to_ne_bytes());
        m.end_nest(data);
        m.end_nest(info);
        match self.request(m)? {
            0 => Ok(Change::Done),
            e if e == libc::EEXIST => Ok(Change::Unchanged),
            e => Err(io::Error::from_raw_os_error(e)),
        }
    }

    /// Deletes interface `ifindex`.
    pub fn delete_link(&mut self, ifindex: u32) -> io::Result<Change> {
        let mut m = NlMsg::new(RTM_DELLINK, 0);
        m.bytes(&[libc::AF_UNSPEC as u8, 0]);
        m.bytes(&0u16.to_ne_bytes());
        m.bytes(&(ifindex as i32).to_ne_bytes());
        m.bytes(&0u32.to_ne_bytes());
        m.bytes(&0u32.to_ne_bytes());
        match self.request(m)? {
            0 => Ok(Change::Done),
            e if e == libc::ENODEV => Ok(Change::Unchanged),
            e => Err(io::Error::from_raw_os_error(e)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Gratuitous ARP and unsolicited NA

/// Builds keepalived's gratuitous ARP: a broadcast ARP request for `ip` from `mac`.
pub fn garp_frame(mac: [u8; 6], ip: Ipv4Addr) -> [u8; 42] {
    let mut f = [0u8; 42];
    f[0..6].copy_from_slice(&[0xff; 6]);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
    f[14..16].copy_from_slice(&1u16.to_be_bytes()); // Ethernet
    f[16..18].copy_from_slice(&0x0800u16.to_be_bytes());
    f[18] = 6;
    f[19] = 4;
    f[20..22].copy_from_slice(&1u16.to_be_bytes()); // request
    f[22..28].copy_from_slice(&mac);
    f[28..32].copy_from_slice(&ip.octets());
    f[32..38].copy_from_slice(&[0xff; 6]);
    f[38..42].copy_from_slice(&ip.octets());
    f
}

/// Sends gratuitous ARPs for `ips` on interface `ifindex`.
pub fn send_garps(ifindex: u32, mac: [u8; 6], ips: &[Ipv4Addr]) -> io::Result<()> {
    if ips.is_empty() {
        return Ok(());
    }
    // SAFETY: plain socket(2) call.
    let fd = unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            i32::from(0x0806u16.to_be()),
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is fresh and owned from here on.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: sockaddr_ll is plain data.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = 0x0806u16.to_be();
    sll.sll_ifindex = ifindex as i32;
    sll.sll_halen = 6;
    sll.sll_addr[..6].copy_from_slice(&[0xff; 6]);
    for ip in ips {
        let frame = garp_frame(mac, *ip);
        // SAFETY: sending a stack buffer to a valid sockaddr_ll.
        let r = unsafe {
            libc::sendto(
                fd.as_raw_fd(),
                frame.as_ptr() as *const libc::c_void,
                frame.len(),
                0,
                &sll as *const libc::sockaddr_ll as *const libc::sockaddr,
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Builds an unsolicited neighbour advertisement (ICMPv6 type 136, override flag) for `target`.
pub fn na_message(mac: [u8; 6], target: Ipv6Addr) -> [u8; 32] {
    let mut m = [0u8; 32];
    m[0] = 136;
    m[4] = 0x20; // Override
    m[8..24].copy_from_slice(&target.octets());
    m[24] = 2; // target link-layer address option
    m[25] = 1;
    m[26..32].copy_from_slice(&mac);
    m
}

/// Sends unsolicited NAs for `ips` to all-nodes on interface `ifindex`.
pub fn send_unsolicited_na(ifindex: u32, mac: [u8; 6], ips: &[Ipv6Addr]) -> io::Result<()> {
    if ips.is_empty() {
        return Ok(());
    }
    let s = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))?;
    s.set_multicast_hops_v6(255)?;
    s.set_unicast_hops_v6(255)?;
    s.set_multicast_if_v6(ifindex)?;
    let all_nodes = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
    let sa = SockAddr::from(SocketAddrV6::new(all_nodes, 0, 0, ifindex));
    for ip in ips {
        s.send_to(&na_message(mac, *ip), &sa)?;
    }
    Ok(())
}

/// keepalived's virtual MAC for a VRID.
pub fn vmac_address(vrid: u8, ipv6: bool) -> [u8; 6] {
    [0x00, 0x00, 0x5e, 0x00, if ipv6 { 0x02 } else { 0x01 }, vrid]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garp_is_a_broadcast_request_for_the_vip() {
        let f = garp_frame([2, 0, 0, 0, 0, 1], Ipv4Addr::new(192, 168, 57, 222));
        assert_eq!(&f[0..6], &[0xff; 6]);
        assert_eq!(&f[12..14], &[0x08, 0x06]);
        assert_eq!(&f[20..22], &[0, 1]);
        assert_eq!(&f[28..32], &[192, 168, 57, 222]);
        assert_eq!(&f[38..42], &[192, 168, 57, 222]);
    }

    #[test]
    fn vmac_follows_rfc() {
        assert_eq!(vmac_address(51, false), [0, 0, 0x5e, 0, 1, 51]);
        assert_eq!(vmac_address(7, true), [0, 0, 0x5e, 0, 2, 7]);
    }

    #[test]
    fn netlink_attrs_are_aligned() {
        let mut m = NlMsg::new(RTM_NEWADDR, 0);
        m.attr(IFA_LABEL, b"eth0:1\0");
        let b = m.finish(9);
        assert_eq!(b.len() % 4, 0);
        assert_eq!(
            u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize,
            b.len()
        );
    }
}

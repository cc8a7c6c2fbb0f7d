//! VRRP advertisements on the wire: VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798/9568), IPv4 and
//! IPv6, with keepalived 2.2.7's PASS and IPsec-AH authentication.
//!
//! Encoding builds either the VRRP payload alone (IPv6, where the kernel fills the checksum
//! through `IPV6_CHECKSUM`) or a whole IPv4 datagram for an `IP_HDRINCL` socket (IPv4, so that
//! the AH ICV can cover the IP header exactly as keepalived computes it).
//!
//! Decoding never allocates and never panics: [`parse_ipv4`] / [`parse_ipv6`] locate the headers,
//! [`check_advert`] applies keepalived's receive checks in keepalived's order and returns a typed
//! [`RxError`] that maps onto a drop counter ([`RxStats`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hmac::{Hmac, Mac};
use md5::Md5;

/// IP protocol number of VRRP.
pub const IPPROTO_VRRP: u8 = 112;
/// IP protocol number of the IPsec Authentication Header.
pub const IPPROTO_AH: u8 = 51;
/// The TTL / hop limit every VRRP advert must carry (multicast).
pub const VRRP_TTL: u8 = 255;
/// IPv4 VRRP multicast group.
pub const MCAST_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// IPv6 VRRP multicast group.
pub const MCAST_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// Length of the fixed VRRP header.
pub const VRRP_HDR_LEN: usize = 8;
/// Length of the VRRPv2 authentication data trailer.
pub const AUTH_LEN: usize = 8;
/// Length of keepalived's AH header (RFC 2402 with a 96-bit ICV).
pub const AH_LEN: usize = 24;
/// Truncated HMAC-MD5 length.
const ICV_LEN: usize = 12;
/// Advertisement packet type.
const TYPE_ADVERT: u8 = 1;
/// TOS keepalived sets on adverts (internetwork control).
const TOS_NETCONTROL: u8 = 0xc0;

/// A VRRP protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VrrpVersion {
    V2,
    V3,
}

impl VrrpVersion {
    pub fn number(self) -> u8 {
        match self {
            VrrpVersion::V2 => 2,
            VrrpVersion::V3 => 3,
        }
    }
}

/// VRRPv2 authentication type (`auth_type` in keepalived.conf).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AuthType {
    #[default]
    None,
    Pass,
    Ah,
}

impl AuthType {
    pub fn wire(self) -> u8 {
        match self {
            AuthType::None => 0,
            AuthType::Pass => 1,
            AuthType::Ah => 2,
        }
    }
}

/// keepalived's authentication data: `auth_pass` truncated to 8 bytes and zero padded.
pub type AuthKey = [u8; AUTH_LEN];

/// Builds the 8-byte key keepalived derives from `auth_pass`.
pub fn auth_key(pass: &str) -> AuthKey {
    let mut key = [0u8; AUTH_LEN];
    for (dst, src) in key.iter_mut().zip(pass.as_bytes()) {
        *dst = *src;
    }
    key
}

/// An advertisement to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advert {
    pub version: VrrpVersion,
    pub vrid: u8,
    pub priority: u8,
    /// VRRPv2 only; VRRPv3 has no authentication.
    pub auth_type: AuthType,
    /// v2: seconds; v3: centiseconds (12 bits).
    pub adver_int: u16,
    /// All of one family.
    pub addrs: Vec<IpAddr>,
    /// v2 PASS: the password; otherwise zeros on the wire.
    pub auth_key: AuthKey,
}

/// One's-complement sum of 16-bit big-endian words (odd byte padded), not yet folded.
fn sum16(data: &[u8], mut acc: u32) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc = acc.wrapping_add(u32::from(u16::from_be_bytes([c[0], c[1]])));
    }
    if let [last] = chunks.remainder() {
        acc = acc.wrapping_add(u32::from(*last) << 8);
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// The Internet checksum of `data` (RFC 1071).
pub fn internet_checksum(data: &[u8]) -> u16 {
    fold(sum16(data, 0))
}

fn ipv4_pseudo_sum(src: Ipv4Addr, dst: Ipv4Addr, len: usize) -> u32 {
    let mut acc = sum16(&src.octets(), 0);
    acc = sum16(&dst.octets(), acc);
    acc = acc.wrapping_add(u32::from(IPPROTO_VRRP));
    acc.wrapping_add(len as u32 & 0xffff)
}

fn ipv6_pseudo_sum(src: &Ipv6Addr, dst: &Ipv6Addr, len: usize) -> u32 {
    let mut acc = sum16(&src.octets(), 0);
    acc = sum16(&dst.octets(), acc);
    acc = acc.wrapping_add(len as u32);
    acc.wrapping_add(u32::from(IPPROTO_VRRP))
}

/// The checksum of a VRRP payload whose checksum field is zero.
/// v2: over the payload alone. v3/IPv4: with the IPv4 pseudo-header (keepalived 2.2.7's form).
/// v3/IPv6: with the IPv6 pseudo-header (the kernel normally fills it).
pub fn vrrp_checksum(version: VrrpVersion, payload: &[u8], src: IpAddr, dst: IpAddr) -> u16 {
    match (version, src, dst) {
        (VrrpVersion::V3, IpAddr::V4(s), IpAddr::V4(d)) => {
            fold(sum16(payload, ipv4_pseudo_sum(s, d, payload.len())))
        }
        (VrrpVersion::V3, IpAddr::V6(s), IpAddr::V6(d)) => {
            fold(sum16(payload, ipv6_pseudo_sum(&s, &d, payload.len())))
        }
        _ => internet_checksum(payload),
    }
}

impl Advert {
    /// Length of the VRRP payload (header + addresses + v2/IPv4 auth data).
    pub fn payload_len(&self) -> usize {
        let addr_len: usize = self
            .addrs
            .iter()
            .map(|a| if a.is_ipv4() { 4 } else { 16 })
            .sum();
        let auth = if self.version == VrrpVersion::V2 && self.is_ipv4() {
            AUTH_LEN
        } else {
            0
        };
        VRRP_HDR_LEN + addr_len + auth
    }

    fn is_ipv4(&self) -> bool {
        self.addrs.first().map(|a| a.is_ipv4()).unwrap_or(true)
    }

    /// Appends the VRRP payload, checksum included, to `out`.
    pub fn encode_payload(&self, src: IpAddr, dst: IpAddr, out: &mut Vec<u8>) {
        let start = out.len();
        let naddr = self.addrs.len().min(255) as u8;
        out.push((self.version.number() << 4) | TYPE_ADVERT);
        out.push(self.vrid);
        out.push(self.priority);
        out.push(naddr);
        match self.version {
            VrrpVersion::V2 => {
                out.push(self.auth_type.wire());
                out.push(self.adver_int.min(255) as u8);
            }
            VrrpVersion::V3 => out.extend_from_slice(&(self.adver_int & 0x0fff).to_be_bytes()),
        }
        out.extend_from_slice(&[0, 0]);
        for a in self.addrs.iter().take(255) {
            match a {
                IpAddr::V4(v4) => out.extend_from_slice(&v4.octets()),
                IpAddr::V6(v6) => out.extend_from_slice(&v6.octets()),
            }
        }
        if self.version == VrrpVersion::V2 && self.is_ipv4() {
            if self.auth_type == AuthType::Pass {
                out.extend_from_slice(&self.auth_key);
            } else {
                out.extend_from_slice(&[0u8; AUTH_LEN]);
            }
        }
        let csum = vrrp_checksum(self.version, &out[start..], src, dst);
        out[start + 6..start + 8].copy_from_slice(&csum.to_be_bytes());
    }
}

/// How an IPv4 advert is framed around the VRRP payload.
#[derive(Debug, Clone, Copy)]
pub struct Ipv4Frame<'a> {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
    /// IP identification; must be non-zero with AH (the kernel would otherwise change it).
    pub ip_id: u16,
    /// `Some((key, sequence number))` to wrap the payload in keepalived's AH header.
    pub ah: Option<(&'a AuthKey, u32)>,
    /// Unicast adverts have the TTL zeroed in the ICV.
    pub unicast: bool,
}

/// Builds a whole IPv4 datagram (for an `IP_HDRINCL` raw socket).
pub fn encode_ipv4(advert: &Advert, frame: &Ipv4Frame<'_>) -> Vec<u8> {
    let ah_len = if frame.ah.is_some() { AH_LEN } else { 0 };
    let total = 20 + ah_len + advert.payload_len();
    let mut out = Vec::with_capacity(total);
    out.push(0x45);
    out.push(TOS_NETCONTROL);
    out.extend_from_slice(&(total as u16).to_be_bytes());
    out.extend_from_slice(&frame.ip_id.to_be_bytes());
    out.extend_from_slice(&[0, 0]); // flags / fragment offset
    out.push(frame.ttl);
    out.push(if frame.ah.is_some() {
        IPPROTO_AH
    } else {
        IPPROTO_VRRP
    });
    out.extend_from_slice(&[0, 0]); // header checksum: the kernel fills it
    out.extend_from_slice(&frame.src.octets());
    out.extend_from_slice(&frame.dst.octets());
    if let Some((_, seq)) = frame.ah {
        out.push(IPPROTO_VRRP);
        out.push(4); // payload length in 32-bit words minus 2
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&frame.src.octets()); // SPI: keepalived uses the source address
        out.extend_from_slice(&seq.to_be_bytes());
        out.extend_from_slice(&[0u8; ICV_LEN]);
    }
    advert.encode_payload(IpAddr::V4(frame.src), IpAddr::V4(frame.dst), &mut out);
    if let Some((key, _)) = frame.ah {
        let icv = ah_icv(&out[..20 + AH_LEN], &out[20 + AH_LEN..], key, frame.unicast);
        out[20 + 12..20 + AH_LEN].copy_from_slice(&icv);
    }
    out
}

/// keepalived's ICV: HMAC-MD5-96 over the IP header (TOS, fragment offset, checksum zeroed, and
/// the TTL too for unicast) plus the AH header with a zero ICV, then the VRRP payload.
fn ah_icv(ip_and_ah: &[u8], vrrp: &[u8], key: &AuthKey, unicast: bool) -> [u8; ICV_LEN] {
    let mut hdr = [0u8; 60 + AH_LEN];
    let n = ip_and_ah.len().min(hdr.len());
    hdr[..n].copy_from_slice(&ip_and_ah[..n]);
    hdr[1] = 0;
    hdr[6] = 0;
    hdr[7] = 0;
    hdr[10] = 0;
    hdr[11] = 0;
    if unicast {
        hdr[8] = 0;
    }
    if n >= AH_LEN {
        for b in &mut hdr[n - ICV_LEN..n] {
            *b = 0;
        }
    }
    let mut out = [0u8; ICV_LEN];
    // HMAC accepts keys of any length, so this cannot fail.
    if let Ok(mut mac) = <Hmac<Md5> as Mac>::new_from_slice(key) {
        mac.update(&hdr[..n]);
        mac.update(vrrp);
        let digest = mac.finalize().into_bytes();
        out.copy_from_slice(&digest[..ICV_LEN]);
    }
    out
}

/// A received datagram with its headers located.
#[derive(Debug, Clone, Copy)]
pub struct RxPacket<'a> {
    /// The whole IPv4 datagram, or the VRRP payload for IPv6.
    pub datagram: &'a [u8],
    pub src: IpAddr,
    pub dst: IpAddr,
    /// TTL / hop limit when known.
    pub ttl: Option<u8>,
    /// IPv4 header length (0 for IPv6).
    pub ihl: usize,
    /// Offset of the AH header, when the IP protocol is AH.
    pub ah_offset: Option<usize>,
    /// Offset of the VRRP header.
    pub vrrp_offset: usize,
}

impl<'a> RxPacket<'a> {
    pub fn vrrp(&self) -> &'a [u8] {
        self.datagram.get(self.vrrp_offset..).unwrap_or(&[])
    }
    /// The VRRP header, present by construction.
    pub fn header(&self) -> VrrpHeader {
        VrrpHeader::read(self.vrrp())
    }
    fn is_ipv4(&self) -> bool {
        self.ihl != 0
    }
}

/// The fixed VRRP header fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VrrpHeader {
    pub version: u8,
    pub kind: u8,
    pub vrid: u8,
    pub priority: u8,
    pub naddr: u8,
    /// v2 only.
    pub auth_type: u8,
    /// v2: seconds; v3: centiseconds.
    pub adver_int: u16,
    pub checksum: u16,
}

impl VrrpHeader {
    /// Reads the header from at least 8 bytes (missing bytes read as zero).
    pub fn read(b: &[u8]) -> VrrpHeader {
        let at = |i: usize| b.get(i).copied().unwrap_or(0);
        let version = at(0) >> 4;
        let (auth_type, adver_int) = if version == 3 {
            (0, u16::from_be_bytes([at(4), at(5)]) & 0x0fff)
        } else {
            (at(4), u16::from(at(5)))
        };
        VrrpHeader {
            version,
            kind: at(0) & 0x0f,
            vrid: at(1),
            priority: at(2),
            naddr: at(3),
            auth_type,
            adver_int,
            checksum: u16::from_be_bytes([at(6), at(7)]),
        }
    }
}

/// Locates the headers of an IPv4 datagram as received on a raw socket
/// (keepalived's `vrrp_get_header`): enough bytes for IP, AH when present, and VRRP headers.
pub fn parse_ipv4(datagram: &[u8]) -> Result<RxPacket<'_>, RxError> {
    if datagram.len() < 20 || datagram[0] >> 4 != 4 {
        return Err(RxError::TooShort);
    }
    let ihl = usize::from(datagram[0] & 0x0f) * 4;
    if ihl < 20 || datagram.len() < ihl + VRRP_HDR_LEN {
        return Err(RxError::TooShort);
    }
    let src = Ipv4Addr::new(datagram[12], datagram[13], datagram[14], datagram[15]);
    let dst = Ipv4Addr::new(datagram[16], datagram[17], datagram[18], datagram[19]);
    let (ah_offset, vrrp_offset) = if datagram[9] == IPPROTO_AH {
        if datagram.len() < ihl + AH_LEN + VRRP_HDR_LEN {
            return Err(RxError::TooShort);
        }
        (Some(ihl), ihl + AH_LEN)
    } else {
        (None, ihl)
    };
    Ok(RxPacket {
        datagram,
        src: IpAddr::V4(src),
        dst: IpAddr::V4(dst),
        ttl: Some(datagram[8]),
        ihl,
        ah_offset,
        vrrp_offset,
    })
}

/// Wraps an IPv6 VRRP payload (the kernel strips the IPv6 header; hop limit and destination come
/// from ancillary data).
pub fn parse_ipv6(
    payload: &[u8],
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: Option<u8>,
) -> Result<RxPacket<'_>, RxError> {
    if payload.len() < VRRP_HDR_LEN {
        return Err(RxError::TooShort);
    }
    Ok(RxPacket {
        datagram: payload,
        src: IpAddr::V6(src),
        dst: IpAddr::V6(dst),
        ttl: hop_limit,
        ihl: 0,
        ah_offset: None,
        vrrp_offset: 0,
    })
}

/// Why a received advert was dropped. Each maps to a counter in [`RxStats`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RxError {
    #[error("VRRP packet too short")]
    TooShort,
    #[error("received AH header but auth type not AH")]
    UnexpectedAh,
    #[error("no AH header but auth type is AH")]
    MissingAh,
    #[error("vrrp packet too {}, length {got} and expect {expected}", if got > expected { "long" } else { "short" })]
    Length { got: usize, expected: usize },
    #[error("invalid TTL/HL. Received {0} and expect 255")]
    Ttl(u8),
    #[error("wrong version. Received {got} and expect {expected}")]
    Version { got: u8, expected: u8 },
    #[error("Invalid auth type: {0}")]
    InvalidAuthType(u8),
    #[error("received a {got} auth, expecting {expected}!")]
    AuthTypeMismatch { got: u8, expected: u8 },
    #[error("received an invalid passwd!")]
    BadPassword,
    #[error("IPSEC-AH : invalid IPSEC HMAC-MD5 value. Due to fields mutation or bad password !")]
    BadIcv,
    #[error("IPSEC AH : invalid IPSEC SPI value")]
    BadSpi,
    #[error("IPSEC-AH : sequence number {got} already processed. Packet dropped. Local({local})")]
    Replay { got: u32, local: u32 },
    #[error("AH header for another protocol")]
    AhOtherProtocol,
    #[error("advertisement interval mismatch mine={mine} sec rcv'd={got} sec")]
    Interval { mine: u16, got: u16 },
    #[error("Invalid packet type. {0} and expect 1")]
    Type(u8),
    #[error("received an unexpected ip number count {got}, expected {expected}!")]
    AddrCount { got: u8, expected: usize },
    #[error("ip_tot_len mismatch against received length. {tot_len} and received {got}")]
    TotLen { tot_len: usize, got: usize },
    #[error("Invalid VRRPv{0} checksum")]
    Checksum(u8),
    #[error("Expected {0}icast packet but received other")]
    CastMismatch(&'static str),
    #[error("ip address associated with VRID {vrid} not present in MASTER advert: {addr}")]
    AddrMissing { vrid: u8, addr: IpAddr },
    #[error("unicast source address {0} not a unicast peer")]
    NotPeer(IpAddr),
    #[error("TTL/HL {ttl} not in range {min} - {max}")]
    TtlRange { ttl: u8, min: u8, max: u8 },
}

/// What the receiving instance expects (its configuration plus the AH replay counter).
#[derive(Debug, Clone, Copy)]
pub struct RxExpect<'a> {
    pub version: VrrpVersion,
    pub auth_type: AuthType,
    pub auth_key: &'a AuthKey,
    /// v2: the configured advert interval in seconds (checked); unused for v3.
    pub adver_int_secs: u16,
    pub vips: &'a [IpAddr],
    /// Check the address list (keepalived skips it for a known master with `skip_check_adv_addr`).
    pub check_vips: bool,
    pub unicast: bool,
    /// Non-empty with `check_unicast_src`: the sender must be one of these.
    pub unicast_peers: &'a [IpAddr],
    /// `min_ttl` / `max_ttl` of each unicast peer (same order), checked with the source.
    pub unicast_peer_ttl: &'a [(u8, u8)],
    pub check_unicast_src: bool,
    /// Last AH sequence number accepted or sent.
    pub ah_seq: u32,
}

/// A validated advert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxAdvert {
    pub header: VrrpHeader,
    pub src: IpAddr,
    /// The AH sequence number, when AH-authenticated.
    pub ah_seq: Option<u32>,
}

/// keepalived's `vrrp_check_packet`: the checks, in its order.
pub fn check_advert(rx: &RxPacket<'_>, exp: &RxExpect<'_>) -> Result<RxAdvert, RxError> {
    let hd = rx.header();
    let ipv4 = rx.is_ipv4();
    let mut expected_len = 0usize;
    if ipv4 {
        expected_len = rx.ihl;
        let has_ah = rx.ah_offset.is_some();
        if has_ah != (exp.auth_type == AuthType::Ah) {
            return Err(if has_ah {
                RxError::UnexpectedAh
            } else {
                RxError::MissingAh
            });
        }
        if has_ah {
            expected_len += AH_LEN;
        }
    }
    // Length: header + addresses (+ v2 auth trailer on IPv4).
    let addr_size = if ipv4 { 4 } else { 16 };
    expected_len += VRRP_HDR_LEN + usize::from(hd.naddr) * addr_size;
    if ipv4 && hd.version == 2 {
        expected_len += AUTH_LEN;
    }
    let got = rx.datagram.len();
    if got != expected_len {
        return Err(RxError::Length {
            got,
            expected: expected_len,
        });
    }
    if !exp.unicast {
        if let Some(ttl) = rx.ttl {
            if ttl != VRRP_TTL {
                return Err(RxError::Ttl(ttl));
            }
        }
    }
    if hd.version != exp.version.number() {
        return Err(RxError::Version {
            got: hd.version,
            expected: exp.version.number(),
        });
    }
    let mut ah_seq = None;
    if hd.version == 2 {
        if hd.auth_type > 2 {
            return Err(RxError::InvalidAuthType(hd.auth_type));
        }
        if hd.auth_type != exp.auth_type.wire() {
            return Err(RxError::AuthTypeMismatch {
                got: hd.auth_type,
                expected: exp.auth_type.wire(),
            });
        }
        match exp.auth_type {
            AuthType::Pass => {
                let pw = &rx.datagram[got - AUTH_LEN..];
                if !constant_time_eq(pw, exp.auth_key) {
                    return Err(RxError::BadPassword);
                }
            }
            AuthType::Ah => ah_seq = Some(check_ah(rx, exp)?),
            AuthType::None => {}
        }
        if hd.adver_int != exp.adver_int_secs {
            return Err(RxError::Interval {
                mine: exp.adver_int_secs,
                got: hd.adver_int,
            });
        }
    }
    if hd.kind != TYPE_ADVERT {
        return Err(RxError::Type(hd.kind));
    }
    if exp.check_vips && usize::from(hd.naddr) != exp.vips.len() {
        return Err(RxError::AddrCount {
            got: hd.naddr,
            expected: exp.vips.len(),
        });
    }
    if ipv4 {
        let tot_len = usize::from(u16::from_be_bytes([rx.datagram[2], rx.datagram[3]]));
        if tot_len != got {
            return Err(RxError::TotLen { tot_len, got });
        }
        let vrrp = rx.vrrp();
        if !checksum_ok(hd.version, vrrp, rx.src, rx.dst) {
            return Err(RxError::Checksum(hd.version));
        }
    }
    if rx.dst.is_multicast() == exp.unicast {
        return Err(RxError::CastMismatch(if exp.unicast {
            "un"
        } else {
            "mult"
        }));
    }
    if exp.check_vips {
        let list = &rx.vrrp()[VRRP_HDR_LEN..VRRP_HDR_LEN + usize::from(hd.naddr) * addr_size];
        for vip in exp.vips {
            let found = match vip {
                IpAddr::V4(v) => list.chunks_exact(4).any(|c| c == v.octets()),
                IpAddr::V6(v) => list.chunks_exact(16).any(|c| c == v.octets()),
            };
            if !found {
                return Err(RxError::AddrMissing {
                    vrid: hd.vrid,
                    addr: *vip,
                });
            }
        }
        if exp.unicast && exp.check_unicast_src {
            let Some(k) = exp.unicast_peers.iter().position(|p| *p == rx.src) else {
                return Err(RxError::NotPeer(rx.src));
            };
            if let (Some(ttl), Some(&(min, max))) = (rx.ttl, exp.unicast_peer_ttl.get(k)) {
                if ttl < min || ttl > max {
                    return Err(RxError::TtlRange { ttl, min, max });
                }
            }
        }
    }
    Ok(RxAdvert {
        header: hd,
        src: rx.src,
        ah_seq,
    })
}

/// v2: plain checksum. v3/IPv4: the pseudo-header form keepalived 2.2.7 sends, the pseudo-header
/// with the multicast group (keepalived's unicast compatibility form) and no pseudo-header at all.
fn checksum_ok(version: u8, vrrp: &[u8], src: IpAddr, dst: IpAddr) -> bool {
    if version != 3 {
        return fold(sum16(vrrp, 0)) == 0;
    }
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            fold(sum16(vrrp, ipv4_pseudo_sum(s, d, vrrp.len()))) == 0
                || fold(sum16(vrrp, ipv4_pseudo_sum(s, MCAST_V4, vrrp.len()))) == 0
                || fold(sum16(vrrp, 0)) == 0
        }
        // IPv6: the kernel verified it (IPV6_CHECKSUM).
        _ => true,
    }
}

fn check_ah(rx: &RxPacket<'_>, exp: &RxExpect<'_>) -> Result<u32, RxError> {
    let ah_off = rx.ah_offset.ok_or(RxError::MissingAh)?;
    let ah = &rx.datagram[ah_off..ah_off + AH_LEN];
    if ah[0] != IPPROTO_VRRP {
        return Err(RxError::AhOtherProtocol);
    }
    let icv = ah_icv(
        &rx.datagram[..ah_off + AH_LEN],
        rx.vrrp(),
        exp.auth_key,
        exp.unicast,
    );
    if !constant_time_eq(&ah[12..AH_LEN], &icv) {
        return Err(RxError::BadIcv);
    }
    if ah[4..8] != rx.datagram[12..16] {
        return Err(RxError::BadSpi);
    }
    let seq = u32::from_be_bytes([ah[8], ah[9], ah[10], ah[11]]);
    if seq <= exp.ah_seq {
        return Err(RxError::Replay {
            got: seq,
            local: exp.ah_seq,
        });
    }
    Ok(seq)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Per-instance counters, named like keepalived's `/tmp/keepalived.stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RxStats {
    pub advert_rcvd: u64,
    pub advert_sent: u64,
    pub become_master: u64,
    pub release_master: u64,
    pub packet_len_err: u64,
    pub ip_ttl_err: u64,
    pub invalid_type_rcvd: u64,
    /// Shown like keepalived's; keepalived 2.2.7 never increments it (an interval mismatch is
    /// counted in `interval_mismatch` here).
    pub advert_interval_err: u64,
    pub addr_list_err: u64,
    pub invalid_authtype: u64,
    pub authtype_mismatch: u64,
    pub auth_failure: u64,
    pub pri_zero_rcvd: u64,
    pub pri_zero_sent: u64,
    pub version_err: u64,
    pub checksum_err: u64,
    /// VRRPv2 adverts with another advert interval (keepalived drops them uncounted).
    pub interval_mismatch: u64,
    /// Every dropped advert, whatever the reason.
    pub dropped: u64,
}

impl RxStats {
    /// Counts a dropped advert under keepalived's counter for its reason.
    pub fn record_drop(&mut self, err: &RxError) {
        self.dropped += 1;
        match err {
            // keepalived cannot tell which instance a headerless packet was for: not counted.
            RxError::TooShort => {}
            RxError::Length { .. } | RxError::TotLen { .. } => self.packet_len_err += 1,
            RxError::UnexpectedAh | RxError::MissingAh | RxError::AuthTypeMismatch { .. } => {
                self.authtype_mismatch += 1
            }
            RxError::Ttl(_) | RxError::TtlRange { .. } => self.ip_ttl_err += 1,
            RxError::Version { .. } => self.version_err += 1,
            RxError::InvalidAuthType(_) => self.invalid_authtype += 1,
            RxError::BadPassword | RxError::BadIcv | RxError::BadSpi | RxError::Replay { .. } => {
                self.auth_failure += 1
            }
            RxError::AhOtherProtocol | RxError::NotPeer(_) => {}
            RxError::Interval { .. } => self.interval_mismatch += 1,
            RxError::Type(_) => self.invalid_type_rcvd += 1,
            RxError::AddrCount { .. } | RxError::CastMismatch(_) | RxError::AddrMissing { .. } => {
                self.addr_list_err += 1
            }
            RxError::Checksum(_) => self.checksum_err += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    const GOLDEN_V2: &str = "21 33 96 01 01 01 cf84 0a630064 7365637265743132";
    const GOLDEN_V3: &str = "31 34 96 01 000a 4305 0a630065";

    fn v4(a: [u8; 4]) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(a))
    }

    fn golden_v2_advert() -> Advert {
        Advert {
            version: VrrpVersion::V2,
            vrid: 51,
            priority: 150,
            auth_type: AuthType::Pass,
            adver_int: 1,
            addrs: vec![v4([10, 99, 0, 100])],
            auth_key: auth_key("secret12"),
        }
    }

    fn golden_v3_advert() -> Advert {
        Advert {
            version: VrrpVersion::V3,
            vrid: 52,
            priority: 150,
            auth_type: AuthType::None,
            adver_int: 10,
            addrs: vec![v4([10, 99, 0, 101])],
            auth_key: [0; 8],
        }
    }

    #[test]
    fn golden_v2_pass_encodes_byte_for_byte() {
        let mut out = Vec::new();
        golden_v2_advert().encode_payload(v4([10, 99, 0, 100]), IpAddr::V4(MCAST_V4), &mut out);
        assert_eq!(out, hex(GOLDEN_V2));
    }

    /// The v3 capture came from interface address 10.99.0.1 (VIP 10.99.0.101): the checksum covers
    /// the IPv4 pseudo-header with the real source (re-captured from keepalived 2.2.7 to confirm).
    #[test]
    fn golden_v3_encodes_with_ipv4_pseudo_header() {
        let mut out = Vec::new();
        golden_v3_advert().encode_payload(v4([10, 99, 0, 1]), IpAddr::V4(MCAST_V4), &mut out);
        assert_eq!(out, hex(GOLDEN_V3));
        out.clear();
        golden_v3_advert().encode_payload(v4([10, 99, 0, 101]), IpAddr::V4(MCAST_V4), &mut out);
        assert_ne!(
            out,
            hex(GOLDEN_V3),
            "the pseudo-header source is part of the checksum"
        );
    }

    fn frame(src: [u8; 4]) -> Ipv4Frame<'static> {
        Ipv4Frame {
            src: Ipv4Addr::from(src),
            dst: MCAST_V4,
            ttl: 255,
            ip_id: 7,
            ah: None,
            unicast: false,
        }
    }

    fn expect_for<'a>(a: &'a Advert, key: &'a AuthKey) -> RxExpect<'a> {
        RxExpect {
            version: a.version,
            auth_type: a.auth_type,
            auth_key: key,
            adver_int_secs: a.adver_int,
            vips: &a.addrs,
            check_vips: true,
            unicast: false,
            unicast_peers: &[],
            unicast_peer_ttl: &[],
            check_unicast_src: false,
            ah_seq: 0,
        }
    }

    #[test]
    fn golden_packets_decode_and_pass_checks() {
        for (adv, src) in [
            (golden_v2_advert(), [10, 99, 0, 100]),
            (golden_v3_advert(), [10, 99, 0, 1]),
        ] {
            let dgram = encode_ipv4(&adv, &frame(src));
            let rx = parse_ipv4(&dgram).unwrap();
            let key = adv.auth_key;
            let ok = check_advert(&rx, &expect_for(&adv, &key)).unwrap();
            assert_eq!(ok.header.vrid, adv.vrid);
            assert_eq!(ok.header.priority, 150);
            assert_eq!(ok.header.adver_int, adv.adver_int);
            assert_eq!(
                &dgram[20..],
                &{
                    let mut v = Vec::new();
                    adv.encode_payload(v4(src), IpAddr::V4(MCAST_V4), &mut v);
                    v
                }[..]
            );
        }
    }

    #[test]
    fn v3_checksum_without_pseudo_header_is_accepted() {
        let adv = golden_v3_advert();
        let mut dgram = encode_ipv4(&adv, &frame([10, 99, 0, 101]));
        dgram[26] = 0;
        dgram[27] = 0;
        let c = internet_checksum(&dgram[20..]);
        dgram[26..28].copy_from_slice(&c.to_be_bytes());
        let rx = parse_ipv4(&dgram).unwrap();
        assert!(check_advert(&rx, &expect_for(&adv, &[0; 8])).is_ok());
        dgram[27] ^= 1;
        let rx = parse_ipv4(&dgram).unwrap();
        assert_eq!(
            check_advert(&rx, &expect_for(&adv, &[0; 8])),
            Err(RxError::Checksum(3))
        );
    }

    /// An AH advert captured from keepalived 2.2.7 (vrid 51, prio 150, AH "secret12",
    /// src 10.99.0.1, VIP 10.99.0.100, IP id 1, sequence 1): whole IPv4 datagram.
    const GOLDEN_AH: &str = "45c0 0040 0001 0000 ff33 d053 0a63 0001 e000 0012 \
        7004 0000 0a63 0001 0000 0001 b4bc 3bb3 c356 90ed 98ea f497 \
        2133 9601 0201 3c03 0a63 0064 0000 0000 0000 0000";

    #[test]
    fn golden_keepalived_ah_packet_verifies_and_reencodes() {
        let golden = hex(GOLDEN_AH);
        let key = auth_key("secret12");
        let mut adv = golden_v2_advert();
        adv.auth_type = AuthType::Ah;
        let rx = parse_ipv4(&golden).unwrap();
        let ok = check_advert(&rx, &expect_for(&adv, &key)).unwrap();
        assert_eq!(ok.ah_seq, Some(1));
        let f = Ipv4Frame {
            ip_id: 1,
            ah: Some((&key, 1)),
            ..frame([10, 99, 0, 1])
        };
        let mut ours = encode_ipv4(&adv, &f);
        // the kernel fills the IP header checksum
        ours[10..12].copy_from_slice(&golden[10..12]);
        assert_eq!(ours, golden);
    }

    #[test]
    fn ah_round_trip_and_replay_and_bad_key() {
        let mut adv = golden_v2_advert();
        adv.auth_type = AuthType::Ah;
        let key = auth_key("secret12");
        let f = Ipv4Frame {
            ah: Some((&key, 5)),
            ..frame([10, 99, 0, 100])
        };
        let dgram = encode_ipv4(&adv, &f);
        assert_eq!(dgram[9], IPPROTO_AH);
        assert_eq!(dgram.len(), 20 + 24 + 20);
        // the VRRP part carries a zero auth trailer with AH
        assert_eq!(&dgram[dgram.len() - 8..], &[0u8; 8]);
        let rx = parse_ipv4(&dgram).unwrap();
        let mut exp = expect_for(&adv, &key);
        assert_eq!(check_advert(&rx, &exp).unwrap().ah_seq, Some(5));
        // mutable fields don't matter
        let mut m = dgram.clone();
        m[1] = 0;
        m[10] = 0x12;
        assert!(check_advert(&parse_ipv4(&m).unwrap(), &exp).is_ok());
        exp.ah_seq = 5;
        assert!(matches!(
            check_advert(&rx, &exp),
            Err(RxError::Replay { .. })
        ));
        exp.ah_seq = 0;
        let other = auth_key("other");
        exp.auth_key = &other;
        assert_eq!(check_advert(&rx, &exp), Err(RxError::BadIcv));
    }

    #[test]
    fn receive_checks_follow_keepalived_order() {
        let adv = golden_v2_advert();
        let key = adv.auth_key;
        let good = encode_ipv4(&adv, &frame([10, 99, 0, 100]));
        let exp = expect_for(&adv, &key);
        type Mutate = fn(&mut Vec<u8>);
        type Expect = fn(&RxError) -> bool;
        let cases: &[(Mutate, Expect)] = &[
            (
                |p| p.truncate(p.len() - 1),
                |e| matches!(e, RxError::Length { .. }),
            ),
            (|p| p[8] = 64, |e| matches!(e, RxError::Ttl(64))),
            // a v3 header on a v2-sized packet fails the length check first, like keepalived
            (
                |p| p[20] = 0x31,
                |e| {
                    matches!(
                        e,
                        RxError::Length {
                            got: 40,
                            expected: 32
                        }
                    )
                },
            ),
            (|p| p[24] = 7, |e| matches!(e, RxError::InvalidAuthType(7))),
            (
                |p| p[24] = 0,
                |e| {
                    matches!(
                        e,
                        RxError::AuthTypeMismatch {
                            got: 0,
                            expected: 1
                        }
                    )
                },
            ),
            (
                |p| *p.last_mut().unwrap() = b'X',
                |e| matches!(e, RxError::BadPassword),
            ),
            (
                |p| p[25] = 3,
                |e| matches!(e, RxError::Interval { mine: 1, got: 3 }),
            ),
            (|p| p[20] = 0x22, |e| matches!(e, RxError::Type(2))),
            (|p| p[26] ^= 0xff, |e| matches!(e, RxError::Checksum(2))),
            (|p| p[3] ^= 1, |e| matches!(e, RxError::TotLen { .. })),
            (
                |p| p[16] = 10,
                |e| matches!(e, RxError::CastMismatch("mult")),
            ),
            (
                |p| {
                    p[31] = 9; // VIP byte; fix the checksum
                    p[26] = 0;
                    p[27] = 0;
                    let c = internet_checksum(&p[20..]);
                    p[26..28].copy_from_slice(&c.to_be_bytes());
                },
                |e| matches!(e, RxError::AddrMissing { .. }),
            ),
        ];
        for (i, (mutate, want)) in cases.iter().enumerate() {
            let mut p = good.clone();
            mutate(&mut p);
            let err = check_advert(&parse_ipv4(&p).unwrap(), &exp).unwrap_err();
            assert!(want(&err), "case {i}: got {err:?}");
            let mut stats = RxStats::default();
            stats.record_drop(&err);
            assert_eq!(stats.dropped, 1);
        }
    }

    #[test]
    fn v3_advert_to_v2_instance_is_a_version_error() {
        let v3 = golden_v3_advert();
        let dgram = encode_ipv4(&v3, &frame([10, 99, 0, 1]));
        let v2 = Advert {
            addrs: v3.addrs.clone(),
            ..golden_v2_advert()
        };
        let key = v2.auth_key;
        let mut exp = expect_for(&v2, &key);
        exp.auth_type = AuthType::None;
        // v3 payloads are 8 bytes shorter than v2 ones; keepalived's length check uses the
        // received version, so the version check is what rejects it.
        assert_eq!(
            check_advert(&parse_ipv4(&dgram).unwrap(), &exp),
            Err(RxError::Version {
                got: 3,
                expected: 2
            })
        );
    }

    #[test]
    fn ipv6_v3_round_trip() {
        let vip: IpAddr = "fd00::100".parse().unwrap();
        let adv = Advert {
            version: VrrpVersion::V3,
            vrid: 9,
            priority: 100,
            auth_type: AuthType::None,
            adver_int: 100,
            addrs: vec![vip],
            auth_key: [0; 8],
        };
        let src: Ipv6Addr = "fe80::1".parse().unwrap();
        let mut out = Vec::new();
        adv.encode_payload(IpAddr::V6(src), IpAddr::V6(MCAST_V6), &mut out);
        assert_eq!(out.len(), 8 + 16);
        let rx = parse_ipv6(&out, src, MCAST_V6, Some(255)).unwrap();
        let ok = check_advert(&rx, &expect_for(&adv, &[0; 8])).unwrap();
        assert_eq!(ok.header.adver_int, 100);
        let rx = parse_ipv6(&out, src, MCAST_V6, Some(1)).unwrap();
        assert_eq!(
            check_advert(&rx, &expect_for(&adv, &[0; 8])).unwrap_err(),
            RxError::Ttl(1)
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Valid adverts (PASS, AH, v3) with a few bytes changed and a random length still
        /// decode to a verdict, never a panic.
        #[test]
        fn mutated_adverts_never_panic(
            kind in 0usize..3,
            edits in proptest::collection::vec((0usize..80, proptest::prelude::any::<u8>()), 1..6),
            keep in 0usize..90,
        ) {
            let key = auth_key("secret12");
            let (adv, ah) = match kind {
                0 => (golden_v2_advert(), None),
                1 => (Advert { auth_type: AuthType::Ah, ..golden_v2_advert() }, Some((&key, 3u32))),
                _ => (golden_v3_advert(), None),
            };
            let mut p = encode_ipv4(&adv, &Ipv4Frame { ah, ..frame([10, 99, 0, 1]) });
            for (at, v) in edits {
                if let Some(b) = p.get_mut(at) {
                    *b = v;
                }
            }
            p.truncate(keep);
            let exp = expect_for(&adv, &key);
            if let Ok(rx) = parse_ipv4(&p) {
                let mut stats = RxStats::default();
                if let Err(e) = check_advert(&rx, &exp) {
                    stats.record_drop(&e);
                    proptest::prop_assert_eq!(stats.dropped, 1);
                }
            }
        }

        #[test]
        fn decoder_never_panics(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120)) {
            let key = auth_key("secret12");
            let vips = [v4([10, 99, 0, 100])];
            for auth_type in [AuthType::None, AuthType::Pass, AuthType::Ah] {
                let exp = RxExpect { version: VrrpVersion::V2, auth_type, auth_key: &key, adver_int_secs: 1,
                    vips: &vips, check_vips: true, unicast: false, unicast_peers: &[], unicast_peer_ttl: &[], check_unicast_src: false, ah_seq: 0 };
                if let Ok(rx) = parse_ipv4(&data) {
                    let _ = check_advert(&rx, &exp);
                }
                if let Ok(rx) = parse_ipv6(&data, Ipv6Addr::LOCALHOST, MCAST_V6, Some(255)) {
                    let _ = check_advert(&rx, &RxExpect { version: VrrpVersion::V3, ..exp });
                }
            }
        }

        #[test]
        fn encode_then_check_round_trips(vrid in 1u8..=255, prio in 1u8..=255, n in 0usize..5, v3 in proptest::prelude::any::<bool>()) {
            let addrs: Vec<IpAddr> = (0..n).map(|i| v4([10, 0, 0, i as u8 + 1])).collect();
            let adv = Advert { version: if v3 { VrrpVersion::V3 } else { VrrpVersion::V2 }, vrid, priority: prio,
                auth_type: AuthType::None, adver_int: 1, addrs, auth_key: [0; 8] };
            let dgram = encode_ipv4(&adv, &frame([10, 0, 0, 200]));
            let rx = parse_ipv4(&dgram).unwrap();
            let ok = check_advert(&rx, &expect_for(&adv, &[0; 8])).unwrap();
            proptest::prop_assert_eq!(ok.header.vrid, vrid);
            proptest::prop_assert_eq!(ok.header.priority, prio);
        }
    }
}

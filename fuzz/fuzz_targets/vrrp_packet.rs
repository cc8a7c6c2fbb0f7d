//! Fuzzes the VRRP decoder and receive checks: any bytes, as an IPv4 datagram or an IPv6
//! payload, under every authentication type, must be rejected or accepted without panicking.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use rhaproxy::vrrp::packet::{
    auth_key, check_advert, parse_ipv4, parse_ipv6, AuthType, RxExpect, RxStats, VrrpVersion, MCAST_V6,
};

fuzz_target!(|data: &[u8]| {
    let key = auth_key("secret12");
    let vips = [IpAddr::V4(Ipv4Addr::new(10, 99, 0, 100))];
    let vips6 = [IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 0x100))];
    let mut stats = RxStats::default();
    for (version, auth_type) in
        [(VrrpVersion::V2, AuthType::None), (VrrpVersion::V2, AuthType::Pass), (VrrpVersion::V2, AuthType::Ah), (VrrpVersion::V3, AuthType::None)]
    {
        for unicast in [false, true] {
            let exp = RxExpect {
                version,
                auth_type,
                auth_key: &key,
                adver_int_secs: 1,
                vips: &vips,
                check_vips: true,
                unicast,
                unicast_peers: &vips,
                check_unicast_src: unicast,
                ah_seq: 0,
            };
            if let Ok(rx) = parse_ipv4(data) {
                if let Err(e) = check_advert(&rx, &exp) {
                    stats.record_drop(&e);
                }
            }
            let exp6 = RxExpect { version: VrrpVersion::V3, auth_type: AuthType::None, vips: &vips6, ..exp };
            if let Ok(rx) = parse_ipv6(data, Ipv6Addr::LOCALHOST, MCAST_V6, Some(255)) {
                if let Err(e) = check_advert(&rx, &exp6) {
                    stats.record_drop(&e);
                }
            }
        }
    }
});

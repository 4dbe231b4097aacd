//! Networks as text prefixes, for targets without a native CIDR match.
//!
//! The prefix is rounded up to a whole octet (IPv4) or hex digit (IPv6); each resulting
//! subnet becomes the text its addresses start with, followed by a `*` wildcard. A
//! single-address network is the address itself. This is what the reference converter
//! emits, so queries stay comparable.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use sigil_core::{Pattern, Piece};

/// The wildcard patterns the addresses of `net` match.
pub fn expand(net: &IpNet) -> Vec<Pattern> {
    match net {
        IpNet::V4(n) => expand_v4(n),
        IpNet::V6(n) => expand_v6(n),
    }
}

fn expand_v4(net: &Ipv4Net) -> Vec<Pattern> {
    let prefix = u32::from(net.prefix_len()).div_ceil(8) * 8;
    let Ok(subnets) = net.subnets(prefix as u8) else {
        return Vec::new();
    };
    subnets
        .map(|s| {
            if prefix == 32 {
                return Pattern::literal(s.addr().to_string());
            }
            let octets = s.addr().octets();
            let head: Vec<String> = octets[..(prefix / 8) as usize]
                .iter()
                .map(u8::to_string)
                .collect();
            let mut text = head.join(".");
            text.push('.');
            Pattern::from_pieces([Piece::Lit(text), Piece::AnyMany])
        })
        .collect()
}

fn expand_v6(net: &Ipv6Net) -> Vec<Pattern> {
    let prefix = u32::from(net.prefix_len()).div_ceil(4) * 4;
    let Ok(subnets) = net.subnets(prefix as u8) else {
        return Vec::new();
    };
    subnets
        .map(|s| {
            if prefix == 128 {
                return Pattern::literal(s.addr().to_string());
            }
            let nibbles: String = s
                .addr()
                .segments()
                .iter()
                .map(|seg| format!("{seg:04x}"))
                .collect();
            let digits = (prefix / 4) as usize;
            let head = &nibbles[..digits];
            let mut groups: Vec<String> = head
                .as_bytes()
                .chunks(4)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
            // Whole groups lose their leading zeros, as addresses are written.
            let complete = digits % 4 == 0;
            let whole = if complete {
                groups.len()
            } else {
                groups.len() - 1
            };
            for g in groups.iter_mut().take(whole) {
                let trimmed = g.trim_start_matches('0');
                *g = if trimmed.is_empty() {
                    "0".to_string()
                } else {
                    trimmed.to_string()
                };
            }
            let mut text = groups.join(":");
            if complete {
                text.push(':');
            }
            Pattern::from_pieces([Piece::Lit(text), Piece::AnyMany])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(net: &str) -> Vec<String> {
        let net: IpNet = net.parse().unwrap();
        expand(&net).iter().map(Pattern::to_sigma).collect()
    }

    #[test]
    fn ipv4_rounds_to_octets() {
        assert_eq!(texts("10.0.0.0/8"), ["10.*"]);
        let v = texts("172.16.0.0/12");
        assert_eq!(v.len(), 16);
        assert_eq!(v[0], "172.16.*");
        assert_eq!(v[15], "172.31.*");
        assert_eq!(texts("1.2.3.4/32"), ["1.2.3.4"]);
    }

    #[test]
    fn ipv6_rounds_to_nibbles() {
        assert_eq!(texts("fe80::/10"), ["fe8*", "fe9*", "fea*", "feb*"]);
        assert_eq!(texts("fc00::/7"), ["fc*", "fd*"]);
        assert_eq!(texts("2620:83:8000::/48"), ["2620:83:8000:*"]);
        assert_eq!(texts("::1/128"), ["::1"]);
    }
}

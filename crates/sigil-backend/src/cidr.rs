//! Networks as text prefixes, for targets without a native CIDR match.
//!
//! The prefix is rounded up to a whole octet (IPv4) or hex digit (IPv6); each resulting
//! subnet becomes the text its addresses start with, followed by a `*` wildcard (for IPv6,
//! the text its first and last addresses share). A single-address network is the address
//! itself. This is what the reference converter
//! emits, so queries stay comparable.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use sigil_core::{Pattern, Piece};

/// The wildcard patterns the addresses of `net` match.
pub fn expand(net: &IpNet) -> Vec<Pattern> {
    match net {
        IpNet::V4(n) => expand_v4(*n),
        IpNet::V6(n) => expand_v6(*n),
    }
}

fn expand_v4(net: Ipv4Net) -> Vec<Pattern> {
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

/// IPv6 text is compressed (`2603:1006::`, leading zeros dropped), so a prefix of hex digits
/// is not a prefix of the text. Each subnet becomes the text its first and last addresses
/// share, as written, followed by `*`: that covers every address of the subnet (and may
/// cover a few more, never fewer), which is what the reference does.
fn expand_v6(net: Ipv6Net) -> Vec<Pattern> {
    let prefix = u32::from(net.prefix_len()).div_ceil(4) * 4;
    let Ok(subnets) = net.subnets(prefix as u8) else {
        return Vec::new();
    };
    subnets
        .map(|s| {
            let first = s.network().to_string();
            let last = s.broadcast().to_string();
            if first == last {
                return Pattern::literal(first);
            }
            let shared = first
                .char_indices()
                .zip(last.chars())
                .find(|((_, a), b)| a != b)
                .map_or(first.len(), |((i, _), _)| i);
            Pattern::from_pieces([Piece::Lit(first[..shared].to_string()), Piece::AnyMany])
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
        // Compressed text: `2603:1016:fff::1` is in the /36, so the shared text stops
        // before the digit that varies, leading zeros and all.
        assert_eq!(texts("2603:1006::/40"), ["2603:1006:*"]);
        assert_eq!(texts("2603:1016::/36"), ["2603:1016:*"]);
        assert_eq!(texts("2001:db8::/64"), ["2001:db8::*"]);
    }
}

//! Client addresses: ranges of trusted addresses (a proxy's), and the address a request
//! comes from when it came through such a proxy.

use std::net::IpAddr;

/// A range of addresses: `address/prefix`.
#[derive(Clone, Debug, PartialEq)]
pub struct Range {
    address: IpAddr,
    prefix: u8,
}

impl Range {
    pub fn parse(text: &str) -> Option<Range> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => {
                (address.parse::<IpAddr>().ok()?, Some(prefix.parse().ok()?))
            }
            None => (text.parse::<IpAddr>().ok()?, None),
        };
        let bits = if address.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(bits);
        (prefix <= bits).then_some(Range { address, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let (net, ip, bits) = match (self.address, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                (u128::from(u32::from(net)), u128::from(u32::from(ip)), 32u32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => (u128::from(net), u128::from(ip), 128u32),
            _ => return false,
        };
        let prefix = u32::from(self.prefix);
        if prefix == 0 {
            return true;
        }
        let shift = bits - prefix;
        (net >> shift) == (ip >> shift)
    }
}

/// An IPv4 address mapped into IPv6 (`::ffff:a.b.c.d`, as a dual-stack socket reports it)
/// as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The address a request comes from: the peer's or, when the peer is a trusted proxy, the
/// rightmost `X-Forwarded-For` entry that is not itself a trusted proxy. Entries to its left
/// were written by the client (or a proxy nobody vouches for) and may be forged; a malformed
/// entry stops the walk there, at the last address a trusted proxy wrote.
pub fn client_address(peer: IpAddr, forwarded_for: &[&str], trusted: &[Range]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|range| range.contains(ip));
    let mut client = canonical(peer);
    if !is_trusted(client) {
        return client;
    }
    let hops = forwarded_for
        .iter()
        .flat_map(|value| value.split(','))
        .map(str::trim);
    for hop in hops.collect::<Vec<_>>().into_iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) => {
                client = canonical(ip);
                if !is_trusted(client) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn only_a_trusted_proxy_is_believed_and_only_for_its_own_hop() {
        let trusted = [Range::parse("10.0.0.0/8").unwrap()];
        // Straight from a client: its header means nothing.
        assert_eq!(
            client_address(ip("203.0.113.9"), &["1.2.3.4"], &trusted),
            ip("203.0.113.9")
        );
        // Through the proxy: the address it saw, not what the client wrote before it.
        assert_eq!(
            client_address(ip("10.0.0.2"), &["1.2.3.4, 198.51.100.7"], &trusted),
            ip("198.51.100.7")
        );
        // Through two trusted proxies, header lines split or not.
        assert_eq!(
            client_address(ip("10.0.0.2"), &["198.51.100.7", "10.0.0.3"], &trusted),
            ip("198.51.100.7")
        );
        // A malformed hop ends the walk at the last good one a proxy wrote.
        assert_eq!(
            client_address(
                ip("10.0.0.2"),
                &["198.51.100.7, garbage, 10.0.0.3"],
                &trusted
            ),
            ip("10.0.0.3")
        );
        // No header: the proxy itself.
        assert_eq!(
            client_address(ip("10.0.0.2"), &[], &trusted),
            ip("10.0.0.2")
        );
        // Nothing trusted: the peer, always.
        assert_eq!(
            client_address(ip("10.0.0.2"), &["1.2.3.4"], &[]),
            ip("10.0.0.2")
        );
        // A dual-stack socket's mapped IPv4 peer is the IPv4 address.
        assert_eq!(
            client_address(ip("::ffff:10.0.0.2"), &["198.51.100.7"], &trusted),
            ip("198.51.100.7")
        );
    }
}

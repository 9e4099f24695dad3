//! Which address a request comes from, for the per-address lockout.
//!
//! `X-Forwarded-For` is anyone's to write, so it is read only when the direct
//! peer is a configured trusted proxy. Then the list is walked from the right
//! (the entries the trusted proxies appended) past every trusted proxy; the
//! first other address is the client. Anything unreadable on the way stops
//! the walk at the last address known to be real.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use ipnet::IpNet;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// `peer`: the TCP peer; `forwarded`: each `X-Forwarded-For` header value, in order.
    pub fn client_ip<'a>(
        &self,
        peer: Option<IpAddr>,
        forwarded: impl DoubleEndedIterator<Item = &'a str>,
    ) -> Option<IpAddr> {
        let mut client = canonical(peer?);
        if !self.trusts(client) {
            return Some(client);
        }
        let hops = forwarded.rev().flat_map(|v| v.rsplit(','));
        for hop in hops {
            let Some(ip) = parse_hop(hop.trim()) else {
                break;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        Some(client)
    }
}

/// `a.b.c.d/n,…` (a bare address is a /32 or /128).
impl FromStr for TrustedProxies {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let net = part
                .parse::<IpNet>()
                .or_else(|_| part.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{part:?} is not an IP address or CIDR range"))?;
            nets.push(net.trunc());
        }
        Ok(TrustedProxies(nets))
    }
}

/// An address as proxies write it: plain, with a port, or IPv6 in brackets.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            hop.strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .and_then(|h| h.parse().ok())
        })
        .map(canonical)
}

/// IPv4 clients of a dual-stack listener arrive as `::ffff:a.b.c.d`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The lockout's bucket name for an address. An IPv6 client usually holds a
/// whole /64, so that is what one address means there.
pub fn lockout_subject(ip: Option<IpAddr>) -> String {
    match ip {
        None => "unknown".into(),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_header_is_ignored_unless_the_peer_is_trusted() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_ip(Some(ip("10.0.0.1")), ["1.2.3.4"].into_iter()),
            Some(ip("10.0.0.1"))
        );
        let trusted: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        assert_eq!(
            trusted.client_ip(Some(ip("192.0.2.9")), ["1.2.3.4"].into_iter()),
            Some(ip("192.0.2.9")),
            "an untrusted peer cannot choose its address"
        );
        assert_eq!(
            trusted.client_ip(Some(ip("10.0.0.1")), ["1.2.3.4"].into_iter()),
            Some(ip("1.2.3.4"))
        );
    }

    #[test]
    fn the_walk_stops_at_the_first_untrusted_hop() {
        let trusted: TrustedProxies = "10.0.0.0/8, 192.168.1.1".parse().unwrap();
        let peer = Some(ip("10.0.0.1"));
        // The client wrote 6.6.6.6 itself; 5.5.5.5 is what our proxy saw.
        let headers = ["6.6.6.6, 5.5.5.5", "192.168.1.1"];
        assert_eq!(
            trusted.client_ip(peer, headers.into_iter()),
            Some(ip("5.5.5.5"))
        );
        assert_eq!(
            trusted.client_ip(peer, ["[2001:db8::1]:443, 10.1.1.1"].into_iter()),
            Some(ip("2001:db8::1"))
        );
        assert_eq!(
            trusted.client_ip(peer, ["1.2.3.4, garbage, 10.9.9.9"].into_iter()),
            Some(ip("10.9.9.9")),
            "an unreadable hop ends the walk at the last real address"
        );
        assert_eq!(trusted.client_ip(peer, std::iter::empty()), peer);
        assert_eq!(
            trusted.client_ip(Some(ip("::ffff:10.0.0.2")), ["7.7.7.7"].into_iter()),
            Some(ip("7.7.7.7"))
        );
    }

    #[test]
    fn parses_lists_and_refuses_garbage() {
        assert!("10.0.0.0/8,::1".parse::<TrustedProxies>().is_ok());
        assert!("".parse::<TrustedProxies>().unwrap().is_empty());
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
        assert!("proxy.local".parse::<TrustedProxies>().is_err());
    }

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        assert_eq!(
            lockout_subject(Some(ip("2001:db8:1:2:3:4:5:6"))),
            lockout_subject(Some(ip("2001:db8:1:2:ffff::1")))
        );
        assert_eq!(lockout_subject(Some(ip("192.0.2.1"))), "192.0.2.1");
    }
}

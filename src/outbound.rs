//! The outbound address rule for URLs that companies set over the API
//! (webhook endpoints now, agent tools later): the server connects only to
//! public addresses, plus the networks the operator allows
//! (`--outbound-allow CIDR,...`). The rule is applied to the address actually
//! connected to: the HTTP client resolves names through [`FilteringResolver`],
//! which drops every refused address, so a name that resolves to a public
//! address when checked and to a private one when used (DNS rebinding) still
//! cannot reach it. Redirects are never followed. Plain http is accepted only
//! for hosts inside the allowed networks.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;

/// Why a URL may not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OutboundError {
    #[error("url must be an absolute http or https URL")]
    NotAUrl,
    #[error("url must use https (http only for networks the operator allows)")]
    NotHttps,
    #[error("url's host could not be resolved")]
    Unresolved,
    #[error(
        "url's host resolves to a non-public address ({0}), which this server does not connect to"
    )]
    Refused(IpAddr),
}

/// The operator's allowed networks; everything else must be public.
#[derive(Debug, Clone, Default)]
pub struct OutboundRule {
    allow: Vec<IpNet>,
}

impl OutboundRule {
    pub fn new(allow: Vec<IpNet>) -> Self {
        OutboundRule { allow }
    }

    /// Parses `CIDR,...` (a bare address is one host).
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut allow = Vec::new();
        for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let net = part
                .parse::<IpNet>()
                .or_else(|_| part.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("not a network (CIDR) or address: {part:?}"))?;
            allow.push(net);
        }
        Ok(OutboundRule { allow })
    }

    fn allowed_network(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.allow.iter().any(|n| n.contains(&ip))
    }

    /// Whether the server may connect to `ip`.
    pub fn permits(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.allowed_network(ip)
    }

    /// Checks a URL now: its form, its scheme and every address its host
    /// resolves to. Used when a URL is set, and again before each use (the
    /// client's resolver then filters what it connects to).
    pub async fn check(&self, url: &str) -> Result<Url, OutboundError> {
        let parsed = Url::parse(url).map_err(|_| OutboundError::NotAUrl)?;
        let host = match parsed.host() {
            Some(h) if matches!(parsed.scheme(), "http" | "https") => h.to_string(),
            _ => return Err(OutboundError::NotAUrl),
        };
        let addrs: Vec<IpAddr> = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
            Some(url::Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
            _ => {
                let port = parsed.port_or_known_default().unwrap_or(443);
                tokio::net::lookup_host((host.as_str(), port))
                    .await
                    .map_err(|_| OutboundError::Unresolved)?
                    .map(|a| a.ip())
                    .collect()
            }
        };
        if addrs.is_empty() {
            return Err(OutboundError::Unresolved);
        }
        for ip in &addrs {
            if !self.permits(*ip) {
                return Err(OutboundError::Refused(*ip));
            }
            if parsed.scheme() == "http" && !self.allowed_network(*ip) {
                return Err(OutboundError::NotHttps);
            }
        }
        Ok(parsed)
    }

    /// An HTTP client that connects only where this rule permits, follows
    /// no redirect and gives up after `timeout`.
    pub fn client(&self, timeout: Duration) -> reqwest::Result<reqwest::Client> {
        reqwest::Client::builder()
            .dns_resolver(Arc::new(FilteringResolver(self.clone())))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
    }
}

/// The resolver the outbound client uses: the system's answer, less every
/// address the rule refuses (none left: the request fails to connect).
pub struct FilteringResolver(OutboundRule);

impl Resolve for FilteringResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let rule = self.0.clone();
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let kept: Vec<SocketAddr> = found.filter(|a| rule.permits(a.ip())).collect();
            if kept.is_empty() {
                return Err(format!("{} resolves to no public address", name.as_str()).into());
            }
            let addrs: Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

/// IPv4-mapped and IPv4-compatible IPv6 addresses as the IPv4 they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// A globally routable unicast address: not loopback, private, link-local,
/// shared (CGNAT), unspecified, broadcast, multicast, documentation,
/// benchmarking, reserved, unique-local, or an IPv6 form of one of those.
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => public_v6(v6),
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if let Some(v4) = ip.to_ipv4() {
        // IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::/96) carry an IPv4.
        if s[0..6] == [0, 0, 0, 0, 0, 0] || s[0..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
            return !ip.is_unspecified() && !ip.is_loopback() && public_v4(v4);
        }
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x2001 && s[1] < 0x0200) // IETF protocol assignments (Teredo, ORCHID...)
        || s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard-only
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn every_loopback_spelling_is_refused() {
        let rule = OutboundRule::default();
        for url in [
            "https://127.0.0.1/",
            "https://127.1/",
            "https://2130706433/",
            "https://0x7f000001/",
            "https://0177.0.0.1/",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:7f00:1]/",
            "https://localhost/",
            "https://0.0.0.0/",
            "https://10.1.2.3/",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/",
            "https://192.168.0.1/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://224.0.0.1/",
            "https://192.0.2.1/",
        ] {
            let got = rt().block_on(rule.check(url));
            assert!(
                matches!(got, Err(OutboundError::Refused(_))),
                "{url}: {got:?}"
            );
        }
    }

    #[test]
    fn public_addresses_pass_and_forms_are_checked() {
        let rule = OutboundRule::default();
        assert!(rt()
            .block_on(rule.check("https://93.184.216.34/hook"))
            .is_ok());
        assert!(rt()
            .block_on(rule.check("https://[2606:4700::1111]/"))
            .is_ok());
        assert_eq!(
            rt().block_on(rule.check("http://93.184.216.34/hook")),
            Err(OutboundError::NotHttps)
        );
        for bad in [
            "not a url",
            "ftp://93.184.216.34/",
            "/relative",
            "mailto:a@b.c",
        ] {
            assert_eq!(
                rt().block_on(rule.check(bad)),
                Err(OutboundError::NotAUrl),
                "{bad}"
            );
        }
    }

    #[test]
    fn allowed_networks_pass_over_http_too() {
        let rule = OutboundRule::parse("127.0.0.0/8, 10.0.0.5").unwrap();
        assert!(rt().block_on(rule.check("http://127.0.0.1:9/x")).is_ok());
        assert!(rt().block_on(rule.check("http://127.1:9/x")).is_ok());
        assert!(rt()
            .block_on(rule.check("http://[::ffff:127.0.0.1]:9/x"))
            .is_ok());
        assert!(rt().block_on(rule.check("https://10.0.0.5/")).is_ok());
        assert!(rt().block_on(rule.check("https://10.0.0.6/")).is_err());
        assert!(OutboundRule::parse("127.0.0.0/33").is_err());
    }

    #[test]
    fn the_resolver_drops_refused_addresses() {
        let resolver = FilteringResolver(OutboundRule::default());
        let got = rt().block_on(resolver.resolve("localhost".parse().unwrap()));
        assert!(got.is_err(), "localhost must resolve to nothing usable");
        let allowed = FilteringResolver(OutboundRule::parse("127.0.0.0/8,::1/128").unwrap());
        let addrs: Vec<SocketAddr> = rt()
            .block_on(allowed.resolve("localhost".parse().unwrap()))
            .unwrap()
            .collect();
        assert!(!addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()));
    }
}

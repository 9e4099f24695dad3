//! The address `quickstart` prints in its links and `export` lines: the
//! server's public URL when given, else one made from the address it listens
//! on. A listen address such as `0.0.0.0:8080` means "every interface", which
//! no browser or client can connect to, so it is never printed: the loopback
//! address of the same family stands in (the quickstart runs on the server's
//! machine).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// `public_url` (an `http(s)://` URL, trailing `/` dropped) if given, else
/// `http://` + `listen` with an unspecified IP replaced by loopback.
pub fn public_base(public_url: Option<&str>, listen: &str) -> Result<String, String> {
    match public_url.map(str::trim).filter(|u| !u.is_empty()) {
        Some(url) => checked_url(url),
        None => Ok(format!("http://{}", reachable(listen))),
    }
}

fn checked_url(url: &str) -> Result<String, String> {
    let parsed =
        reqwest::Url::parse(url).map_err(|e| format!("--public-url {url:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "--public-url {url:?} must start with http:// or https://"
        ));
    }
    // An IPv6 host comes back in brackets (`[::]`).
    let unspecified = parsed.host_str().is_none_or(|host| {
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_unspecified())
    });
    if unspecified {
        return Err(format!(
            "--public-url {url:?} names no address a client can reach; give the server's host name"
        ));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// `listen` as a client would connect to it.
fn reachable(listen: &str) -> String {
    match listen.parse::<SocketAddr>() {
        Ok(addr) if addr.ip().is_unspecified() => {
            let loopback = match addr.ip() {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            };
            SocketAddr::new(loopback, addr.port()).to_string()
        }
        // A host name (`localhost:8080`) or a specific address is reachable as written.
        _ => listen.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::public_base;

    #[test]
    fn the_listen_address_is_used_unless_it_is_unspecified() {
        let base = |listen| public_base(None, listen).unwrap();
        assert_eq!(base("127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(base("0.0.0.0:8080"), "http://127.0.0.1:8080");
        assert_eq!(base("[::]:9000"), "http://[::1]:9000");
        assert_eq!(base("192.0.2.10:80"), "http://192.0.2.10:80");
        assert_eq!(base("localhost:8080"), "http://localhost:8080");
    }

    #[test]
    fn a_public_url_wins_and_must_be_reachable() {
        let base = |url| public_base(Some(url), "0.0.0.0:8080");
        assert_eq!(
            base("https://chat.example.com/").unwrap(),
            "https://chat.example.com"
        );
        assert_eq!(
            base("http://10.0.0.5:8080").unwrap(),
            "http://10.0.0.5:8080"
        );
        assert_eq!(
            base("  ").unwrap(),
            "http://127.0.0.1:8080",
            "blank is unset"
        );
        for bad in [
            "chat.example.com",
            "ftp://x.example",
            "http://0.0.0.0:8080",
            "http://[::]:1",
        ] {
            assert!(base(bad).is_err(), "{bad}");
        }
    }
}

//! The client's address. The TCP peer, unless the peer is a trusted proxy
//! (`trusted_proxies`): then the rightmost hop of `Forwarded` (`for=`) or, without it,
//! `X-Forwarded-For` that is not itself a trusted proxy. Anyone else's forwarding headers are
//! ignored, so a client cannot pick its own rate-limit bucket or log address.

use std::net::{IpAddr, SocketAddr};

use actix_web::http::header::{FORWARDED, HeaderName, X_FORWARDED_FOR};
use actix_web::{HttpRequest, web};
use ipnet::IpNet;

/// The proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// From IPs (`10.0.0.1`, `::1`) and CIDRs (`10.0.0.0/8`, `fd00::/8`).
    pub fn parse<S: AsRef<str>>(list: &[S]) -> Result<TrustedProxies, String> {
        list.iter()
            .map(|s| {
                let s = s.as_ref().trim();
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("trusted_proxies: `{s}` is neither an IP address nor a CIDR"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is one of the proxies (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// An address as a hop appears in the headers: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]:4711`, possibly quoted. `None` for `unknown`, obfuscated names, garbage.
fn parse_hop(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Some(sa.ip().to_canonical());
    }
    let inner = s.strip_prefix('[')?.split(']').next()?;
    inner.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

/// The `for=` values of `Forwarded` headers, in order (RFC 7239).
fn forwarded_for<'a>(values: &[&'a str]) -> Vec<&'a str> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (k, v) = pair.split_once('=')?;
                k.trim().eq_ignore_ascii_case("for").then(|| v.trim())
            })
        })
        .collect()
}

/// Picks the client address. `forwarded` and `x_forwarded_for` are the raw header values in
/// the order received; they are read only when `peer` is trusted. Walking the hops from the
/// right, the first address that is not a trusted proxy is the client; if a hop cannot be
/// read, the last address known is kept; if all hops are trusted, the leftmost one.
pub fn pick_client(
    peer: IpAddr,
    forwarded: &[&str],
    x_forwarded_for: &[&str],
    trusted: &TrustedProxies,
) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    let mut hops = forwarded_for(forwarded);
    if hops.is_empty() {
        hops = x_forwarded_for.iter().flat_map(|v| v.split(',')).map(str::trim).collect();
    }
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else { break };
        client = ip;
        if !trusted.contains(ip) {
            break;
        }
    }
    client
}

fn header_values<'a>(req: &'a HttpRequest, name: &HeaderName) -> Vec<&'a str> {
    req.headers().get_all(name).filter_map(|v| v.to_str().ok()).collect()
}

/// The client address of a request (see the module docs); `None` without a TCP peer (tests
/// that build requests by hand). Reads [`TrustedProxies`] from the app data; without it, the
/// peer is the client.
pub fn client_ip(req: &HttpRequest) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    match req.app_data::<web::Data<TrustedProxies>>() {
        Some(trusted) if !trusted.is_empty() => Some(pick_client(
            peer,
            &header_values(req, &FORWARDED),
            &header_values(req, &X_FORWARDED_FOR),
            trusted,
        )),
        _ => Some(peer.to_canonical()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn trusted(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(list).unwrap()
    }

    #[test]
    fn proxies_are_ips_or_cidrs() {
        let t = trusted(&["10.0.0.0/8", "192.0.2.7", "fd00::/8", "::1"]);
        assert!(t.contains(ip("10.1.2.3")));
        assert!(t.contains(ip("192.0.2.7")));
        assert!(!t.contains(ip("192.0.2.8")));
        assert!(t.contains(ip("fd12::1")));
        assert!(t.contains(ip("::1")));
        assert!(t.contains(ip("::ffff:10.0.0.1")), "IPv4-mapped counts as IPv4");
        assert!(TrustedProxies::parse(&["10.0.0.0/33"]).is_err());
        assert!(TrustedProxies::parse(&["proxy.local"]).is_err());
        assert!(TrustedProxies::parse::<&str>(&[]).unwrap().is_empty());
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let t = trusted(&["10.0.0.1"]);
        assert_eq!(pick_client(ip("203.0.113.9"), &[], &["198.51.100.1"], &t), ip("203.0.113.9"));
        assert_eq!(pick_client(ip("203.0.113.9"), &["for=198.51.100.1"], &[], &t), ip("203.0.113.9"));
        let none = TrustedProxies::default();
        assert_eq!(pick_client(ip("10.0.0.1"), &[], &["198.51.100.1"], &none), ip("10.0.0.1"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let t = trusted(&["10.0.0.0/8"]);
        let peer = ip("10.0.0.1");
        // the client sent its own (forged) X-Forwarded-For; the proxy appended the real one
        assert_eq!(pick_client(peer, &[], &["1.2.3.4, 198.51.100.1"], &t), ip("198.51.100.1"));
        assert_eq!(pick_client(peer, &[], &["1.2.3.4", "198.51.100.1, 10.0.0.2"], &t), ip("198.51.100.1"));
        // all hops trusted: the leftmost
        assert_eq!(pick_client(peer, &[], &["10.0.0.3, 10.0.0.2"], &t), ip("10.0.0.3"));
        // no header: the peer
        assert_eq!(pick_client(peer, &[], &[], &t), peer);
        // an unreadable hop stops the walk at the last address known
        assert_eq!(pick_client(peer, &[], &["198.51.100.1, unknown"], &t), peer);
        assert_eq!(pick_client(peer, &[], &["garbage, 198.51.100.1"], &t), ip("198.51.100.1"));
    }

    #[test]
    fn forwarded_wins_over_x_forwarded_for_and_its_forms_are_read() {
        let t = trusted(&["10.0.0.0/8"]);
        let peer = ip("10.0.0.1");
        let fwd = ["for=1.2.3.4;proto=http, for=\"198.51.100.1:4711\";by=10.0.0.1"];
        assert_eq!(pick_client(peer, &fwd, &["192.0.2.1"], &t), ip("198.51.100.1"));
        let v6 = ["For=\"[2001:db8:cafe::17]:4711\""];
        assert_eq!(pick_client(peer, &v6, &[], &t), ip("2001:db8:cafe::17"));
        assert_eq!(pick_client(peer, &["proto=https"], &["192.0.2.1"], &t), ip("192.0.2.1"));
        assert_eq!(pick_client(peer, &["for=unknown"], &[], &t), peer);
        assert_eq!(pick_client(peer, &[], &["[2001:db8::1]:80"], &t), ip("2001:db8::1"));
    }
}

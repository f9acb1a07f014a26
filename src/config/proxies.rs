//! Who is really calling: the peer address, or, when the peer is a proxy
//! we were told to trust, the address it says it forwarded. Anyone can
//! write `X-Forwarded-For`; it means something only when it was appended
//! by a proxy in [`TrustedProxies`].

use std::net::IpAddr;

use ipnet::IpNet;

/// The proxies whose `X-Forwarded-*` headers are believed. Empty (the
/// default): the headers are ignored and the peer is the client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// What a trusted proxy told us about the original request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Forwarded {
    pub client: IpAddr,
    /// The browser spoke HTTPS to the first proxy.
    pub https: bool,
}

impl TrustedProxies {
    /// Parses a comma-separated list of addresses and CIDR ranges,
    /// e.g. `10.0.0.0/8, 127.0.0.1, fd00::/8`.
    ///
    /// # Errors
    /// The first entry that is neither.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<IpNet>().or_else(|_| s.parse::<IpAddr>().map(IpNet::from)).map_err(|_| s.to_owned()))
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`. `forwarded_for` are the values of every
    /// `X-Forwarded-For` header in order; `proto` the last
    /// `X-Forwarded-Proto`. Walks the hops from the nearest: each trusted
    /// proxy vouches for the hop before it, and the first hop no trusted
    /// proxy is, is the client. An entry that is not an address ends the
    /// walk at the last hop that could be vouched for.
    pub fn resolve<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl DoubleEndedIterator<Item = &'a str>,
        proto: Option<&str>,
        tls: bool,
    ) -> Forwarded {
        if !self.trusts(peer) {
            return Forwarded { client: peer, https: tls };
        }
        let https = proto.map_or(tls, |p| p.trim().eq_ignore_ascii_case("https"));
        let mut client = peer;
        let hops = forwarded_for.rev().flat_map(|v| v.rsplit(',')).map(str::trim);
        for hop in hops {
            let Ok(ip) = hop.parse::<IpAddr>() else { break };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        Forwarded { client, https }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn client(proxies: &str, peer: &str, xff: &[&str]) -> IpAddr {
        TrustedProxies::parse(proxies).unwrap().resolve(ip(peer), xff.iter().copied(), None, false).client
    }

    #[test]
    fn without_trusted_proxies_forwarded_headers_are_ignored() {
        assert_eq!(client("", "203.0.113.9", &["198.51.100.1"]), ip("203.0.113.9"));
    }

    #[test]
    fn an_untrusted_peer_cannot_forward() {
        assert_eq!(client("10.0.0.0/8", "203.0.113.9", &["198.51.100.1"]), ip("203.0.113.9"));
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        assert_eq!(client("10.0.0.0/8", "10.0.0.2", &["198.51.100.1"]), ip("198.51.100.1"));
    }

    #[test]
    fn spoofed_entries_left_of_the_client_are_ignored() {
        // The client sent "X-Forwarded-For: 1.2.3.4"; the proxy appended
        // the address it saw.
        assert_eq!(client("10.0.0.0/8", "10.0.0.2", &["1.2.3.4, 198.51.100.1"]), ip("198.51.100.1"));
        assert_eq!(client("10.0.0.0/8", "10.0.0.2", &["1.2.3.4", "198.51.100.1"]), ip("198.51.100.1"));
    }

    #[test]
    fn chains_of_trusted_proxies_are_walked() {
        assert_eq!(client("10.0.0.0/8", "10.0.0.2", &["198.51.100.1, 10.0.0.7"]), ip("198.51.100.1"));
    }

    #[test]
    fn garbage_stops_at_the_last_vouched_hop() {
        assert_eq!(client("10.0.0.0/8", "10.0.0.2", &["198.51.100.1, bogus"]), ip("10.0.0.2"));
        assert_eq!(client("10.0.0.0/8", "10.0.0.2", &[]), ip("10.0.0.2"));
    }

    #[test]
    fn only_a_trusted_proxy_says_https() {
        let p = TrustedProxies::parse("127.0.0.1").unwrap();
        assert!(p.resolve(ip("127.0.0.1"), std::iter::empty(), Some("https"), false).https);
        assert!(!p.resolve(ip("127.0.0.2"), std::iter::empty(), Some("https"), false).https);
        assert!(p.resolve(ip("127.0.0.2"), std::iter::empty(), None, true).https);
    }

    #[test]
    fn mapped_ipv4_matches_ipv4_ranges() {
        assert_eq!(client("10.0.0.0/8", "::ffff:10.0.0.2", &["198.51.100.1"]), ip("198.51.100.1"));
    }

    #[test]
    fn bad_entries_are_named() {
        assert_eq!(TrustedProxies::parse("10.0.0.0/8, proxy.local"), Err("proxy.local".to_owned()));
    }
}

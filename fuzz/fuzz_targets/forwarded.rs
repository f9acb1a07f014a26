//! Who the caller is behind proxies: the trusted-proxy list as configured
//! and `X-Forwarded-For` / `X-Forwarded-Proto` as anyone may send them.
//! Nothing panics; a peer we do not trust is the client, over the scheme
//! it used, whatever it sends; behind a trusted one the client is the peer
//! or an address some hop named.
#![no_main]

use std::net::IpAddr;

use gatehouse::config::proxies::TrustedProxies;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // Lines: the trusted list, the peer, the proto, then one
    // X-Forwarded-For header per line.
    let mut lines = text.split('\n');
    let proxies = TrustedProxies::parse(lines.next().unwrap_or(""))
        .unwrap_or_else(|_| TrustedProxies::parse("10.0.0.0/8, 127.0.0.1, fd00::/8").expect("a valid list"));
    let peer: IpAddr = lines.next().and_then(|p| p.trim().parse().ok()).unwrap_or(IpAddr::from([10, 0, 0, 1]));
    let proto = lines.next().filter(|p| !p.is_empty());
    let forwarded: Vec<&str> = lines.collect();

    // A trusted peer lets one plain hop speak for the client.
    let probe = if peer == IpAddr::from([192, 0, 2, 1]) { "192.0.2.2" } else { "192.0.2.1" };
    let trusted = proxies.resolve(peer, [probe].into_iter(), None, false).client != peer;

    for tls in [false, true] {
        let seen = proxies.resolve(peer, forwarded.iter().copied(), proto, tls);
        if !trusted {
            assert_eq!(seen.client, peer, "an untrusted peer named someone else");
            assert_eq!(seen.https, tls, "an untrusted peer claimed a scheme");
        } else if seen.client != peer {
            let mut named = forwarded.iter().flat_map(|v| v.split(',')).filter_map(|h| h.trim().parse::<IpAddr>().ok());
            assert!(named.any(|ip| ip == seen.client), "{seen:?} was never named");
        }
    }
});

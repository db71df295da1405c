//! Who is calling: the address of the client behind the store's own reverse proxies.
//!
//! A store behind an HTTPS proxy (as the README asks for a store on a network) sees every
//! connection come from the proxy. Rate limits keyed by that address would make the whole world
//! one client, and the tracker would hand out the proxy's address for every viewer. The proxy
//! says who it is forwarding for in `X-Forwarded-For`, but so can anyone else: the header is
//! believed only from the addresses the operator names (`--trusted-proxy`), and only as far back
//! as the chain of trusted hops goes.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The operator's reverse proxies: addresses or networks (`10.0.0.0/8`, `::1`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Proxies from `10.0.0.1`, `10.0.0.0/8`, `::1` or `fd00::/8`; `Err` names the one that is
    /// neither an address nor a network.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<TrustedProxies, String> {
        items
            .iter()
            .map(|item| {
                let item = item.as_ref().trim();
                item.parse::<IpNet>()
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!(
                            "trusted proxy {item:?} is neither an address (10.0.0.1) nor a network (10.0.0.0/8)"
                        )
                    })
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    /// True when no proxy is trusted (every client is its socket's address).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = unmapped(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request that arrived from `peer`: `peer` itself unless it is a trusted
    /// proxy; then the nearest address in `X-Forwarded-For` (read from the right, the end each
    /// proxy appends to) that is not a trusted proxy. A value that is not an address ends the
    /// walk at the hop that wrote it: whatever is left of it was written by the client, who may
    /// write anything.
    pub fn client(&self, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = unmapped(peer.ip());
        if !self.trusts(client) {
            return client;
        }
        // Several headers are one list, in order (RFC 9110, 5.3).
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        for hop in hops.iter().rev() {
            let Some(ip) = forwarded_address(hop) else {
                break;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:443`, as some proxies write them.
fn forwarded_address(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(unmapped)
}

/// `::ffff:10.0.0.1` is `10.0.0.1` (a dual-stack socket reports IPv4 clients so).
fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn peer(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), 40_000)
    }

    #[test]
    fn the_header_is_believed_only_from_a_trusted_proxy() {
        let none = TrustedProxies::default();
        let forged = headers(&["203.0.113.7"]);
        assert_eq!(
            none.client(peer("198.51.100.1"), &forged),
            "198.51.100.1".parse::<IpAddr>().unwrap(),
            "no proxy is trusted: the socket's address"
        );
        let proxies = TrustedProxies::parse(&["10.0.0.0/8", "::1"]).unwrap();
        assert_eq!(
            proxies.client(peer("198.51.100.1"), &forged),
            "198.51.100.1".parse::<IpAddr>().unwrap(),
            "a stranger's header is ignored"
        );
        assert_eq!(
            proxies.client(peer("10.1.2.3"), &forged),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            proxies.client(peer("::ffff:10.1.2.3"), &forged),
            "203.0.113.7".parse::<IpAddr>().unwrap(),
            "a v4-mapped proxy is the same proxy"
        );
        assert_eq!(
            proxies.client(peer("10.1.2.3"), &HeaderMap::new()),
            "10.1.2.3".parse::<IpAddr>().unwrap(),
            "no header: the proxy itself"
        );
    }

    #[test]
    fn a_client_cannot_hide_behind_a_forged_first_entry() {
        let proxies = TrustedProxies::parse(&["10.0.0.0/8"]).unwrap();
        // The client wrote "1.1.1.1" itself; the first proxy appended the client's real
        // address, a second trusted proxy appended the first's.
        let chain = headers(&["1.1.1.1, 203.0.113.7", "10.0.0.5"]);
        assert_eq!(
            proxies.client(peer("10.0.0.9"), &chain),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        let garbage = headers(&["1.1.1.1, nonsense, 10.0.0.5"]);
        assert_eq!(
            proxies.client(peer("10.0.0.9"), &garbage),
            "10.0.0.5".parse::<IpAddr>().unwrap(),
            "a value that is not an address stops the walk at the hop that wrote it"
        );
        let ports = headers(&["[2001:db8::7]:443, 203.0.113.8:5555"]);
        assert_eq!(
            proxies.client(peer("10.0.0.9"), &ports),
            "203.0.113.8".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn a_bad_entry_is_named() {
        let e = TrustedProxies::parse(&["10.0.0.0/8", "proxy.example"]).unwrap_err();
        assert!(e.contains("\"proxy.example\""), "{e}");
        assert!(TrustedProxies::parse(&["10.0.0.0/33"]).is_err());
    }
}

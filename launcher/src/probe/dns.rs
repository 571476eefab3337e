//! Name resolution with hickory-resolver: the system configuration by default, or one given server
//! (`--dns-server` / `RDPL_DNS_SERVER`). [`classify`] maps resolver errors to the report's statuses.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, LookupIpStrategy, NameServerConfig, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::Name;

use rdpl_core::facts::DnsStatus;
use rdpl_core::preflight::race::Lookup;

/// Builds a resolver: the system's configuration, or only `server` when given.
pub fn resolver(server: Option<SocketAddr>, timeout: Duration) -> Result<TokioResolver, String> {
    let mut opts = ResolverOpts::default();
    opts.timeout = timeout;
    opts.attempts = 1;
    opts.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
    let builder = match server {
        None => {
            TokioResolver::builder_tokio().map_err(|e| format!("no usable system DNS configuration: {e}"))?
        }
        Some(addr) => {
            let mut udp = ConnectionConfig::udp();
            udp.port = addr.port();
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = addr.port();
            let ns = NameServerConfig::new(addr.ip(), true, vec![udp, tcp]);
            TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(vec![ns]),
                TokioRuntimeProvider::default(),
            )
        }
    };
    builder.with_options(opts).build().map_err(|e| e.to_string())
}

/// Maps a resolver error to a status and a plain description.
pub fn classify(e: &NetError) -> (DnsStatus, String) {
    if e.is_nx_domain() {
        return (DnsStatus::Nxdomain, "the name does not exist (NXDOMAIN)".into());
    }
    match e {
        NetError::Timeout => (DnsStatus::Timeout, "the DNS server did not answer in time".into()),
        NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail)) => (
            DnsStatus::Servfail,
            "the DNS server failed to answer (SERVFAIL)".into(),
        ),
        NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused)) => (
            DnsStatus::Error,
            "the DNS server refused the query (REFUSED)".into(),
        ),
        e if e.is_no_records_found() => (
            DnsStatus::Error,
            "the name exists but has no A or AAAA record".into(),
        ),
        e => (DnsStatus::Error, e.to_string()),
    }
}

/// Resolves a name to its IPv6 and IPv4 addresses, within `deadline`.
pub async fn lookup(resolver: &TokioResolver, name: &str, deadline: Duration) -> Lookup {
    let start = Instant::now();
    let ms = |s: Instant| u64::try_from(s.elapsed().as_millis()).unwrap_or(u64::MAX);
    // The name as it is, in ASCII (hosts are IDNA-normalised when parsed): a `&str` would go through
    // hickory's IDNA mapping, which refuses `_` (legal in DNS, common in Windows networks) without a query.
    let query = match Name::from_ascii(name) {
        Ok(q) => q,
        Err(e) => {
            return Lookup {
                status: DnsStatus::Error,
                addresses: Vec::new(),
                error: Some(format!("`{name}` is not a DNS name: {e}")),
                ms: ms(start),
            };
        }
    };
    match tokio::time::timeout(deadline, resolver.lookup_ip(query)).await {
        Err(_) => Lookup {
            status: DnsStatus::Timeout,
            addresses: Vec::new(),
            error: Some("the DNS server did not answer in time".into()),
            ms: ms(start),
        },
        Ok(Ok(l)) => {
            let mut addresses: Vec<IpAddr> = l.iter().collect();
            addresses.dedup();
            Lookup {
                status: DnsStatus::Ok,
                addresses,
                error: None,
                ms: ms(start),
            }
        }
        Ok(Err(e)) => {
            let (status, why) = classify(&e);
            Lookup {
                status,
                addresses: Vec::new(),
                error: Some(why),
                ms: ms(start),
            }
        }
    }
}

//! Which address to use: resolve the host while racing TCP connections to the candidates, RFC 8305 style.
//!
//! Candidates, in order: the host's DNS answers (IPv6 and IPv4 interleaved, IPv6 first), the last address
//! that worked, the alternate address, the fallbacks (names among them are resolved concurrently). Attempts
//! start [`Timing::stagger`] apart, or at once when the previous one failed; the first connection wins and
//! the others are cancelled. Non-DNS candidates wait for the host's DNS at most [`Timing::head_start`], so a
//! dead or unresolvable name costs about that much, never a full timeout, when a fallback answers.
//!
//! Those rules are the pure machine in [`rdpl_core::preflight::race`]; [`race`] here is its driver: it runs the lookups and
//! the TCP connects the machine asks for, with tokio, and feeds their ends back.

use std::io;
use std::net::SocketAddr;

use hickory_resolver::TokioResolver;
use rdpl_profiles::name::Host;
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::dns;
use rdpl_core::facts::{AddressFacts, DnsFacts, DnsStatus, Outcome, Source};
use rdpl_core::preflight::race::{Action, Attempt, Event, Lookup, Query, Race};

pub use rdpl_core::preflight::race::{Plan, Timing, interleave};

/// The winner of the race.
#[derive(Debug)]
pub struct Winner {
    /// The connected stream.
    pub stream: TcpStream,
    /// Its address.
    pub addr: SocketAddr,
    /// Where the address came from.
    pub source: Source,
    /// The name the address belongs to (the profile host for DNS answers, the fallback name, or the IP).
    pub name: Host,
}

/// Maps a connect error to an outcome.
pub fn outcome_of(e: &io::Error) -> Outcome {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => Outcome::Refused,
        io::ErrorKind::TimedOut => Outcome::Timeout,
        io::ErrorKind::HostUnreachable
        | io::ErrorKind::NetworkUnreachable
        | io::ErrorKind::PermissionDenied => Outcome::Unreachable,
        _ => match e.raw_os_error() {
            // EHOSTUNREACH / ENETUNREACH on Linux and macOS when the kind is not mapped.
            Some(113 | 101 | 65 | 51) => Outcome::Unreachable,
            _ => Outcome::Error,
        },
    }
}

type Attempts = JoinSet<(Attempt, io::Result<TcpStream>)>;
type Lookups = JoinSet<(Query, Lookup)>;

/// Runs the race. Returns the DNS report for the host, the address report, and the winner.
pub async fn race(
    plan: &Plan,
    resolver: Option<&TokioResolver>,
    timing: Timing,
) -> (DnsFacts, AddressFacts, Option<Winner>) {
    let start = Instant::now();
    let mut machine = Race::new(plan, resolver.is_some(), timing);
    let mut lookups = Lookups::new();
    let mut attempts = Attempts::new();
    let mut stream = None; // the first connection, the winner's
    loop {
        // Ends that are already there come before any new start, as in a biased select.
        while let Some(event) = match attempts.try_join_next() {
            Some(joined) => Some(attempt_ended(joined, &mut stream)),
            None => lookups.try_join_next().map(lookup_ended),
        } {
            machine.handle(start.elapsed(), event);
        }
        match machine.poll(start.elapsed()) {
            Action::Resolve { query, name } => match resolver {
                Some(r) => {
                    let (r, d) = (r.clone(), timing.dns);
                    lookups.spawn(async move { (query, dns::lookup(&r, &name, d).await) });
                }
                // Never asked: the machine knows there is no resolver. Answered anyway, so it cannot wait forever.
                None => {
                    let lookup = Lookup {
                        status: DnsStatus::Error,
                        addresses: Vec::new(),
                        error: Some("no DNS resolver".into()),
                        ms: 0,
                    };
                    machine.handle(start.elapsed(), Event::Resolved { query, lookup });
                }
            },
            Action::Connect { attempt, addr } => {
                let limit = timing.attempt;
                attempts.spawn(async move {
                    let r = match tokio::time::timeout(limit, TcpStream::connect(addr)).await {
                        Ok(r) => r,
                        Err(_) => Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("no answer within {} ms", limit.as_millis()),
                        )),
                    };
                    (attempt, r)
                });
            }
            Action::Wait { until } => {
                let event = tokio::select! {
                    biased;
                    Some(joined) = attempts.join_next(), if !attempts.is_empty() => {
                        Some(attempt_ended(joined, &mut stream))
                    }
                    Some(joined) = lookups.join_next(), if !lookups.is_empty() => Some(lookup_ended(joined)),
                    () = tokio::time::sleep_until(start + until.unwrap_or_default()), if until.is_some() => None,
                };
                if let Some(event) = event {
                    machine.handle(start.elapsed(), event);
                }
            }
            Action::Done { .. } => break,
        }
    }
    // Losers are cancelled.
    attempts.abort_all();
    lookups.abort_all();
    let (dns_report, report, chosen) = machine.finish(start.elapsed());
    let winner = chosen.zip(stream).map(|(c, stream)| Winner {
        stream,
        addr: c.addr,
        source: c.source,
        name: c.name,
    });
    (dns_report, report, winner)
}

/// The event for an attempt's end; keeps the first connection.
fn attempt_ended(
    joined: Result<(Attempt, io::Result<TcpStream>), tokio::task::JoinError>,
    first: &mut Option<TcpStream>,
) -> Event {
    let (attempt, result) = joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    match result {
        Ok(s) => {
            first.get_or_insert(s);
            Event::Connected { attempt }
        }
        Err(e) => Event::Failed {
            attempt,
            outcome: outcome_of(&e),
            error: e.to_string(),
        },
    }
}

fn lookup_ended(joined: Result<(Query, Lookup), tokio::task::JoinError>) -> Event {
    let (query, lookup) = joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    Event::Resolved { query, lookup }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::time::Duration;

    use rdpl_profiles::name::TargetAddr;

    use super::*;

    #[test]
    fn interleaves_families_ipv6_first() {
        let a: Vec<IpAddr> = ["10.0.0.1", "10.0.0.2", "::1", "::2", "10.0.0.3"]
            .iter()
            .map(|s| s.parse().expect("ip"))
            .collect();
        let got: Vec<String> = interleave(&a).iter().map(ToString::to_string).collect();
        assert_eq!(got, vec!["::1", "10.0.0.1", "::2", "10.0.0.2", "10.0.0.3"]);
    }

    #[tokio::test]
    async fn first_success_wins_and_a_refused_primary_moves_on_at_once() {
        let good = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let good_addr = good.local_addr().expect("addr");
        // A port nobody listens on: refused immediately.
        let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let dead_port = dead.local_addr().expect("addr").port();
        drop(dead);
        let plan = Plan {
            host: Host::Ip("127.0.0.1".parse().expect("ip")),
            port: dead_port,
            cache: None,
            alternate: None,
            fallbacks: vec![TargetAddr {
                host: Host::Ip("127.0.0.1".parse().expect("ip")),
                port: rdpl_profiles::name::Port::new(good_addr.port()),
            }],
        };
        let t0 = Instant::now();
        let (_, report, winner) = race(&plan, None, Timing::default()).await;
        let w = winner.expect("the fallback connects");
        assert_eq!(w.addr, good_addr);
        assert_eq!(w.source, Source::Fallback);
        assert_eq!(report.candidates[0].result, Outcome::Refused);
        assert!(
            t0.elapsed() < Duration::from_millis(200),
            "a refused primary must not wait for the stagger"
        );
    }
}

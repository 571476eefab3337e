//! Which address to use: resolve the host while racing TCP connections to the candidates, RFC 8305 style.
//!
//! Candidates, in order: the host's DNS answers (IPv6 and IPv4 interleaved, IPv6 first), the last address
//! that worked, the alternate address, the fallbacks (names among them are resolved concurrently). Attempts
//! start [`Timing::stagger`] apart, or at once when the previous one failed; the first connection wins and
//! the others are cancelled. Non-DNS candidates wait for the host's DNS at most [`Timing::head_start`], so a
//! dead or unresolvable name costs about that much, never a full timeout, when a fallback answers.

use std::collections::{HashSet, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use hickory_resolver::TokioResolver;
use rdpl_profiles::name::{Host, TargetAddr};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::dns;
use super::race::Lookup;
use super::report::{AddressReport, Candidate, DnsReport, DnsStatus, Outcome, Source};

pub use super::race::{Plan, Timing, interleave};

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

enum Event {
    Primary(Lookup),
    Extra(usize, Lookup),
}

struct Queued {
    addr: SocketAddr,
    at_ms: Option<u64>,
    source: Source,
    name: Host,
}

/// Adds candidates not seen before, at the front (in order) or at the back.
fn enqueue(queue: &mut VecDeque<Queued>, seen: &mut HashSet<SocketAddr>, items: Vec<Queued>, at_front: bool) {
    let fresh: Vec<Queued> = items.into_iter().filter(|q| seen.insert(q.addr)).collect();
    if at_front {
        for q in fresh.into_iter().rev() {
            queue.push_front(q);
        }
    } else {
        queue.extend(fresh);
    }
}

fn ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Runs the race. Returns the DNS report for the host, the address report, and the winner.
pub async fn race(
    plan: &Plan,
    resolver: Option<&TokioResolver>,
    timing: Timing,
) -> (DnsReport, AddressReport, Option<Winner>) {
    let start = Instant::now();
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let mut dns_report = DnsReport {
        name: plan.host.to_string(),
        status: DnsStatus::Skipped,
        addresses: Vec::new(),
        ms: None,
    };
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut primary_pending = false;
    let mut pending_extras = 0usize;
    let mut lookups = JoinSet::new();

    let mut front: VecDeque<Queued> = VecDeque::new(); // the host's own addresses
    let mut held: Vec<Queued> = Vec::new(); // everything else, released after the head start
    match &plan.host {
        Host::Ip(ip) => front.push_back(Queued {
            at_ms: None,
            addr: SocketAddr::new(*ip, plan.port),
            source: Source::Literal,
            name: plan.host.clone(),
        }),
        Host::Name(name) => match resolver {
            Some(r) => {
                primary_pending = true;
                let (r, name, tx, d) = (r.clone(), name.clone(), tx.clone(), timing.dns);
                lookups.spawn(async move {
                    let _ = tx.send(Event::Primary(dns::lookup(&r, &name, d).await));
                });
            }
            None => {
                dns_report.status = DnsStatus::Error;
            }
        },
    }
    if let Some(c) = plan.cache {
        held.push(Queued {
            at_ms: None,
            addr: c,
            source: Source::Cache,
            name: Host::Ip(c.ip()),
        });
    }
    let extras: Vec<(TargetAddr, Source)> = plan
        .alternate
        .iter()
        .map(|a| (a.clone(), Source::Alternate))
        .chain(plan.fallbacks.iter().map(|f| (f.clone(), Source::Fallback)))
        .collect();
    for (i, (t, source)) in extras.iter().enumerate() {
        let port = t.port.map_or(plan.port, |p| p.get());
        match (&t.host, resolver) {
            (Host::Ip(ip), _) => held.push(Queued {
                at_ms: None,
                addr: SocketAddr::new(*ip, port),
                source: *source,
                name: t.host.clone(),
            }),
            (Host::Name(name), Some(r)) => {
                pending_extras += 1;
                let (r, name, tx, d) = (r.clone(), name.clone(), tx.clone(), timing.dns);
                lookups.spawn(async move {
                    let _ = tx.send(Event::Extra(i, dns::lookup(&r, &name, d).await));
                });
            }
            (Host::Name(name), None) => candidates.push(Candidate {
                address: format!("{name}:{port}"),
                source: *source,
                result: Outcome::Error,
                ms: None,
                at_ms: None,
                error: Some("no DNS resolver".into()),
            }),
        }
    }
    drop(tx);

    let mut released = !primary_pending;
    let head_start_at = tokio::time::Instant::now() + timing.head_start;
    let mut queue: VecDeque<Queued> = VecDeque::new();
    let mut seen: HashSet<SocketAddr> = HashSet::new();
    enqueue(&mut queue, &mut seen, front.drain(..).collect(), true);
    if released {
        enqueue(&mut queue, &mut seen, std::mem::take(&mut held), false);
    }

    let mut attempts: JoinSet<(usize, io::Result<TcpStream>, u64)> = JoinSet::new();
    let mut tried: Vec<Queued> = Vec::new();
    let mut next_at = tokio::time::Instant::now();
    let mut winner = None;
    loop {
        let can_start = !queue.is_empty();
        if !can_start && attempts.is_empty() && !primary_pending && pending_extras == 0 && released {
            break;
        }
        tokio::select! {
            biased;
            Some(joined) = attempts.join_next(), if !attempts.is_empty() => {
                let Ok((idx, result, took)) = joined else { continue };
                let q = &tried[idx];
                match result {
                    Ok(stream) => {
                        candidates.push(Candidate { address: q.addr.to_string(), source: q.source, result: Outcome::Connected, ms: Some(took), at_ms: q.at_ms, error: None });
                        winner = Some(Winner { stream, addr: q.addr, source: q.source, name: q.name.clone() });
                        break;
                    }
                    Err(e) => {
                        let result = if e.kind() == io::ErrorKind::TimedOut { Outcome::Timeout } else { outcome_of(&e) };
                        candidates.push(Candidate { address: q.addr.to_string(), source: q.source, result, ms: Some(took), at_ms: q.at_ms, error: Some(e.to_string()) });
                        // A failure frees the slot: start the next candidate now (RFC 8305 section 5).
                        next_at = tokio::time::Instant::now();
                    }
                }
            }
            Some(ev) = rx.recv(), if primary_pending || pending_extras > 0 => match ev {
                Event::Primary(l) => {
                    primary_pending = false;
                    dns_report.status = l.status;
                    dns_report.addresses = l.addresses.iter().map(ToString::to_string).collect();
                    dns_report.ms = Some(l.ms);
                    let items = interleave(&l.addresses).into_iter()
                        .map(|ip| Queued { at_ms: None, addr: SocketAddr::new(ip, plan.port), source: Source::Dns, name: plan.host.clone() })
                        .collect();
                    enqueue(&mut queue, &mut seen, items, true);
                    if !released {
                        released = true;
                        enqueue(&mut queue, &mut seen, std::mem::take(&mut held), false);
                    }
                    if attempts.is_empty() { next_at = tokio::time::Instant::now(); }
                }
                Event::Extra(i, l) => {
                    pending_extras -= 1;
                    let (t, source) = &extras[i];
                    let port = t.port.map_or(plan.port, |p| p.get());
                    if l.addresses.is_empty() {
                        let result = if l.status == DnsStatus::Nxdomain { Outcome::Nxdomain } else { Outcome::Error };
                        candidates.push(Candidate { address: format!("{}:{port}", t.host), source: *source, result, ms: Some(l.ms), at_ms: None, error: l.error });
                    } else {
                        let items: Vec<Queued> = interleave(&l.addresses).into_iter()
                            .map(|ip| Queued { at_ms: None, addr: SocketAddr::new(ip, port), source: *source, name: t.host.clone() })
                            .collect();
                        if released { enqueue(&mut queue, &mut seen, items, false); } else { held.extend(items); }
                        if attempts.is_empty() { next_at = tokio::time::Instant::now(); }
                    }
                }
            },
            _ = tokio::time::sleep_until(head_start_at), if !released => {
                released = true;
                enqueue(&mut queue, &mut seen, std::mem::take(&mut held), false);
                if attempts.is_empty() { next_at = tokio::time::Instant::now(); }
            }
            _ = tokio::time::sleep_until(next_at), if can_start => {
                if let Some(mut q) = queue.pop_front() {
                    q.at_ms = Some(ms(start));
                    let idx = tried.len();
                    let (addr, limit) = (q.addr, timing.attempt);
                    tried.push(q);
                    attempts.spawn(async move {
                        let t0 = Instant::now();
                        let r = match tokio::time::timeout(limit, TcpStream::connect(addr)).await {
                            Ok(r) => r,
                            Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, format!("no answer within {} ms", limit.as_millis()))),
                        };
                        (idx, r, ms(t0))
                    });
                    next_at = tokio::time::Instant::now() + timing.stagger;
                }
            }
        }
    }
    // Losers are cancelled; what was never tried or did not finish is recorded as skipped.
    attempts.abort_all();
    lookups.abort_all();
    let finished: HashSet<String> = candidates.iter().map(|c| c.address.clone()).collect();
    let elapsed = ms(start);
    for (q, tried) in tried
        .iter()
        .map(|q| (q, true))
        .chain(queue.iter().chain(held.iter()).map(|q| (q, false)))
    {
        if !finished.contains(&q.addr.to_string()) {
            candidates.push(Candidate {
                address: q.addr.to_string(),
                source: q.source,
                result: if tried {
                    Outcome::Cancelled
                } else {
                    Outcome::Skipped
                },
                ms: q.at_ms.map(|at| elapsed.saturating_sub(at)),
                at_ms: q.at_ms,
                error: None,
            });
        }
    }
    if primary_pending {
        dns_report.status = DnsStatus::Timeout;
        dns_report.ms = Some(ms(start));
    }
    let report = AddressReport {
        chosen: winner.as_ref().map(|w| w.addr.to_string()),
        via: winner.as_ref().map(|w| w.source),
        candidates,
    };
    (dns_report, report, winner)
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::time::Duration;

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

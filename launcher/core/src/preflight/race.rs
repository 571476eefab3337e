//! The address race as a pure state machine (RFC 8305, "Happy Eyeballs v2"): no clock, no sockets, no
//! resolver. The launcher's `probe::address::race` is its driver.
//!
//! The driver creates a [`Race`], then loops: [`Race::poll`] with the time since the start says what to do
//! next ([`Action`]: resolve a name, open a connection, wait for an event or an instant, or stop), and
//! [`Race::handle`] takes what happened ([`Event`]: a lookup ended, an attempt connected or failed). A timer
//! that fires is just a `poll` with a later time. [`Race::finish`] gives the reports.
//!
//! The rules live here: candidates in order (the host's DNS answers with IPv6 and IPv4 interleaved, the last
//! address that worked, the alternate, the fallbacks), each address tried once, attempts [`Timing::stagger`]
//! apart or at once after a failure, non-DNS candidates held back until the host's DNS answered or
//! [`Timing::head_start`] passed, the first connection wins, and every candidate gets a line in the report.

use std::collections::{HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use rdpl_profiles::name::{Host, TargetAddr};

use crate::facts::{AddressFacts, Candidate, CandidateAddr, DnsFacts, DnsStatus, Outcome, Source};

/// Timing of the race.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Delay between the starts of two attempts (RFC 8305's Connection Attempt Delay).
    pub stagger: Duration,
    /// How long non-DNS candidates wait for the host's DNS answer.
    pub head_start: Duration,
    /// How long one TCP attempt may take (the driver's limit).
    pub attempt: Duration,
    /// How long a DNS lookup may take (the driver's limit).
    pub dns: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            stagger: Duration::from_millis(250),
            head_start: Duration::from_millis(250),
            attempt: Duration::from_secs(3),
            dns: Duration::from_secs(3),
        }
    }
}

/// What the race needs to know.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The profile's host.
    pub host: Host,
    /// The RDP port.
    pub port: u16,
    /// The last address that worked.
    pub cache: Option<SocketAddr>,
    /// The alternate address.
    pub alternate: Option<TargetAddr>,
    /// The fallbacks, in order.
    pub fallbacks: Vec<TargetAddr>,
}

/// The outcome of one lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// The status for the report.
    pub status: DnsStatus,
    /// The addresses, when it worked.
    pub addresses: Vec<IpAddr>,
    /// A description of the error, when it did not.
    pub error: Option<String>,
    /// How long it took.
    pub ms: u64,
}

/// Whether a resolved address can be a server: not the unspecified address (0.0.0.0 or ::, which
/// connects to this machine), not the IPv4 broadcast address and not multicast. A DNS answer with such an
/// address is `dns.unusable_address`, never a connection.
pub fn connectable(ip: IpAddr) -> bool {
    !ip.is_unspecified() && !ip.is_multicast() && !matches!(ip, IpAddr::V4(v4) if v4.is_broadcast())
}

/// Orders IPv6 and IPv4 answers interleaved, IPv6 first (RFC 8305 section 4).
pub fn interleave(addrs: &[IpAddr]) -> Vec<IpAddr> {
    let (v6, v4): (Vec<IpAddr>, Vec<IpAddr>) = addrs.iter().partition(|a| a.is_ipv6());
    let mut out = Vec::with_capacity(addrs.len());
    let (mut a, mut b) = (v6.into_iter(), v4.into_iter());
    loop {
        match (a.next(), b.next()) {
            (None, None) => break,
            (x, y) => out.extend(x.into_iter().chain(y)),
        }
    }
    out
}

/// Which name a lookup is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    /// The profile's host.
    Host,
    /// The alternate (when there is one) and the fallbacks, numbered in that order.
    Extra(usize),
}

/// One TCP attempt, numbered in the order the attempts start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Attempt(usize);

/// What the driver tells the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A lookup asked for by [`Action::Resolve`] ended (no addresses when it failed).
    Resolved {
        /// The lookup.
        query: Query,
        /// Its outcome.
        lookup: Lookup,
    },
    /// An attempt connected.
    Connected {
        /// The attempt.
        attempt: Attempt,
    },
    /// An attempt failed.
    Failed {
        /// The attempt.
        attempt: Attempt,
        /// How (not [`Outcome::Connected`]).
        outcome: Outcome,
        /// The OS error, for the report.
        error: String,
    },
}

/// What the machine asks the driver to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Resolve `name`, then report with [`Event::Resolved`].
    Resolve {
        /// The lookup.
        query: Query,
        /// The name.
        name: String,
    },
    /// Open a TCP connection to `addr`, then report with [`Event::Connected`] or [`Event::Failed`].
    Connect {
        /// The attempt.
        attempt: Attempt,
        /// The address.
        addr: SocketAddr,
    },
    /// Nothing to do before the next event, or before `until` (time since the start) when given.
    Wait {
        /// When to poll again without an event.
        until: Option<Duration>,
    },
    /// The race is over: the winning attempt, if any. Cancel what is still running, then [`Race::finish`].
    Done {
        /// The attempt that connected first.
        winner: Option<Attempt>,
    },
}

/// The winner without its connection: where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    /// The address.
    pub addr: SocketAddr,
    /// Where the address came from.
    pub source: Source,
    /// The name the address belongs to (the profile host for DNS answers, the fallback name, or the IP).
    pub name: Host,
}

#[derive(Debug, Clone)]
struct Queued {
    addr: SocketAddr,
    source: Source,
    name: Host,
    /// When its attempt started.
    at: Option<Duration>,
}

/// The race: candidates, what is pending, and the report so far.
#[derive(Debug)]
pub struct Race {
    host: Host,
    port: u16,
    /// The alternate and the fallbacks, as [`Query::Extra`] numbers them.
    extras: Vec<(TargetAddr, Source)>,
    timing: Timing,
    /// Lookups not yet handed to the driver.
    to_resolve: VecDeque<(Query, String)>,
    host_pending: bool,
    extras_pending: usize,
    dns: DnsFacts,
    /// Finished candidates, in the order they finished.
    candidates: Vec<Candidate>,
    /// Non-DNS candidates until the host's DNS answered or the head start passed.
    held: Vec<Queued>,
    released: bool,
    queue: VecDeque<Queued>,
    /// Every address ever queued: each is tried once.
    seen: HashSet<SocketAddr>,
    /// Started attempts, indexed by [`Attempt`].
    tried: Vec<Queued>,
    in_flight: usize,
    /// The earliest start of the next attempt.
    next_at: Duration,
    winner: Option<Attempt>,
}

impl Race {
    /// A race for `plan`; `can_resolve` is false when there is no resolver (names then fail at once).
    pub fn new(plan: &Plan, can_resolve: bool, timing: Timing) -> Race {
        let mut dns = DnsFacts {
            name: plan.host.to_string(),
            status: DnsStatus::Skipped,
            addresses: Vec::new(),
            unusable: Vec::new(),
            error: None,
            took: None,
        };
        let mut to_resolve = VecDeque::new();
        let mut front = Vec::new(); // the host's own address
        let mut held = Vec::new(); // everything else, released after the head start
        let mut candidates = Vec::new();
        match &plan.host {
            Host::Ip(ip) => front.push(queued(
                SocketAddr::new(*ip, plan.port),
                Source::Literal,
                &plan.host,
            )),
            Host::Name(name) if can_resolve => to_resolve.push_back((Query::Host, name.clone())),
            Host::Name(_) => dns.status = DnsStatus::Error,
        }
        let host_pending = !to_resolve.is_empty();
        if let Some(c) = plan.cache {
            held.push(queued(c, Source::Cache, &Host::Ip(c.ip())));
        }
        let extras: Vec<(TargetAddr, Source)> = plan
            .alternate
            .iter()
            .map(|a| (a.clone(), Source::Alternate))
            .chain(plan.fallbacks.iter().map(|f| (f.clone(), Source::Fallback)))
            .collect();
        for (i, (t, source)) in extras.iter().enumerate() {
            let port = t.port.map_or(plan.port, |p| p.get());
            match &t.host {
                Host::Ip(ip) => held.push(queued(SocketAddr::new(*ip, port), *source, &t.host)),
                Host::Name(name) if can_resolve => to_resolve.push_back((Query::Extra(i), name.clone())),
                Host::Name(name) => candidates.push(Candidate {
                    address: CandidateAddr::Name(name.clone(), port),
                    source: *source,
                    result: Outcome::Error,
                    took: None,
                    started: None,
                    error: Some("no DNS resolver".into()),
                }),
            }
        }
        let mut race = Race {
            host: plan.host.clone(),
            port: plan.port,
            extras,
            timing,
            extras_pending: to_resolve.len() - usize::from(host_pending),
            to_resolve,
            host_pending,
            dns,
            candidates,
            held,
            released: false,
            queue: VecDeque::new(),
            seen: HashSet::new(),
            tried: Vec::new(),
            in_flight: 0,
            next_at: Duration::ZERO,
            winner: None,
        };
        race.enqueue(front, true);
        if !host_pending {
            race.release();
        }
        race
    }

    /// Adds candidates not seen before, at the front (in order) or at the back.
    fn enqueue(&mut self, items: Vec<Queued>, at_front: bool) {
        let fresh: Vec<Queued> = items.into_iter().filter(|q| self.seen.insert(q.addr)).collect();
        if at_front {
            for q in fresh.into_iter().rev() {
                self.queue.push_front(q);
            }
        } else {
            self.queue.extend(fresh);
        }
    }

    /// Lets the held candidates in.
    fn release(&mut self) {
        self.released = true;
        let held = std::mem::take(&mut self.held);
        self.enqueue(held, false);
    }

    /// New candidates may start at once when no attempt is running.
    fn wake(&mut self, now: Duration) {
        if self.in_flight == 0 {
            self.next_at = now;
        }
    }

    /// Takes what happened at `now` (time since the start). Events after the winner are ignored.
    pub fn handle(&mut self, now: Duration, event: Event) {
        if self.winner.is_some() {
            return;
        }
        match event {
            Event::Connected { attempt } => {
                if self.record(now, attempt, Outcome::Connected, None) {
                    self.winner = Some(attempt);
                }
            }
            Event::Failed {
                attempt,
                outcome,
                error,
            } => {
                self.record(now, attempt, outcome, Some(error));
                // A failure frees the slot: start the next candidate now (RFC 8305 section 5).
                self.next_at = now;
            }
            Event::Resolved {
                query: Query::Host,
                lookup,
            } => {
                self.host_pending = false;
                self.dns.status = lookup.status;
                self.dns.addresses = lookup.addresses.clone();
                self.dns.error = lookup.error.clone();
                self.dns.took = Some(Duration::from_millis(lookup.ms));
                let (usable, unusable): (Vec<IpAddr>, Vec<IpAddr>) =
                    lookup.addresses.iter().partition(|ip| connectable(**ip));
                self.dns.unusable = unusable;
                let items = interleave(&usable)
                    .into_iter()
                    .map(|ip| queued(SocketAddr::new(ip, self.port), Source::Dns, &self.host))
                    .collect();
                self.enqueue(items, true);
                if !self.released {
                    self.release();
                }
                self.wake(now);
            }
            Event::Resolved {
                query: Query::Extra(i),
                lookup,
            } => {
                self.extras_pending -= 1;
                let Some((t, source)) = self.extras.get(i).cloned() else {
                    return;
                };
                let port = t.port.map_or(self.port, |p| p.get());
                let usable: Vec<IpAddr> = lookup
                    .addresses
                    .iter()
                    .copied()
                    .filter(|ip| connectable(*ip))
                    .collect();
                if usable.is_empty() {
                    let error = if lookup.addresses.is_empty() {
                        lookup.error
                    } else {
                        Some(format!(
                            "it resolves only to addresses nothing can connect to ({})",
                            lookup
                                .addresses
                                .iter()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    };
                    self.candidates.push(Candidate {
                        address: CandidateAddr::Name(t.host.to_string(), port),
                        source,
                        result: if lookup.status == DnsStatus::Nxdomain {
                            Outcome::Nxdomain
                        } else {
                            Outcome::Error
                        },
                        took: Some(Duration::from_millis(lookup.ms)),
                        started: None,
                        error,
                    });
                } else {
                    let items: Vec<Queued> = interleave(&usable)
                        .into_iter()
                        .map(|ip| queued(SocketAddr::new(ip, port), source, &t.host))
                        .collect();
                    if self.released {
                        self.enqueue(items, false);
                    } else {
                        self.held.extend(items);
                    }
                    self.wake(now);
                }
            }
        }
    }

    /// Records the end of a running attempt; false when there is no such attempt.
    fn record(&mut self, now: Duration, attempt: Attempt, result: Outcome, error: Option<String>) -> bool {
        let Some(q) = self.tried.get(attempt.0) else {
            return false;
        };
        self.in_flight = self.in_flight.saturating_sub(1);
        self.candidates.push(Candidate {
            address: CandidateAddr::Ip(q.addr),
            source: q.source,
            result,
            took: q.at.map(|at| now.saturating_sub(at)),
            started: q.at,
            error,
        });
        true
    }

    /// What to do at `now` (time since the start). Call again after every action but `Wait` and `Done`.
    pub fn poll(&mut self, now: Duration) -> Action {
        if let Some(winner) = self.winner {
            return Action::Done { winner: Some(winner) };
        }
        if let Some((query, name)) = self.to_resolve.pop_front() {
            return Action::Resolve { query, name };
        }
        if !self.released && now >= self.timing.head_start {
            self.release();
            self.wake(now);
        }
        let waiting_for_dns = self.host_pending || self.extras_pending > 0;
        if self.released && self.queue.is_empty() && self.in_flight == 0 && !waiting_for_dns {
            return Action::Done { winner: None };
        }
        if now >= self.next_at
            && let Some(mut q) = self.queue.pop_front()
        {
            q.at = Some(now);
            let attempt = Attempt(self.tried.len());
            let addr = q.addr;
            self.tried.push(q);
            self.in_flight += 1;
            self.next_at = now + self.timing.stagger;
            return Action::Connect { attempt, addr };
        }
        let head_start = (!self.released).then_some(self.timing.head_start);
        let next = (!self.queue.is_empty()).then_some(self.next_at);
        Action::Wait {
            until: head_start.into_iter().chain(next).min(),
        }
    }

    /// The reports at `now`: attempts still running are cancelled, candidates never tried are skipped, and a
    /// host lookup still pending timed out. The winner, when there is one.
    pub fn finish(self, now: Duration) -> (DnsFacts, AddressFacts, Option<Chosen>) {
        let mut dns = self.dns;
        let mut candidates = self.candidates;
        let finished: HashSet<String> = candidates.iter().map(|c| c.address.to_string()).collect();
        for (q, tried) in self
            .tried
            .iter()
            .map(|q| (q, true))
            .chain(self.queue.iter().chain(self.held.iter()).map(|q| (q, false)))
        {
            if !finished.contains(&q.addr.to_string()) {
                candidates.push(Candidate {
                    address: CandidateAddr::Ip(q.addr),
                    source: q.source,
                    result: if tried {
                        Outcome::Cancelled
                    } else {
                        Outcome::Skipped
                    },
                    took: q
                        .at
                        .map(|at| Duration::from_millis(ms(now).saturating_sub(ms(at)))),
                    started: q.at,
                    error: None,
                });
            }
        }
        if self.host_pending {
            dns.status = DnsStatus::Timeout;
            dns.took = Some(now);
        }
        let chosen = self.winner.and_then(|w| self.tried.get(w.0)).map(|q| Chosen {
            addr: q.addr,
            source: q.source,
            name: q.name.clone(),
        });
        let report = AddressFacts {
            chosen: chosen.as_ref().map(|c| c.addr),
            via: chosen.as_ref().map(|c| c.source),
            candidates,
        };
        (dns, report, chosen)
    }
}

fn queued(addr: SocketAddr, source: Source, name: &Host) -> Queued {
    Queued {
        addr,
        source,
        name: name.clone(),
        at: None,
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;
    use Outcome::{Connected, Refused, Unreachable};

    /// How a name answers in a scripted world.
    #[derive(Debug, Clone, Copy)]
    enum Dns {
        /// These addresses, after this many ms.
        Answer(u64, &'static [&'static str]),
        /// This failure, after this many ms.
        Fail(u64, DnsStatus),
    }

    /// A scripted network: how names resolve, and how addresses answer (after ms, with an outcome). Any other
    /// address stays silent until the driver's 3 s attempt limit; any other name is not expected.
    #[derive(Debug)]
    struct World {
        dns: &'static [(&'static str, Dns)],
        tcp: &'static [(&'static str, u64, Outcome)],
    }

    impl World {
        fn lookup(&self, name: &str) -> (u64, Lookup) {
            let (_, dns) = self
                .dns
                .iter()
                .find(|(n, _)| *n == name)
                .expect("a name the world knows");
            match *dns {
                Dns::Answer(after, addrs) => (
                    after,
                    Lookup {
                        status: DnsStatus::Ok,
                        addresses: addrs.iter().map(|a| a.parse().expect("ip")).collect(),
                        error: None,
                        ms: after,
                    },
                ),
                Dns::Fail(after, status) => (
                    after,
                    Lookup {
                        status,
                        addresses: Vec::new(),
                        error: Some(format!("{status:?}")),
                        ms: after,
                    },
                ),
            }
        }

        fn connect(&self, addr: SocketAddr) -> (u64, Outcome) {
            self.tcp
                .iter()
                .find(|(a, _, _)| a.parse::<SocketAddr>().expect("addr") == addr)
                .map_or((3000, Outcome::Timeout), |&(_, after, outcome)| (after, outcome))
        }
    }

    fn at(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    fn plan(host: &str, cache: Option<&str>, alternate: Option<&str>, fallbacks: &[&str]) -> Plan {
        Plan {
            host: host.parse().expect("host"),
            port: 3389,
            cache: cache.map(|c| c.parse().expect("cache")),
            alternate: alternate.map(|a| a.parse().expect("alternate")),
            fallbacks: fallbacks.iter().map(|f| f.parse().expect("fallback")).collect(),
        }
    }

    #[derive(Debug)]
    struct Trace {
        /// `"{at} {addr}"` for every attempt, in the order they started.
        starts: Vec<String>,
        /// `"{address} {source} {result} @{at_ms} +{ms}"` for every candidate of the report.
        candidates: Vec<String>,
        /// `"{status} {ms}"`.
        dns: String,
        /// `"{addr} {source} {name}"`, or `-`.
        chosen: String,
    }

    fn opt(v: Option<u64>) -> String {
        v.map_or("-".into(), |v| v.to_string())
    }

    fn low(v: impl std::fmt::Debug) -> String {
        format!("{v:?}").to_lowercase()
    }

    /// Runs the machine in simulated time against `world`, the way the driver does: ends that are due are
    /// handled (attempts before lookups, then in the order they were scheduled) before every poll.
    fn run(plan: &Plan, can_resolve: bool, world: &World) -> Trace {
        let mut race = Race::new(plan, can_resolve, Timing::default());
        let mut pending: Vec<(u64, u8, Event)> = Vec::new(); // (due, 0 = attempt / 1 = lookup, event)
        let mut now = 0;
        let mut starts = Vec::new();
        for _ in 0..1000 {
            while let Some(i) = (0..pending.len())
                .filter(|&i| pending[i].0 <= now)
                .min_by_key(|&i| (pending[i].0, pending[i].1, i))
            {
                let (_, _, event) = pending.remove(i);
                race.handle(at(now), event);
            }
            match race.poll(at(now)) {
                Action::Resolve { query, name } => {
                    let (after, lookup) = world.lookup(&name);
                    pending.push((now + after, 1, Event::Resolved { query, lookup }));
                }
                Action::Connect { attempt, addr } => {
                    starts.push(format!("{now} {addr}"));
                    let (after, outcome) = world.connect(addr);
                    let event = match outcome {
                        Outcome::Connected => Event::Connected { attempt },
                        outcome => Event::Failed {
                            attempt,
                            outcome,
                            error: low(outcome),
                        },
                    };
                    pending.push((now + after, 0, event));
                }
                Action::Wait { until } => {
                    let until = until.map(ms);
                    assert!(until.is_none_or(|u| u > now), "a timer at {until:?}, now {now}");
                    let due = pending.iter().map(|p| p.0).min();
                    now = match (due, until) {
                        (Some(d), Some(u)) => d.min(u),
                        (Some(t), None) | (None, Some(t)) => t,
                        (None, None) => panic!("the machine waits for nothing at {now}"),
                    };
                }
                Action::Done { winner } => {
                    let (dns, report, chosen) = race.finish(at(now));
                    assert_eq!(winner.is_some(), chosen.is_some());
                    assert_eq!(report.chosen, chosen.as_ref().map(|c| c.addr));
                    assert_eq!(report.via, chosen.as_ref().map(|c| c.source));
                    return Trace {
                        starts,
                        candidates: report
                            .candidates
                            .iter()
                            .map(|c| {
                                let (source, result) = (low(c.source), low(c.result));
                                format!(
                                    "{} {source} {result} @{} +{}",
                                    c.address,
                                    opt(c.started.map(ms)),
                                    opt(c.took.map(ms))
                                )
                            })
                            .collect(),
                        dns: format!("{} {}", low(dns.status), opt(dns.took.map(ms))),
                        chosen: chosen
                            .map_or("-".into(), |c| format!("{} {} {}", c.addr, low(c.source), c.name)),
                    };
                }
            }
        }
        panic!("the race did not end");
    }

    #[rstest]
    #[case::ipv6_and_ipv4_interleaved_250_ms_apart(
        plan("rdp.test", None, None, &[]),
        true,
        World {
            dns: &[("rdp.test", Dns::Answer(10, &["10.0.0.1", "10.0.0.2", "2001:db8::1", "2001:db8::2"]))],
            tcp: &[("10.0.0.2:3389", 5, Connected)],
        },
        &["10 [2001:db8::1]:3389", "260 10.0.0.1:3389", "510 [2001:db8::2]:3389", "760 10.0.0.2:3389"],
        &[
            "10.0.0.2:3389 dns connected @760 +5",
            "[2001:db8::1]:3389 dns cancelled @10 +755",
            "10.0.0.1:3389 dns cancelled @260 +505",
            "[2001:db8::2]:3389 dns cancelled @510 +255",
        ],
        "ok 10",
        "10.0.0.2:3389 dns rdp.test",
    )]
    #[case::a_failure_starts_the_next_attempt_at_once(
        plan("10.0.0.1", None, None, &["10.0.0.2", "10.0.0.3"]),
        false,
        World {
            dns: &[],
            tcp: &[("10.0.0.1:3389", 20, Refused), ("10.0.0.2:3389", 5, Unreachable), ("10.0.0.3:3389", 1, Connected)],
        },
        &["0 10.0.0.1:3389", "20 10.0.0.2:3389", "25 10.0.0.3:3389"],
        &[
            "10.0.0.1:3389 literal refused @0 +20",
            "10.0.0.2:3389 fallback unreachable @20 +5",
            "10.0.0.3:3389 fallback connected @25 +1",
        ],
        "skipped -",
        "10.0.0.3:3389 fallback 10.0.0.3",
    )]
    #[case::non_dns_candidates_wait_250_ms_for_a_slow_dns(
        plan("rdp.test", Some("10.0.0.9:3389"), None, &[]),
        true,
        World {
            dns: &[("rdp.test", Dns::Answer(1000, &["10.0.0.1"]))],
            tcp: &[("10.0.0.9:3389", 2, Connected)],
        },
        &["250 10.0.0.9:3389"],
        &["10.0.0.9:3389 cache connected @250 +2"],
        "timeout 252",
        "10.0.0.9:3389 cache 10.0.0.9",
    )]
    #[case::a_dns_answer_within_the_head_start_goes_first(
        plan("rdp.test", None, None, &["10.0.0.2"]),
        true,
        World {
            dns: &[("rdp.test", Dns::Answer(100, &["10.0.0.1"]))],
            tcp: &[("10.0.0.2:3389", 1, Connected)],
        },
        &["100 10.0.0.1:3389", "350 10.0.0.2:3389"],
        &["10.0.0.2:3389 fallback connected @350 +1", "10.0.0.1:3389 dns cancelled @100 +251"],
        "ok 100",
        "10.0.0.2:3389 fallback 10.0.0.2",
    )]
    #[case::a_dns_failure_leaves_only_the_fallbacks_at_once(
        plan("rdp.test", None, Some("10.0.0.5"), &["10.0.0.6:4000"]),
        true,
        World {
            dns: &[("rdp.test", Dns::Fail(30, DnsStatus::Nxdomain))],
            tcp: &[("10.0.0.5:3389", 1, Refused), ("10.0.0.6:4000", 1, Connected)],
        },
        &["30 10.0.0.5:3389", "31 10.0.0.6:4000"],
        &["10.0.0.5:3389 alternate refused @30 +1", "10.0.0.6:4000 fallback connected @31 +1"],
        "nxdomain 30",
        "10.0.0.6:4000 fallback 10.0.0.6",
    )]
    #[case::first_success_wins_the_others_are_cancelled_or_skipped(
        plan("10.0.0.1", None, None, &["10.0.0.2", "10.0.0.3"]),
        false,
        World { dns: &[], tcp: &[("10.0.0.2:3389", 10, Connected), ("10.0.0.3:3389", 1, Connected)] },
        &["0 10.0.0.1:3389", "250 10.0.0.2:3389"],
        &[
            "10.0.0.2:3389 fallback connected @250 +10",
            "10.0.0.1:3389 literal cancelled @0 +260",
            "10.0.0.3:3389 fallback skipped @- +-",
        ],
        "skipped -",
        "10.0.0.2:3389 fallback 10.0.0.2",
    )]
    #[case::the_same_address_from_dns_cache_and_fallback_is_tried_once(
        plan("rdp.test", Some("10.0.0.2:3389"), None, &["10.0.0.1", "10.0.0.1:4000"]),
        true,
        World {
            dns: &[("rdp.test", Dns::Answer(10, &["10.0.0.1", "10.0.0.2"]))],
            tcp: &[("10.0.0.1:3389", 1, Refused), ("10.0.0.2:3389", 1, Refused), ("10.0.0.1:4000", 1, Refused)],
        },
        &["10 10.0.0.1:3389", "11 10.0.0.2:3389", "12 10.0.0.1:4000"],
        &[
            "10.0.0.1:3389 dns refused @10 +1",
            "10.0.0.2:3389 dns refused @11 +1",
            "10.0.0.1:4000 fallback refused @12 +1",
        ],
        "ok 10",
        "-",
    )]
    #[case::fallback_names_are_resolved_and_reported_when_they_do_not(
        plan("10.0.0.1", None, None, &["gone.test", "alt.test"]),
        true,
        World {
            dns: &[
                ("gone.test", Dns::Fail(5, DnsStatus::Nxdomain)),
                ("alt.test", Dns::Answer(20, &["10.0.0.7", "2001:db8::7"])),
            ],
            tcp: &[("10.0.0.1:3389", 1, Refused), ("[2001:db8::7]:3389", 1, Connected)],
        },
        &["0 10.0.0.1:3389", "20 [2001:db8::7]:3389"],
        &[
            "10.0.0.1:3389 literal refused @0 +1",
            "gone.test:3389 fallback nxdomain @- +5",
            "[2001:db8::7]:3389 fallback connected @20 +1",
            "10.0.0.7:3389 fallback skipped @- +-",
        ],
        "skipped -",
        "[2001:db8::7]:3389 fallback alt.test",
    )]
    #[case::without_a_resolver_names_fail_at_once(
        plan("rdp.test", None, None, &["alt.test", "10.0.0.2"]),
        false,
        World { dns: &[], tcp: &[("10.0.0.2:3389", 1, Refused)] },
        &["0 10.0.0.2:3389"],
        &["alt.test:3389 fallback error @- +-", "10.0.0.2:3389 fallback refused @0 +1"],
        "error -",
        "-",
    )]
    #[case::a_silent_host_times_out_and_nothing_wins(
        plan("10.0.0.1", None, None, &[]),
        false,
        World { dns: &[], tcp: &[] },
        &["0 10.0.0.1:3389"],
        &["10.0.0.1:3389 literal timeout @0 +3000"],
        "skipped -",
        "-",
    )]
    fn race_table(
        #[case] plan: Plan,
        #[case] can_resolve: bool,
        #[case] world: World,
        #[case] starts: &[&str],
        #[case] candidates: &[&str],
        #[case] dns: &str,
        #[case] chosen: &str,
    ) {
        let t = run(&plan, can_resolve, &world);
        assert_eq!(t.starts, starts, "starts");
        assert_eq!(t.candidates, candidates, "candidates");
        assert_eq!(t.dns, dns, "dns");
        assert_eq!(t.chosen, chosen, "chosen");
    }

    #[test]
    fn actions_step_by_step() {
        let mut race = Race::new(
            &plan("rdp.test", None, None, &["10.0.0.2"]),
            true,
            Timing::default(),
        );
        let resolve = Action::Resolve {
            query: Query::Host,
            name: "rdp.test".into(),
        };
        assert_eq!(race.poll(at(0)), resolve);
        // Nothing to try before DNS answers or the head start ends.
        assert_eq!(race.poll(at(0)), Action::Wait { until: Some(at(250)) });
        assert_eq!(race.poll(at(100)), Action::Wait { until: Some(at(250)) });
        let fallback: SocketAddr = "10.0.0.2:3389".parse().expect("addr");
        let first = Action::Connect {
            attempt: Attempt(0),
            addr: fallback,
        };
        assert_eq!(race.poll(at(250)), first);
        // Nothing else queued: wait for an end.
        assert_eq!(race.poll(at(250)), Action::Wait { until: None });
        // DNS answers while the attempt runs: its address waits for the stagger.
        let lookup = Lookup {
            status: DnsStatus::Ok,
            addresses: vec!["10.0.0.1".parse().expect("ip")],
            error: None,
            ms: 300,
        };
        race.handle(
            at(300),
            Event::Resolved {
                query: Query::Host,
                lookup,
            },
        );
        assert_eq!(race.poll(at(300)), Action::Wait { until: Some(at(500)) });
        let second = Action::Connect {
            attempt: Attempt(1),
            addr: "10.0.0.1:3389".parse().expect("addr"),
        };
        assert_eq!(race.poll(at(500)), second);
        race.handle(
            at(600),
            Event::Failed {
                attempt: Attempt(1),
                outcome: Outcome::Refused,
                error: "refused".into(),
            },
        );
        race.handle(at(700), Event::Connected { attempt: Attempt(0) });
        // The winner is final: later ends change nothing.
        race.handle(at(701), Event::Connected { attempt: Attempt(1) });
        assert_eq!(
            race.poll(at(701)),
            Action::Done {
                winner: Some(Attempt(0))
            }
        );
        let (dns, report, chosen) = race.finish(at(701));
        assert_eq!(dns.status, DnsStatus::Ok);
        assert_eq!(dns.addresses, ["10.0.0.1".parse::<IpAddr>().expect("ip")]);
        assert_eq!(report.chosen, Some("10.0.0.2:3389".parse().expect("addr")));
        assert_eq!(report.via, Some(Source::Fallback));
        assert_eq!(chosen.map(|c| c.addr), Some(fallback));
        let results: Vec<Outcome> = report.candidates.iter().map(|c| c.result).collect();
        assert_eq!(results, [Outcome::Refused, Outcome::Connected]);
    }
}

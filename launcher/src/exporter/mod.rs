//! `rdpl exporter`: the pre-flight as Prometheus probes, in the blackbox_exporter pattern. An HTTP/1 server
//! (hyper on the command's tokio runtime) with three endpoints:
//!
//! - `GET /probe?target=NAME[&module=default|direct]`: the same pre-flight as `rdpl check NAME`
//!   (`pipeline::check_in_runtime`), as metrics ([`probe`]). Targets are profile names; anything else is
//!   refused with 400 before any socket is opened, unless `--allow-adhoc`. No module logs on: no password ever
//!   goes through the exporter.
//! - `GET /sd`: Prometheus HTTP service discovery, one target group per profile ([`sd`]).
//! - `GET /metrics`: the exporter's own counters ([`stats`]).
//!
//! Bounded everywhere: at most `--max-concurrent` pre-flights run at once (a request waits for a slot within
//! its scrape timeout, then gets 503), at most [`MAX_CONNECTIONS`] connections are served (more are answered
//! 503 and closed at once), a connection that sends no complete request head within [`HEADER_TIMEOUT`] is
//! closed, request heads are limited in size and request bodies refused.

mod exposition;
mod probe;
mod sd;
mod stats;

use std::convert::Infallible;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, TRANSFER_ENCODING};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use rdpl_core::finding::Verdict;
use rdpl_profiles::name::{ProfileName, TargetAddr};
use rdpl_profiles::profile::Profile;
use rdpl_profiles::store::{Store, StoreError};
use tokio::sync::Semaphore;

use crate::config::Config;
use crate::exit::{CliError, Exit};
use crate::probe::Context;
use crate::ui::Ui;
use stats::{Handler, Outcome, Stats};

/// At most this many connections are served at once.
pub(crate) const MAX_CONNECTIONS: usize = 512;
/// A connection must send a whole request head within this time (also while idle between requests).
pub(crate) const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest request head read (hyper's smallest buffer).
const MAX_HEAD: usize = 8 * 1024;
/// What is kept of Prometheus's scrape timeout for the answer to travel back (blackbox_exporter keeps 0.5 s).
const MARGIN: Duration = Duration::from_millis(500);
/// A probe is not started with less than this left of its budget: it could only report a timeout.
const MIN_BUDGET: Duration = Duration::from_millis(200);
/// The longest budget a request can ask for.
const MAX_BUDGET: Duration = Duration::from_secs(300);
/// The modules `module=` takes.
const MODULES: &str = "default (the whole pre-flight, as `rdpl check`), direct (the host itself, \
                       without the profile's RD Gateway)";

/// How the exporter runs (`rdpl exporter` flags).
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// Where to listen.
    pub(crate) listen: SocketAddr,
    /// Whether `host[:port]` targets that are not profiles are probed.
    pub(crate) allow_adhoc: bool,
    /// At most this many pre-flights at once.
    pub(crate) max_concurrent: usize,
    /// The budget of a probe when the request does not say (no `X-Prometheus-Scrape-Timeout-Seconds`).
    pub(crate) timeout: Duration,
}

struct State {
    store: Store,
    /// The last addresses that worked (`state/last-good.toml`), read once and kept current by the probes:
    /// parsing the file for every probe would cost more than a probe of a closed port.
    last_good: std::sync::RwLock<rdpl_profiles::state::State>,
    base: Context,
    opts: Options,
    slots: Semaphore,
    stats: Stats,
}

/// Runs the exporter until the process is stopped. Prints `listening on http://ADDR` (the real port when
/// `--listen` asked for port 0) once it accepts connections.
pub(crate) fn serve(config: &Config, opts: Options, ui: &mut Ui) -> Result<Exit, CliError> {
    let store = config.store();
    let base = crate::pipeline::context(config, &store, opts.timeout)?;
    let rt = crate::pipeline::runtime()?;
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(opts.listen))
        .with_context(|| format!("could not listen on {}", opts.listen))
        .map_err(|e| CliError {
            exit: Exit::Failed,
            error: e,
            help: vec!["another program may use this port; choose another with --listen ADDR:PORT".into()],
        })?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::usage(anyhow!(e).context("could not read the listening address")))?;
    let _ = writeln!(ui.out, "listening on http://{local}");
    let _ = ui.out.flush();
    tracing::info!(%local, max_concurrent = opts.max_concurrent, adhoc = opts.allow_adhoc, "exporter started");
    let state = Arc::new(State {
        last_good: std::sync::RwLock::new(store.load_state()),
        store,
        base,
        slots: Semaphore::new(opts.max_concurrent.max(1)),
        stats: Stats::new(opts.max_concurrent.max(1)),
        opts,
    });
    rt.block_on(accept_loop(listener, state));
    Ok(Exit::Ok)
}

async fn accept_loop(listener: tokio::net::TcpListener, state: Arc<State>) {
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(error) => {
                // Out of file descriptors, for instance: wait instead of spinning.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            state.stats.connection_refused();
            // One non-blocking write, no task: an overloaded server must not grow.
            let _ = stream.try_write(
                b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
            );
            continue;
        };
        let state = state.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let svc = hyper::service::service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(handle(&state, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .max_buf_size(MAX_HEAD)
                .max_headers(64)
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

type Answer = Response<Full<Bytes>>;

fn answer(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Answer {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn text(status: StatusCode, body: impl Into<String>) -> Answer {
    let mut body = body.into();
    body.push('\n');
    answer(status, "text/plain; charset=utf-8", body)
}

async fn handle(state: &State, req: Request<Incoming>) -> Answer {
    let handler = match req.uri().path() {
        "/probe" => Handler::Probe,
        "/sd" => Handler::Sd,
        "/metrics" => Handler::Metrics,
        _ => Handler::Other,
    };
    state.stats.request(handler);
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "only GET is served");
        r.headers_mut()
            .insert(hyper::header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    // Nothing here reads a request body; one that comes anyway is refused, not buffered.
    let has_body = req.headers().contains_key(TRANSFER_ENCODING)
        || req
            .headers()
            .get(CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    if has_body {
        let mut r = text(StatusCode::PAYLOAD_TOO_LARGE, "request bodies are not accepted");
        r.headers_mut()
            .insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
        return r;
    }
    match handler {
        Handler::Probe => probe_request(state, &req).await,
        Handler::Sd => service_discovery(state),
        Handler::Metrics => answer(StatusCode::OK, exposition::CONTENT_TYPE, state.stats.exposition()),
        Handler::Other if req.uri().path() == "/" => text(
            StatusCode::OK,
            "rdpl exporter\n\n/probe?target=PROFILE[&module=default|direct]  the pre-flight as metrics\n\
             /sd  Prometheus HTTP service discovery (every profile)\n/metrics  the exporter's own metrics",
        ),
        Handler::Other => text(
            StatusCode::NOT_FOUND,
            "not found: the endpoints are /probe, /sd and /metrics",
        ),
    }
}

/// A `/probe` request, parsed: what to probe and for how long.
#[derive(Debug)]
struct ProbeRequest {
    target: String,
    direct: bool,
    budget: Duration,
}

/// Parses the query and the scrape-timeout header.
fn parse_probe(
    query: Option<&str>,
    scrape_timeout: Option<&[u8]>,
    default: Duration,
) -> Result<ProbeRequest, String> {
    let mut target = None;
    let mut module = None;
    for pair in query.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = percent_decode(k)?;
        let v = percent_decode(v)?;
        let slot = match k.as_str() {
            "target" => &mut target,
            "module" => &mut module,
            // Prometheus may pass more parameters (blackbox-style configs often do); they mean nothing here.
            _ => continue,
        };
        if slot.replace(v).is_some() {
            return Err(format!("`{k}` is given more than once"));
        }
    }
    let target = target
        .filter(|t| !t.is_empty())
        .ok_or("the `target` parameter is missing: /probe?target=PROFILE")?;
    let direct = match module.as_deref() {
        None | Some("" | "default") => false,
        Some("direct") => true,
        Some("login") => {
            return Err(
                "module `login` is not offered: no password ever goes through the exporter \
                        (run `rdpl check --login TARGET` by hand)"
                    .into(),
            );
        }
        Some(m) => {
            return Err(format!(
                "unknown module `{}`; the modules are {MODULES}",
                m.escape_debug()
            ));
        }
    };
    let budget = match scrape_timeout {
        None => default,
        Some(raw) => {
            let secs = std::str::from_utf8(raw)
                .ok()
                .and_then(|s| s.trim().parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s > 0.0)
                .ok_or("X-Prometheus-Scrape-Timeout-Seconds is not a positive number of seconds")?;
            let scrape = Duration::from_secs_f64(secs.min(MAX_BUDGET.as_secs_f64()));
            // Keep the margin for the answer; a very short timeout keeps half of itself instead.
            if scrape > MARGIN * 2 {
                scrape - MARGIN
            } else {
                scrape / 2
            }
        }
    };
    Ok(ProbeRequest {
        target,
        direct,
        budget: budget.min(MAX_BUDGET),
    })
}

/// `%XX` escapes and `+` (a space), as URL query strings write them.
fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("bad %-escape in the query: `{}`", s.escape_debug()))?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "the query is not UTF-8".to_owned())
}

/// The profile a target names, or (with `--allow-adhoc`) an ad-hoc one for `host[:port]`. Nothing here
/// opens a socket.
fn resolve(store: &Store, target: &str, allow_adhoc: bool) -> Result<Profile, (StatusCode, String)> {
    let not_profile = || {
        if allow_adhoc {
            format!(
                "`{}` is neither a profile nor a HOST[:PORT]",
                target.escape_debug()
            )
        } else {
            format!(
                "`{}` is not a profile; the exporter probes profiles only (start it with --allow-adhoc to \
                 probe HOST[:PORT] targets)",
                target.escape_debug()
            )
        }
    };
    match store.load(target) {
        Ok(p) => Ok(p),
        Err(StoreError::NotFound { .. } | StoreError::InvalidName { .. }) if allow_adhoc => {
            let addr: TargetAddr = target
                .parse()
                .map_err(|_| (StatusCode::BAD_REQUEST, not_profile()))?;
            let mut p = Profile::new(ProfileName::for_host(&addr.host), addr.host.clone());
            if let Some(port) = addr.port {
                p.port = port;
            }
            Ok(p)
        }
        Err(StoreError::NotFound { .. } | StoreError::InvalidName { .. }) => {
            Err((StatusCode::BAD_REQUEST, not_profile()))
        }
        Err(e) => Err((
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("could not read the profile: {e}"),
        )),
    }
}

async fn probe_request(state: &State, req: &Request<Incoming>) -> Answer {
    let started = Instant::now();
    let parsed = parse_probe(
        req.uri().query(),
        req.headers()
            .get("x-prometheus-scrape-timeout-seconds")
            .map(HeaderValue::as_bytes),
        state.opts.timeout,
    );
    let r = match parsed {
        Ok(r) => r,
        Err(e) => return refuse(state, StatusCode::BAD_REQUEST, "", e),
    };
    let profile = match resolve(&state.store, &r.target, state.opts.allow_adhoc) {
        Ok(p) => p,
        Err((status, e)) => return refuse(state, status, &r.target, e),
    };
    let mut target = match state.last_good.read() {
        Ok(known) => crate::pipeline::target_of(profile, &r.target, &known),
        Err(_) => crate::pipeline::target_of(profile, &r.target, &Default::default()),
    };
    if r.direct {
        target.profile.gateway = None;
    }
    let deadline = started + r.budget;
    let slot = {
        let _waiting = state.stats.waiting();
        let latest = deadline.checked_sub(MIN_BUDGET).unwrap_or(started);
        tokio::time::timeout_at(latest.into(), state.slots.acquire()).await
    };
    let Ok(Ok(_slot)) = slot else {
        return refuse(
            state,
            StatusCode::SERVICE_UNAVAILABLE,
            &r.target,
            format!(
                "all {} probe slots stayed busy for the whole {} ms budget; raise --max-concurrent or the \
                 scrape timeout",
                state.opts.max_concurrent,
                r.budget.as_millis()
            ),
        );
    };
    let left = deadline.saturating_duration_since(Instant::now());
    let _running = state.stats.in_flight();
    // The pre-flight keeps to `left` by itself; the outer limit is a guard, never the plan.
    let run = crate::pipeline::check_in_runtime(&state.store, &state.base, &target, left);
    let facts = match tokio::time::timeout(left + MARGIN, run).await {
        Ok(Ok(f)) => f,
        Ok(Err(e)) => {
            return refuse(
                state,
                StatusCode::INTERNAL_SERVER_ERROR,
                &r.target,
                format!("{:#}", e.error),
            );
        }
        Err(_) => {
            return refuse(
                state,
                StatusCode::SERVICE_UNAVAILABLE,
                &r.target,
                "the pre-flight overran its budget".into(),
            );
        }
    };
    if let Some(chosen) = facts.address.chosen.filter(|c| Some(*c) != target.cache)
        && let Ok(mut known) = state.last_good.write()
    {
        let key = rdpl_profiles::pins::key(&target.profile.host.to_string(), target.profile.port.get());
        known.last_good.insert(key, chosen.to_string());
    }
    state.stats.observe(facts.took);
    let verdict = facts.verdict();
    let outcome = if verdict == Verdict::Blocked {
        Outcome::Blocked
    } else {
        Outcome::Success
    };
    state.stats.probe_done(outcome);
    tracing::info!(
        target = %r.target,
        direct = r.direct,
        verdict = match verdict {
            Verdict::Ok => "ok",
            Verdict::Warn => "warn",
            Verdict::Blocked => "blocked",
        },
        ms = started.elapsed().as_millis() as u64,
        budget_ms = r.budget.as_millis() as u64,
        "probe"
    );
    answer(
        StatusCode::OK,
        exposition::CONTENT_TYPE,
        probe::exposition(&facts),
    )
}

/// A probe request that ran no pre-flight: counted, logged, answered with the reason.
fn refuse(state: &State, status: StatusCode, target: &str, why: String) -> Answer {
    state.stats.probe_done(match status {
        StatusCode::BAD_REQUEST => Outcome::BadRequest,
        StatusCode::SERVICE_UNAVAILABLE => Outcome::Unavailable,
        _ => Outcome::Error,
    });
    tracing::info!(target = %target.escape_debug(), status = status.as_u16(), error = %why, "probe refused");
    text(status, format!("error: {why}"))
}

fn service_discovery(state: &State) -> Answer {
    match state.store.load_all() {
        Ok((profiles, broken)) => {
            for error in broken {
                tracing::warn!(%error, "a profile is left out of /sd");
            }
            answer(StatusCode::OK, "application/json", sd::groups(&profiles))
        }
        Err(error) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("error: could not list the profiles: {error}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEN: Duration = Duration::from_secs(10);

    #[test]
    fn a_target_and_module_are_read_from_the_query() {
        let r = parse_probe(Some("target=web01&module=direct&x=1"), None, TEN).expect("parses");
        assert_eq!((r.target.as_str(), r.direct, r.budget), ("web01", true, TEN));
        let r = parse_probe(Some("module=default&target=%5B%3A%3A1%5D%3A3389"), None, TEN).expect("parses");
        assert_eq!((r.target.as_str(), r.direct), ("[::1]:3389", false));
        assert_eq!(
            parse_probe(Some("target=a+b"), None, TEN).expect("parses").target,
            "a b"
        );
    }

    #[test]
    fn bad_queries_are_refused_with_a_reason() {
        for (query, says) in [
            (None, "`target` parameter is missing"),
            (Some("target="), "`target` parameter is missing"),
            (Some("target=a&target=b"), "more than once"),
            (Some("target=%zz"), "bad %-escape"),
            (Some("target=%ff"), "not UTF-8"),
            (
                Some("target=a&module=login"),
                "no password ever goes through the exporter",
            ),
            (Some("target=a&module=icmp"), "unknown module `icmp`"),
        ] {
            let e = parse_probe(query, None, TEN).expect_err("refused");
            assert!(e.contains(says), "{query:?}: {e}");
        }
    }

    #[test]
    fn the_scrape_timeout_header_is_the_budget_minus_a_margin() {
        let budget = |h: &str| parse_probe(Some("target=a"), Some(h.as_bytes()), TEN).map(|r| r.budget);
        assert_eq!(budget("10"), Ok(Duration::from_millis(9500)));
        assert_eq!(budget(" 2.5 "), Ok(Duration::from_secs(2)));
        assert_eq!(budget("0.5"), Ok(Duration::from_millis(250)));
        assert_eq!(budget("100000"), Ok(MAX_BUDGET - MARGIN));
        for bad in ["0", "-1", "ten", "NaN", "inf"] {
            assert!(budget(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_target_that_is_not_a_profile_is_refused_unless_adhoc_is_allowed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::new(dir.path());
        let (status, e) = resolve(&store, "10.0.0.1:3389", false).expect_err("refused");
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(e.contains("--allow-adhoc"), "{e}");
        let p = resolve(&store, "10.0.0.1:3390", true).expect("ad-hoc");
        assert_eq!((p.host.to_string(), p.port.get()), ("10.0.0.1".to_owned(), 3390));
        let (status, _) = resolve(&store, "not a host!", true).expect_err("refused");
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
}

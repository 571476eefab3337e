//! The exporter's own metrics (`/metrics`, `rdpl_exporter_*`): counters and a histogram in atomics, written
//! with the same exposition writer as the probes.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::exposition::{Exposition, Family, Kind, Sample};

/// Upper bounds of the probe-duration histogram, in seconds.
const BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// How a `/probe` request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The pre-flight ran; the verdict was ok or warn.
    Success,
    /// The pre-flight ran; the verdict was blocked.
    Blocked,
    /// Refused before any probe: not a profile, a bad parameter (HTTP 400).
    BadRequest,
    /// No slot or no time left (HTTP 503).
    Unavailable,
    /// The pre-flight could not run (the pins file is broken, ...: HTTP 500).
    Error,
}

impl Outcome {
    const ALL: [Outcome; 5] = [
        Outcome::Success,
        Outcome::Blocked,
        Outcome::BadRequest,
        Outcome::Unavailable,
        Outcome::Error,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Blocked => "blocked",
            Outcome::BadRequest => "bad_request",
            Outcome::Unavailable => "unavailable",
            Outcome::Error => "error",
        }
    }
}

/// The counters.
#[derive(Debug)]
pub(crate) struct Stats {
    probes: [AtomicU64; 5],
    in_flight: AtomicU64,
    waiting: AtomicU64,
    requests: [AtomicU64; 4],
    connections_refused: AtomicU64,
    /// Histogram of pre-flight durations: per-bucket counts (not cumulative), the sum, the count.
    histogram: Mutex<([u64; BUCKETS.len()], f64, u64)>,
    max_concurrent: usize,
}

/// The endpoints, for the request counter.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Handler {
    Probe = 0,
    Sd = 1,
    Metrics = 2,
    Other = 3,
}

const HANDLERS: [(Handler, &str); 4] = [
    (Handler::Probe, "/probe"),
    (Handler::Sd, "/sd"),
    (Handler::Metrics, "/metrics"),
    (Handler::Other, "other"),
];

impl Stats {
    pub(crate) fn new(max_concurrent: usize) -> Stats {
        Stats {
            probes: Default::default(),
            in_flight: AtomicU64::new(0),
            waiting: AtomicU64::new(0),
            requests: Default::default(),
            connections_refused: AtomicU64::new(0),
            histogram: Mutex::new(([0; BUCKETS.len()], 0.0, 0)),
            max_concurrent,
        }
    }

    pub(crate) fn request(&self, h: Handler) {
        self.requests[h as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn connection_refused(&self) {
        self.connections_refused.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn probe_done(&self, outcome: Outcome) {
        self.probes[outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// A pre-flight's duration.
    pub(crate) fn observe(&self, took: Duration) {
        let s = took.as_secs_f64();
        if let Ok(mut h) = self.histogram.lock() {
            if let Some(i) = BUCKETS.iter().position(|b| s <= *b) {
                h.0[i] += 1;
            }
            h.1 += s;
            h.2 += 1;
        }
    }

    /// Counts a request waiting for a slot while the guard lives.
    pub(crate) fn waiting(&self) -> Gauge<'_> {
        Gauge::new(&self.waiting)
    }

    /// Counts a running pre-flight while the guard lives.
    pub(crate) fn in_flight(&self) -> Gauge<'_> {
        Gauge::new(&self.in_flight)
    }

    /// The exposition.
    pub(crate) fn exposition(&self) -> String {
        let mut e = Exposition::default();
        e.family(
            Family {
                name: "rdpl_exporter_build_info",
                help: "The rdpl version serving these metrics.",
                kind: Kind::Gauge,
            },
            &[Sample::new(1.0).label("version", env!("CARGO_PKG_VERSION"))],
        );
        e.family(
            Family {
                name: "rdpl_exporter_probes_total",
                help: "/probe requests by outcome (success, blocked: the pre-flight ran; bad_request, unavailable, error: it did not).",
                kind: Kind::Counter,
            },
            &Outcome::ALL
                .iter()
                .map(|o| {
                    Sample::new(self.probes[*o as usize].load(Ordering::Relaxed) as f64).label("outcome", o.as_str())
                })
                .collect::<Vec<_>>(),
        );
        e.family(
            Family {
                name: "rdpl_exporter_http_requests_total",
                help: "HTTP requests by endpoint.",
                kind: Kind::Counter,
            },
            &HANDLERS
                .iter()
                .map(|(h, name)| {
                    Sample::new(self.requests[*h as usize].load(Ordering::Relaxed) as f64)
                        .label("handler", *name)
                })
                .collect::<Vec<_>>(),
        );
        e.family(
            Family {
                name: "rdpl_exporter_connections_refused_total",
                help: "Connections answered 503 at once because the connection limit was reached.",
                kind: Kind::Counter,
            },
            &[Sample::new(
                self.connections_refused.load(Ordering::Relaxed) as f64
            )],
        );
        e.single(
            Family {
                name: "rdpl_exporter_probes_in_flight",
                help: "Pre-flights running now.",
                kind: Kind::Gauge,
            },
            self.in_flight.load(Ordering::Relaxed) as f64,
        );
        e.single(
            Family {
                name: "rdpl_exporter_probes_waiting",
                help: "Probe requests waiting for a slot now.",
                kind: Kind::Gauge,
            },
            self.waiting.load(Ordering::Relaxed) as f64,
        );
        e.single(
            Family {
                name: "rdpl_exporter_max_concurrent_probes",
                help: "At most this many pre-flights run at once (--max-concurrent).",
                kind: Kind::Gauge,
            },
            self.max_concurrent as f64,
        );
        let (counts, sum, count) = self
            .histogram
            .lock()
            .map(|h| *h)
            .unwrap_or(([0; BUCKETS.len()], 0.0, 0));
        let mut samples = Vec::new();
        let mut cumulative = 0;
        for (b, n) in BUCKETS.iter().zip(counts) {
            cumulative += n;
            samples.push(
                Sample::new(cumulative as f64)
                    .suffix("_bucket")
                    .label("le", super::exposition::number(*b)),
            );
        }
        samples.push(Sample::new(count as f64).suffix("_bucket").label("le", "+Inf"));
        samples.push(Sample::new(sum).suffix("_sum"));
        samples.push(Sample::new(count as f64).suffix("_count"));
        e.family(
            Family {
                name: "rdpl_exporter_probe_duration_seconds",
                help: "How long the pre-flights took (not counting the wait for a slot).",
                kind: Kind::Histogram,
            },
            &samples,
        );
        e.finish()
    }
}

/// A gauge raised for the guard's life.
#[derive(Debug)]
pub(crate) struct Gauge<'a>(&'a AtomicU64);

impl<'a> Gauge<'a> {
    fn new(g: &'a AtomicU64) -> Gauge<'a> {
        g.fetch_add(1, Ordering::Relaxed);
        Gauge(g)
    }
}

impl Drop for Gauge<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_gauges_and_the_histogram_add_up() {
        let s = Stats::new(8);
        s.probe_done(Outcome::Success);
        s.probe_done(Outcome::Success);
        s.probe_done(Outcome::Unavailable);
        s.request(Handler::Probe);
        s.observe(Duration::from_micros(31_250));
        s.observe(Duration::from_secs(3));
        s.observe(Duration::from_secs(100));
        let g = s.in_flight();
        let text = s.exposition();
        drop(g);
        for line in [
            "rdpl_exporter_probes_total{outcome=\"success\"} 2\n",
            "rdpl_exporter_probes_total{outcome=\"unavailable\"} 1\n",
            "rdpl_exporter_probes_total{outcome=\"error\"} 0\n",
            "rdpl_exporter_http_requests_total{handler=\"/probe\"} 1\n",
            "rdpl_exporter_probes_in_flight 1\n",
            "rdpl_exporter_max_concurrent_probes 8\n",
            "rdpl_exporter_probe_duration_seconds_bucket{le=\"0.05\"} 1\n",
            "rdpl_exporter_probe_duration_seconds_bucket{le=\"2.5\"} 1\n",
            "rdpl_exporter_probe_duration_seconds_bucket{le=\"5\"} 2\n",
            "rdpl_exporter_probe_duration_seconds_bucket{le=\"60\"} 2\n",
            "rdpl_exporter_probe_duration_seconds_bucket{le=\"+Inf\"} 3\n",
            "rdpl_exporter_probe_duration_seconds_sum 103.03125\n",
            "rdpl_exporter_probe_duration_seconds_count 3\n",
        ] {
            assert!(text.contains(line), "{line:?} missing in\n{text}");
        }
        assert!(s.exposition().contains("rdpl_exporter_probes_in_flight 0\n"));
    }
}

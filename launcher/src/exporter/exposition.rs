//! The Prometheus text exposition format (version 0.0.4), written by hand: families with their `# HELP` and
//! `# TYPE` lines, samples with escaped label values. Pure; `promtool check metrics` checks real output in the
//! end-to-end tests.

use std::fmt::Write as _;

/// The content type of the text format.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A metric family's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Gauge,
    Counter,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
            Kind::Histogram => "histogram",
        }
    }
}

/// A metric family: its name, help text and type.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Family {
    pub(crate) name: &'static str,
    pub(crate) help: &'static str,
    pub(crate) kind: Kind,
}

/// An exposition being written. Each family is written in one piece (its HELP and TYPE lines, then every
/// sample), which is what the format requires: a family's samples may not be split by another family.
#[derive(Debug, Default)]
pub(crate) struct Exposition {
    text: String,
}

impl Exposition {
    /// Writes a family with its samples; nothing (not even HELP/TYPE) when there are none.
    pub(crate) fn family(&mut self, f: Family, samples: &[Sample]) {
        if samples.is_empty() {
            return;
        }
        let _ = writeln!(self.text, "# HELP {} {}", f.name, escape_help(f.help));
        let _ = writeln!(self.text, "# TYPE {} {}", f.name, f.kind.as_str());
        for s in samples {
            self.text.push_str(f.name);
            self.text.push_str(s.suffix);
            if !s.labels.is_empty() {
                self.text.push('{');
                for (i, (k, v)) in s.labels.iter().enumerate() {
                    if i > 0 {
                        self.text.push(',');
                    }
                    let _ = write!(self.text, "{k}=\"{}\"", escape_label(v));
                }
                self.text.push('}');
            }
            self.text.push(' ');
            self.text.push_str(&number(s.value));
            self.text.push('\n');
        }
    }

    /// A family with one sample without labels.
    pub(crate) fn single(&mut self, f: Family, value: f64) {
        self.family(f, &[Sample::new(value)]);
    }

    /// The text.
    pub(crate) fn finish(self) -> String {
        self.text
    }
}

/// One sample: a name suffix (`_bucket`, `_sum`, `_count` for histograms), labels and the value.
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    pub(crate) suffix: &'static str,
    pub(crate) labels: Vec<(&'static str, String)>,
    pub(crate) value: f64,
}

impl Sample {
    /// A sample without labels.
    pub(crate) fn new(value: f64) -> Sample {
        Sample {
            suffix: "",
            labels: Vec::new(),
            value,
        }
    }

    /// Adds a label.
    pub(crate) fn label(mut self, name: &'static str, value: impl Into<String>) -> Sample {
        self.labels.push((name, value.into()));
        self
    }

    /// Sets the name suffix.
    pub(crate) fn suffix(mut self, suffix: &'static str) -> Sample {
        self.suffix = suffix;
        self
    }
}

/// A label value: backslash, double quote and line feed escaped.
fn escape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A HELP text: backslash and line feed escaped.
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A sample value as the format spells it (`+Inf`, `-Inf`, `NaN`, else Go-compatible decimal).
pub(crate) fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: Family = Family {
        name: "rdpl_test",
        help: "A test\\family\nwith two lines.",
        kind: Kind::Gauge,
    };

    #[test]
    fn a_family_is_help_type_then_samples_with_escaped_labels() {
        let mut e = Exposition::default();
        e.family(
            G,
            &[
                Sample::new(1.0).label("id", "a\"b\\c\nd"),
                Sample::new(0.25).label("id", "x").label("severity", "warning"),
            ],
        );
        assert_eq!(
            e.finish(),
            "# HELP rdpl_test A test\\\\family\\nwith two lines.\n\
             # TYPE rdpl_test gauge\n\
             rdpl_test{id=\"a\\\"b\\\\c\\nd\"} 1\n\
             rdpl_test{id=\"x\",severity=\"warning\"} 0.25\n"
        );
    }

    #[test]
    fn a_family_without_samples_is_not_written() {
        let mut e = Exposition::default();
        e.family(G, &[]);
        assert_eq!(e.finish(), "");
    }

    #[test]
    fn special_values_are_spelled_as_the_format_wants() {
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(f64::NEG_INFINITY), "-Inf");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(1_700_000_000.0), "1700000000");
        assert_eq!(number(0.000_1), "0.0001");
    }

    #[test]
    fn histogram_samples_carry_their_suffix() {
        let mut e = Exposition::default();
        e.family(
            Family {
                name: "rdpl_h",
                help: "h",
                kind: Kind::Histogram,
            },
            &[
                Sample::new(2.0).suffix("_bucket").label("le", "+Inf"),
                Sample::new(0.5).suffix("_sum"),
                Sample::new(2.0).suffix("_count"),
            ],
        );
        assert_eq!(
            e.finish(),
            "# HELP rdpl_h h\n# TYPE rdpl_h histogram\nrdpl_h_bucket{le=\"+Inf\"} 2\nrdpl_h_sum 0.5\nrdpl_h_count 2\n"
        );
    }
}

//! IronRDP's connector errors as rdpl's [`Failure`]s: the kind is read where the error happens (the stage is
//! known there). What a failure means — its finding and login status — is pure and lives in
//! [`rdpl_core::login`].

use ironrdp_connector::{ConnectorError, ConnectorErrorKind};
use rdpl_core::login::{Failure, FailureKind, Stage};

/// Builds a [`Failure`] from an IronRDP connector error.
pub trait FromConnector {
    /// An IronRDP connector error at `stage`.
    fn connector(stage: Stage, e: &ConnectorError) -> Failure;
}

impl FromConnector for Failure {
    fn connector(stage: Stage, e: &ConnectorError) -> Failure {
        let detail = chain(e);
        let kind = match e.kind() {
            ConnectorErrorKind::Negotiation(f) => FailureKind::Negotiation(u32::from(f.code())),
            ConnectorErrorKind::Credssp(s) => FailureKind::Credssp(s.nstatus.map(|n| n.0)),
            ConnectorErrorKind::AccessDenied => FailureKind::AccessDenied,
            ConnectorErrorKind::Encode(_) | ConnectorErrorKind::Decode(_) => FailureKind::Protocol,
            _ => match io_kind(e) {
                Some(k) => FailureKind::Io(k),
                None => FailureKind::Protocol,
            },
        };
        Failure::new(stage, kind, detail)
    }
}

fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

fn io_kind(e: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        cur = c.source();
    }
    None
}

//! Profiles by what the user typed: a profile name (with "did you mean" for a near miss) or an ad-hoc
//! `host[:port]`, and store errors as user errors with `help:` lines.

use rdpl_profiles::name::{ProfileName, TargetAddr};
use rdpl_profiles::profile::Profile;
use rdpl_profiles::store::{Store, StoreError};

use crate::exit::CliError;
use crate::suggest;

/// Turns a store error into a user error with `help:` lines (exit 2).
pub(crate) fn store_error(e: StoreError) -> CliError {
    let help = match &e {
        StoreError::NotFound { name, known } => {
            let mut h: Vec<String> = suggest::help_line(name, known).into_iter().collect();
            h.push(if known.is_empty() {
                "there are no profiles yet: add one with `rdpl profile add NAME --host HOST`".into()
            } else {
                "`rdpl profile list` shows all profiles".into()
            });
            h
        }
        StoreError::Corrupt { .. } => vec![
            "fix the file in an editor, or delete it with `rdpl profile rm NAME`; rdpl never overwrites a file \
             it cannot read"
                .into(),
        ],
        StoreError::Exists { .. } => vec!["choose another name, or `rdpl profile rm` the old one first".into()],
        _ => Vec::new(),
    };
    let mut err = CliError::usage(e);
    err.help = help;
    err
}

/// A profile by name, or an ad-hoc one for `HOST[:PORT]`. A string that names no profile but is close to
/// one is treated as a typo, not as a host.
pub(crate) fn resolve_target(store: &Store, target: &str) -> Result<Profile, CliError> {
    match store.load(target) {
        Ok(p) => Ok(p),
        Err(StoreError::NotFound { name, known }) => {
            let looks_like_host = target.contains(['.', ':']) || target.parse::<std::net::IpAddr>().is_ok();
            let close = suggest::did_you_mean(target, known.iter().map(String::as_str));
            if !looks_like_host && !close.is_empty() {
                let mut e = store_error(StoreError::NotFound {
                    name,
                    known: known.clone(),
                });
                e.help.push(format!(
                    "to connect to a host of that name, write it as `{target}:3389`"
                ));
                return Err(e);
            }
            let addr: TargetAddr = target.parse().map_err(|e| {
                store_error(StoreError::NotFound {
                    name: target.to_owned(),
                    known: known.clone(),
                })
                .help(format!("`{}` is not a host either: {e}", target.escape_debug()))
            })?;
            let mut p = Profile::new(ProfileName::for_host(&addr.host), addr.host.clone());
            if let Some(port) = addr.port {
                p.port = port;
            }
            Ok(p)
        }
        Err(e) => Err(store_error(e)),
    }
}

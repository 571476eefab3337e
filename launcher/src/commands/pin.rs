//! `rdpl pin list | accept TARGET | forget TARGET`: the certificate pins (trust on first use).

use anyhow::anyhow;
use rdpl_profiles::pins;

use super::common::{print_json, resolve_target, store_error};
use crate::cli::PinCmd;
use crate::config::Config;
use crate::exit::{CliError, CmdResult, Exit};
use crate::json::{JSON_VERSION, PinChangeJson, PinListJson};
use crate::pipeline::check_one;
use crate::ui::outln;
use crate::ui::{Ui, shown, style};
use rdpl_core::finding::Severity;
use rdpl_core::preflight::cert::pin_of;

pub(super) fn run(cmd: PinCmd, config: &Config, ui: &mut Ui) -> CmdResult {
    let store = config.store();
    match cmd {
        PinCmd::List(a) => {
            let set = store.load_pins().map_err(store_error)?;
            if a.json {
                print_json(
                    ui,
                    &PinListJson {
                        version: JSON_VERSION,
                        pins: &set.pins,
                    },
                )?;
            } else if set.pins.is_empty() {
                ui.note("no pins yet: `rdpl pin accept TARGET` pins the certificate a target presents");
            } else {
                let b = style::BOLD;
                outln!(
                    ui,
                    "{b}{:<32}  {:<16}  {:<25}  {:<25}  SUBJECT{b:#}",
                    "HOST:PORT",
                    "SHA-256",
                    "VALID TO",
                    "FIRST SEEN"
                );
                for (k, p) in &set.pins {
                    outln!(
                        ui,
                        "{:<32}  {:<16}  {:<25}  {:<25}  {}",
                        shown(k),
                        shown(p.sha256.get(..16).unwrap_or(&p.sha256)),
                        shown(&p.not_after),
                        shown(&p.first_seen),
                        shown(&p.subject)
                    );
                }
            }
            Ok(Exit::Ok)
        }
        PinCmd::Accept(a) => {
            let (profile, report, now) = check_one(config, &a.target, a.timeout)?;
            let (host, port) = (profile.host.to_string(), profile.port.get());
            let Some(cert) = report.certificate.clone() else {
                let why = report
                    .findings
                    .iter()
                    .find(|f| f.severity == Severity::Error)
                    .map_or_else(
                        || "the target presented no certificate".to_owned(),
                        |f| f.message.clone(),
                    );
                return Err(CliError {
                    exit: Exit::Failed,
                    error: anyhow!("could not get {host}:{port}'s certificate: {why}"),
                    help: vec![],
                });
            };
            let (old, new) = store
                .update_pins(|set| {
                    let old = set.pins.get(&pins::key(&host, port)).cloned();
                    set.record(&host, port, pin_of(&cert, now));
                    (old, set.pins.get(&pins::key(&host, port)).cloned())
                })
                .map_err(store_error)?;
            if a.json {
                print_json(
                    ui,
                    &PinChangeJson {
                        version: JSON_VERSION,
                        key: pins::key(&host, port),
                        pin: new,
                        previous: old,
                    },
                )?;
                return Ok(Exit::Ok);
            }
            match old {
                Some(o) if o.sha256 != cert.sha256 => outln!(
                    ui,
                    "replaced the pin for {}:{port}: was {} ({}), now {} ({})",
                    shown(&host),
                    shown(&o.sha256),
                    shown(&o.subject),
                    cert.sha256,
                    shown(&cert.subject)
                ),
                Some(_) => outln!(
                    ui,
                    "{}:{port} already pinned to {} ({})",
                    shown(&host),
                    cert.sha256,
                    shown(&cert.subject)
                ),
                None => outln!(
                    ui,
                    "pinned {}:{port} to {} ({}, valid to {})",
                    shown(&host),
                    cert.sha256,
                    shown(&cert.subject),
                    shown(&cert.not_after)
                ),
            }
            Ok(Exit::Ok)
        }
        PinCmd::Forget(a) => {
            let p = resolve_target(&store, &a.target)?;
            let (host, port) = (p.host.to_string(), p.port.get());
            let removed = store
                .update_pins(|set| set.forget(&host, port))
                .map_err(store_error)?;
            match removed {
                Some(previous) if a.json => print_json(
                    ui,
                    &PinChangeJson {
                        version: JSON_VERSION,
                        key: pins::key(&host, port),
                        pin: None,
                        previous: Some(previous),
                    },
                )?,
                Some(_) => ui.note(format!("forgot the pin for {host}:{port}")),
                None => {
                    return Err(CliError::usage(anyhow!("{host}:{port} has no pin"))
                        .help("`rdpl pin list` shows the pins"));
                }
            }
            Ok(Exit::Ok)
        }
    }
}

//! `rdpl creds set|clear|list`: rdpl's saved passwords in the OS keyring. Passwords are read without echo
//! (or from standard input) into a zeroizing buffer and go only to the keyring; nothing here prints one.

use anyhow::anyhow;
use rdpl_profiles::creds::CredKey;
use serde::Serialize;

use super::common::{print_json, resolve_target};
use crate::cli::{CredsClearArgs, CredsCmd, CredsSetArgs, JsonArg};
use crate::config::Config;
use crate::credentials::{self as creds};
use crate::exit::{CliError, CmdResult, Exit};
use crate::pipeline::{cred_error, read_password};
use crate::ui::outln;
use crate::ui::{Ui, shown, style};
use rdpl_core::stale::{self, Seen, StaleItem};

pub(super) fn run(c: CredsCmd, config: &Config, ui: &mut Ui) -> CmdResult {
    match c {
        CredsCmd::Set(a) => set(a, config, ui),
        CredsCmd::Clear(a) => clear(a, config, ui),
        CredsCmd::List(a) => list(a, config, ui),
    }
}

fn set(a: CredsSetArgs, config: &Config, ui: &mut Ui) -> CmdResult {
    let store = config.store();
    let profile = resolve_target(&store, &a.target)?;
    let gateway = if a.gateway {
        let Some(g) = &profile.gateway else {
            return Err(CliError::usage(anyhow!("`{}` has no RD Gateway", a.target)));
        };
        if a.user.is_none() && g.user.is_none() {
            return Err(CliError::usage(anyhow!(
                "the gateway of `{}` has no account of its own: rdpl signs in to it with the connection's",
                a.target
            ))
            .help(format!(
                "`rdpl profile set {} gateway.user=NAME` (and gateway.domain=...) first",
                profile.name
            )));
        }
        Some(g)
    } else {
        None
    };
    let (default_user, default_domain) = match gateway {
        Some(g) => (g.user.clone(), g.domain.clone()),
        None => (profile.user.clone(), profile.domain.clone()),
    };
    let Some(user) = a.user.clone().or(default_user) else {
        return Err(CliError::usage(anyhow!(
            "`{}` names no user, so there is no account to save a password for",
            a.target
        ))
        .help(format!(
            "pass --user NAME, or `rdpl profile set {} user=NAME`",
            profile.name
        )));
    };
    let domain = a.domain.clone().or(default_domain);
    for (what, v) in [("user", Some(&user)), ("domain", domain.as_ref())] {
        if let Some(v) = v {
            rdpl_profiles::profile::check_account_field(what, v).map_err(|e| CliError::usage(anyhow!(e)))?;
        }
    }
    let host = gateway.map_or_else(|| profile.host.to_string(), |g| g.host.to_string());
    let key = CredKey::new(&host, &user, domain.as_deref());
    let password = read_password(a.password_stdin, &format!("Password for {key}: "))?;
    // A stored profile (not an ad-hoc HOST): the entry belongs to it, so later changes to it can make it stale.
    let saved_for = store
        .path_of(&profile.name)
        .is_file()
        .then(|| profile.name.to_string());
    let vault = config.vault();
    let kind = vault
        .set(&key, saved_for.as_deref(), &password)
        .map_err(cred_error)?;
    outln!(
        ui,
        "{}saved{:#} the password of {}{key} in the {kind}",
        style::OK,
        style::OK,
        if gateway.is_some() {
            "the RD Gateway account "
        } else {
            ""
        }
    );
    Ok(Exit::Ok)
}

fn clear(a: CredsClearArgs, config: &Config, ui: &mut Ui) -> CmdResult {
    let store = config.store();
    let profile = resolve_target(&store, &a.target)?;
    let vault = config.vault();
    let mut inv = creds::inventory(&vault).map_err(cred_error)?;
    if !a.mstsc {
        inv.termsrv.clear();
        inv.mstsc_servers.clear();
    }
    // Everything saved for this profile or any spelling of its host.
    let seen = Seen {
        spellings: Seen::spellings(&profile, []),
        cert_sha1: None,
    };
    let is_spelling = |h: &str| seen.is_spelling(h);
    let mut items: Vec<StaleItem> = inv
        .rdpl
        .iter()
        .filter(|r| r.profile.as_deref() == Some(profile.name.as_str()) || is_spelling(&r.key.host))
        .map(|r| StaleItem::Rdpl { key: r.key.clone() })
        .collect();
    // An ad-hoc target or a profile with a user but nothing in the index: try its own key anyway.
    if let Some(k) = stale::profile_key(&profile)
        && !items
            .iter()
            .any(|i| matches!(i, StaleItem::Rdpl { key } if key == &k))
    {
        items.push(StaleItem::Rdpl { key: k });
    }
    items.extend(
        inv.termsrv
            .iter()
            .filter(|t| is_spelling(t.host()))
            .map(|t| StaleItem::Termsrv {
                target: t.target.clone(),
                cred_type: t.kind,
            }),
    );
    items.extend(
        inv.mstsc_servers
            .iter()
            .filter(|s| s.cert_hash.is_some() && is_spelling(&s.host))
            .map(|s| StaleItem::CertHash { host: s.host.clone() }),
    );
    let mut cleared = 0;
    for item in &items {
        if creds::clear(&vault, item).map_err(cred_error)? {
            cleared += 1;
            outln!(ui, "{}cleared{:#} {item}", style::OK, style::OK);
        }
    }
    if a.mstsc && !cfg!(windows) {
        ui.note("mstsc's saved credentials exist only on Windows; nothing else to clear here");
    }
    if cleared == 0 {
        ui.note(format!("nothing saved for {}", profile.name));
    }
    Ok(Exit::Ok)
}

#[derive(Serialize)]
struct ListJson<'a> {
    version: u32,
    credentials: Vec<EntryJson<'a>>,
}

#[derive(Serialize)]
struct EntryJson<'a> {
    host: &'a str,
    user: &'a str,
    domain: Option<&'a str>,
    profile: Option<&'a str>,
    store: String,
    saved: &'a str,
    present: Option<bool>,
    failed: Option<&'a str>,
    failed_reason: Option<&'a str>,
}

fn list(a: JsonArg, config: &Config, ui: &mut Ui) -> CmdResult {
    let vault = config.vault();
    let idx = vault.index().map_err(cred_error)?;
    // Whether each entry is still in the keyring (another tool may have deleted it); unknown when the keyring
    // can't be opened.
    let entries: Vec<EntryJson<'_>> = idx
        .entries
        .iter()
        .map(|r| EntryJson {
            host: &r.key.host,
            user: &r.key.user,
            domain: r.key.domain.as_deref(),
            profile: r.profile.as_deref(),
            store: r.store.to_string(),
            saved: &r.saved,
            present: vault.exists(&r.key).ok(),
            failed: r.failed.as_deref(),
            failed_reason: r.failed_reason.as_deref(),
        })
        .collect();
    if a.json {
        print_json(
            ui,
            &ListJson {
                version: crate::json::JSON_VERSION,
                credentials: entries,
            },
        )?;
        return Ok(Exit::Ok);
    }
    if entries.is_empty() {
        ui.note("no saved credentials; `rdpl creds set TARGET` saves one");
        return Ok(Exit::Ok);
    }
    for e in &entries {
        let account = match e.domain {
            Some(d) => format!("{d}\\{}", e.user),
            None => e.user.to_owned(),
        };
        let state = match (e.failed, e.present) {
            (Some(_), _) => format!("{}rejected{:#}", style::ERR, style::ERR),
            (None, Some(false)) => format!("{}missing from the keyring{:#}", style::WARN, style::WARN),
            (None, None) => "keyring unavailable".to_owned(),
            (None, Some(true)) => format!("{}saved{:#}", style::OK, style::OK),
        };
        outln!(
            ui,
            "{:<28} {:<24} {:<16} {} ({}, {})",
            shown(&account),
            shown(e.host),
            shown(e.profile.unwrap_or("-")),
            state,
            e.store,
            shown(e.saved)
        );
        if let (Some(when), Some(why)) = (e.failed, e.failed_reason) {
            outln!(
                ui,
                "    {} at {}; `rdpl connect` clears it, `rdpl creds set` replaces it",
                shown(why),
                shown(when)
            );
        }
    }
    Ok(Exit::Ok)
}

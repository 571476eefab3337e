//! `rdpl profile add|list|show|set|rm|rename`.

use std::io::Write;

use anyhow::anyhow;
use rdpl_profiles::name::{Port, TargetAddr};
use rdpl_profiles::profile::{Profile, SETTING_KEYS};

use super::common::{print_json, profile_name, store_error, warn_look_alike};
use crate::cli::{ProfileAddArgs, ProfileCmd};
use crate::config::Config;
use crate::exit::{CliError, CmdResult, Exit};
use crate::json::{JSON_VERSION, ProfileErrorJson, ProfileJson, ProfileListJson, ProfileShowJson};
use crate::suggest;
use crate::ui::outln;
use crate::ui::{Ui, chain, message, shown, style};

pub(super) fn run(cmd: ProfileCmd, config: &Config, ui: &mut Ui) -> CmdResult {
    let store = config.store();
    match cmd {
        ProfileCmd::Add(a) => {
            let profile = build(&a)?;
            let (existing, _) = store.names().map_err(store_error)?;
            store.add(&profile).map_err(store_error)?;
            warn_look_alike(ui, &profile.name, &existing);
            if a.json {
                return print_profile(ui, &store, &profile);
            }
            ui.note(format!(
                "added profile `{}` ({})",
                profile.name,
                store.path_of(&profile.name).display()
            ));
            Ok(Exit::Ok)
        }
        ProfileCmd::List(a) => list(config, ui, a.json),
        ProfileCmd::Show(a) => {
            let p = store.load(&a.name).map_err(store_error)?;
            if a.json {
                return print_profile(ui, &store, &p);
            }
            show(ui, &p);
            Ok(Exit::Ok)
        }
        ProfileCmd::Set(a) => {
            let mut parsed = Vec::new();
            for s in &a.settings {
                let (k, v) = s.split_once('=').ok_or_else(|| {
                    CliError::usage(anyhow!("`{s}` is not KEY=VALUE"))
                        .help("e.g. `rdpl profile set web01 user=alice`")
                })?;
                let k = k.trim();
                if !SETTING_KEYS.contains(&k) && !k.starts_with("rdp.") {
                    let known: Vec<String> = SETTING_KEYS.iter().map(|s| (*s).to_owned()).collect();
                    let mut e = CliError::usage(anyhow!("unknown setting `{k}`"));
                    e.help.extend(suggest::help_line(k, &known));
                    e.help.push("`rdpl profile set --help` lists the keys".into());
                    return Err(e);
                }
                parsed.push((k.to_owned(), v.to_owned()));
            }
            let p = store
                .update(&a.name, |p| parsed.iter().try_for_each(|(k, v)| p.set(k, v)))
                .map_err(store_error)?;
            if a.json {
                return print_profile(ui, &store, &p);
            }
            ui.note(format!("updated profile `{}`", p.name));
            Ok(Exit::Ok)
        }
        ProfileCmd::Rm(a) => {
            let name = store.remove(&a.name).map_err(store_error)?;
            ui.note(format!("removed profile `{name}`"));
            Ok(Exit::Ok)
        }
        ProfileCmd::Rename(a) => {
            let new = profile_name(&a.new)?;
            let (existing, _) = store.names().map_err(store_error)?;
            let old = store.rename(&a.old, &new).map_err(store_error)?;
            let others: Vec<_> = existing.into_iter().filter(|e| e.key() != old.key()).collect();
            warn_look_alike(ui, &new, &others);
            ui.note(format!("renamed profile `{old}` to `{new}`"));
            Ok(Exit::Ok)
        }
    }
}

/// `profile show --json` (also `add --json`, `set --json`).
fn print_profile(ui: &mut Ui, store: &rdpl_profiles::store::Store, p: &Profile) -> CmdResult {
    let doc = ProfileShowJson {
        version: JSON_VERSION,
        path: store.path_of(&p.name).display().to_string(),
        profile: ProfileJson::from(p),
    };
    print_json(ui, &doc)?;
    Ok(Exit::Ok)
}

fn build(a: &ProfileAddArgs) -> Result<Profile, CliError> {
    let name = profile_name(&a.name)?;
    let target: TargetAddr = a
        .host
        .parse()
        .map_err(|e| CliError::usage(anyhow!("--host: {e}")))?;
    let mut p = Profile::new(name, target.host.clone());
    if let Some(port) = target.port {
        p.port = port;
    }
    if let Some(port) = a.port {
        p.port = Port::new(port).ok_or_else(|| CliError::usage(anyhow!("--port: 0 is not a usable port")))?;
    }
    let mut settings: Vec<(&str, String)> = Vec::new();
    if !a.fallbacks.is_empty() {
        settings.push(("fallback", a.fallbacks.join(",")));
    }
    let optional = [
        ("alternate", &a.alternate),
        ("user", &a.user),
        ("domain", &a.domain),
        ("gateway", &a.gateway),
        ("nla", &a.nla),
        ("udp", &a.udp),
        ("backend", &a.backend),
    ];
    for (k, v) in optional {
        if let Some(v) = v {
            settings.push((k, v.clone()));
        }
    }
    for (k, v) in settings {
        let flag = if k == "backend" { "with" } else { k };
        p.set(k, &v)
            .map_err(|e| CliError::usage(anyhow!("--{flag}: {}", e.trim_start_matches(&format!("{k}: ")))))?;
    }
    Ok(p)
}

fn list(config: &Config, ui: &mut Ui, json: bool) -> CmdResult {
    let (profiles, errors) = config.store().load_all().map_err(store_error)?;
    if json {
        let doc = ProfileListJson {
            version: JSON_VERSION,
            profiles: profiles.iter().map(ProfileJson::from).collect(),
            errors: errors
                .iter()
                .map(|e| ProfileErrorJson { message: chain(e) })
                .collect(),
        };
        print_json(ui, &doc)?;
    } else if profiles.is_empty() && errors.is_empty() {
        ui.note("no profiles yet: add one with `rdpl profile add NAME --host HOST`");
    } else {
        let rows: Vec<[String; 4]> = profiles
            .iter()
            .map(|p| {
                let user = match (&p.domain, &p.user) {
                    (Some(d), Some(u)) => format!("{d}\\{u}"),
                    (None, Some(u)) => u.clone(),
                    _ => String::new(),
                };
                let gw = p.gateway.as_ref().map(|g| g.host.to_string()).unwrap_or_default();
                [p.name.to_string(), p.target().to_string(), user, gw].map(|c| shown(&c).to_string())
            })
            .collect();
        let header = ["NAME", "TARGET", "USER", "GATEWAY"].map(str::to_owned);
        let mut widths = header.clone().map(|h| h.chars().count());
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |r: &[String; 4]| {
            let mut s = String::new();
            for (i, (c, w)) in r.iter().zip(widths).enumerate() {
                if i + 1 == r.len() {
                    s.push_str(c);
                } else {
                    s.push_str(&format!("{c:<w$}  "));
                }
            }
            s.trim_end().to_owned()
        };
        let b = style::BOLD;
        outln!(ui, "{b}{}{b:#}", line(&header));
        for r in &rows {
            outln!(ui, "{}", line(r));
        }
    }
    if errors.is_empty() {
        return Ok(Exit::Ok);
    }
    for e in &errors {
        let r = style::ERR;
        let _ = writeln!(ui.err, "{r}error{r:#}: {}", message(&chain(e)));
    }
    let _ = writeln!(
        ui.err,
        "help: fix or remove the files above; rdpl never overwrites a file it cannot read"
    );
    Ok(Exit::Usage)
}

fn show(ui: &mut Ui, p: &Profile) {
    let b = style::BOLD;
    let on = |x: bool| if x { "on" } else { "off" };
    let opt = |o: Option<String>| o.unwrap_or_else(|| "-".into());
    let opt = |o: Option<String>| shown(&opt(o)).to_string();
    outln!(ui, "{b}{}{b:#}", shown(p.name.as_str()));
    outln!(ui, "  target     {}", shown(&p.target().to_string()));
    if !p.fallbacks.is_empty() {
        outln!(
            ui,
            "  fallback   {}",
            shown(
                &p.fallbacks
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        );
    }
    if let Some(a) = &p.alternate {
        outln!(ui, "  alternate  {}", shown(&a.to_string()));
    }
    if let Some(s) = &p.sign {
        match &s.key {
            Some(k) => outln!(
                ui,
                "  sign       {} (key {})",
                shown(&s.cert.display().to_string()),
                shown(&k.display().to_string())
            ),
            None => outln!(ui, "  sign       {}", shown(&s.cert.display().to_string())),
        }
    }
    outln!(ui, "  user       {}", opt(p.user.clone()));
    outln!(ui, "  domain     {}", opt(p.domain.clone()));
    if let Some(c) = &p.password_command {
        outln!(ui, "  password   from `{c}` (password.command)");
    }
    outln!(
        ui,
        "  gateway    {}",
        opt(p.gateway.as_ref().map(|g| match g.account() {
            Some(acct) => format!("{}:{} ({}, as {acct})", g.host, g.port, g.usage),
            None => format!("{}:{} ({})", g.host, g.port, g.usage),
        }))
    );
    outln!(
        ui,
        "  security   nla={} udp={} link={} tls.legacy={}",
        p.security.nla,
        p.security.udp,
        p.security.link,
        p.security.tls_legacy
    );
    let r = &p.redirect;
    let drives = if r.drives.is_empty() {
        "off".to_owned()
    } else {
        shown(&r.drives.join(",")).to_string()
    };
    outln!(
        ui,
        "  redirect   clipboard={} drives={drives} printers={} smart_cards={} ports={} usb={} cameras={} \
         webauthn={} pos_devices={} location={} microphone={} audio={}",
        on(r.clipboard),
        on(r.printers),
        on(r.smart_cards),
        on(r.ports),
        on(r.usb),
        on(r.cameras),
        on(r.webauthn),
        on(r.pos_devices),
        on(r.location),
        on(r.microphone),
        r.audio
    );
    let d = &p.display;
    let size = match (d.width, d.height) {
        (Some(w), Some(h)) => format!("{w}x{h}"),
        _ => "client default".into(),
    };
    outln!(
        ui,
        "  display    {size} full_screen={} multimon={}",
        on(d.full_screen),
        on(d.multimon)
    );
    outln!(ui, "  backend    {}", p.client());
    for (k, v) in &p.extra {
        outln!(
            ui,
            "  rdp        {}:{}:{}",
            shown(k),
            v.ty().letter(),
            shown(&v.to_wire())
        );
    }
}

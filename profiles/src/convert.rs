//! Profiles to .rdp properties and back.
//!
//! - [`to_document`]: the properties a profile implies (offline: before any pre-flight decision).
//! - [`from_rdp`]: a profile from a *sanitized* file, plus a note for everything not adopted, so an import
//!   never takes in what the sanitizer removed, and says what it left behind.

use std::str::FromStr;

use crate::name::{Host, Port, ProfileName, TargetAddr};
use crate::profile::{
    AudioPlayback, Gateway, GatewayUsage, Profile, Redirect, Tri, check_account_field, check_extra,
};
use crate::rdp::Value;
use crate::rdp::catalogue::{self, Risk};
use crate::rdp::render::{RdpDocument, RenderError};
use crate::rdp::sanitize::{Policy, Sanitized};

/// The redirection properties a profile's policy allows, for [`Policy`].
pub fn redirect_policy(r: &Redirect) -> Policy {
    let mut policy = Policy::strict();
    let allowed = [
        ("redirectclipboard", r.clipboard),
        ("drivestoredirect", !r.drives.is_empty()),
        ("redirectdrives", !r.drives.is_empty()),
        ("redirectprinters", r.printers),
        ("redirectsmartcards", r.smart_cards),
        ("redirectcomports", r.ports),
        ("devicestoredirect", r.usb),
        ("usbdevicestoredirect", r.usb),
        ("camerastoredirect", r.cameras),
        ("redirectwebauthn", r.webauthn),
        ("redirectposdevices", r.pos_devices),
        ("redirectlocation", r.location),
        ("audiocapturemode", r.microphone),
    ];
    for (name, on) in allowed {
        if on && catalogue::lookup(name).is_some() {
            // Every name above is a Redirection-class property, so `allow` accepts it.
            let _ = policy.allow(name);
        }
    }
    policy
}

fn set(doc: &mut RdpDocument, name: &str, v: Value) -> Result<(), RenderError> {
    doc.set(name, v)
}

fn flag(b: bool) -> Value {
    Value::Int(i64::from(b))
}

/// The .rdp properties of a profile, before pre-flight. Redirections are written explicitly (on or off).
/// Fails when a field can't be written safely (a control character in a user name, say).
pub fn to_document(p: &Profile) -> Result<RdpDocument, RenderError> {
    let mut d = RdpDocument::new();
    for (name, value) in &p.extra {
        set(&mut d, name, value.clone())?;
    }
    // mstsc names its saved credentials after `full address` as written: keep the default port implicit.
    let address = if p.port == Port::RDP {
        TargetAddr {
            host: p.host.clone(),
            port: None,
        }
    } else {
        p.target()
    };
    set(&mut d, "full address", Value::Str(address.to_string()))?;
    if let Some(alt) = &p.alternate {
        set(&mut d, "alternate full address", Value::Str(alt.to_string()))?;
    }
    if let Some(user) = &p.user {
        set(&mut d, "username", Value::Str(user.clone()))?;
    }
    if let Some(domain) = &p.domain {
        set(&mut d, "domain", Value::Str(domain.clone()))?;
    }
    match p.security.nla {
        Tri::Off => set(&mut d, "enablecredsspsupport", Value::Int(0))?,
        Tri::On | Tri::Auto => set(&mut d, "enablecredsspsupport", Value::Int(1))?,
    }
    set(&mut d, "authentication level", Value::Int(2))?;
    set(&mut d, "negotiate security layer", Value::Int(1))?;
    if p.security.udp == Tri::Off {
        set(&mut d, "disableudptransport", Value::Int(1))?;
    }
    if let Some(g) = &p.gateway {
        let host = if g.port == Port::HTTPS {
            g.host.to_string()
        } else {
            format!("{}:{}", g.host, g.port)
        };
        set(&mut d, "gatewayhostname", Value::Str(host))?;
        set(&mut d, "gatewayusagemethod", Value::Int(g.usage.rdp_value()))?;
        set(&mut d, "gatewayprofileusagemethod", Value::Int(1))?;
        set(&mut d, "gatewaycredentialssource", Value::Int(4))?;
        if let Some(acct) = g.account() {
            set(&mut d, "gatewayusername", Value::Str(acct))?;
        }
    }
    let r = &p.redirect;
    set(&mut d, "redirectclipboard", flag(r.clipboard))?;
    // mstsc's forms: `*` for every drive (no separator), else each drive followed by `;` (`C:\;D:\;`).
    let drives = if r.drives.iter().any(|x| x == "*") {
        "*".to_owned()
    } else {
        r.drives.iter().map(|x| format!("{x};")).collect()
    };
    set(&mut d, "drivestoredirect", Value::Str(drives))?;
    // The older boolean must agree, or a client that reads it would contradict `drivestoredirect`.
    set(&mut d, "redirectdrives", flag(!r.drives.is_empty()))?;
    set(&mut d, "redirectprinters", flag(r.printers))?;
    set(&mut d, "redirectsmartcards", flag(r.smart_cards))?;
    set(&mut d, "redirectcomports", flag(r.ports))?;
    let usb = if r.usb { "*" } else { "" };
    set(&mut d, "devicestoredirect", Value::Str(usb.into()))?;
    set(&mut d, "usbdevicestoredirect", Value::Str(usb.into()))?;
    set(
        &mut d,
        "camerastoredirect",
        Value::Str(if r.cameras { "*" } else { "" }.into()),
    )?;
    set(&mut d, "redirectwebauthn", flag(r.webauthn))?;
    set(&mut d, "redirectposdevices", flag(r.pos_devices))?;
    set(&mut d, "redirectlocation", flag(r.location))?;
    set(&mut d, "audiocapturemode", flag(r.microphone))?;
    set(&mut d, "audiomode", Value::Int(r.audio.rdp_value()))?;
    // Anything else the catalogue classes as redirection (newer properties) is off.
    for spec in catalogue::all().iter().filter(|s| s.risk == Risk::Redirection) {
        if d.get(spec.name).is_none() {
            set(&mut d, spec.name, crate::rdp::sanitize::off_value(spec.ty))?;
        }
    }
    let disp = &p.display;
    set(
        &mut d,
        "screen mode id",
        Value::Int(if disp.full_screen { 2 } else { 1 }),
    )?;
    if let Some(w) = disp.width {
        set(&mut d, "desktopwidth", Value::Int(i64::from(w)))?;
    }
    if let Some(h) = disp.height {
        set(&mut d, "desktopheight", Value::Int(i64::from(h)))?;
    }
    set(&mut d, "use multimon", flag(disp.multimon))?;
    Ok(d)
}

/// Why a file could not become a profile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the file has no `full address`, so there is nothing to connect to")]
    NoAddress,
    #[error("`full address` is not a usable address: {0}")]
    BadAddress(String),
}

/// What an import did not adopt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportNote {
    /// The .rdp property.
    pub name: String,
    /// Why it was not adopted, or how it was mapped.
    pub message: String,
}

/// The result of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The new profile.
    pub profile: Profile,
    /// Notes on properties that were not adopted or were adopted differently.
    pub notes: Vec<ImportNote>,
}

/// Builds a profile from a sanitized file. Redirections are adopted only where the sanitizer let them
/// through (the policy or `--allow`); everything else gets the profile defaults.
pub fn from_rdp(name: ProfileName, s: &Sanitized) -> Result<Imported, ImportError> {
    let d = &s.document;
    let mut notes = Vec::new();
    let mut note = |name: &str, message: String| {
        notes.push(ImportNote {
            name: name.to_owned(),
            message,
        })
    };
    let str_of = |n: &str| {
        d.get(n)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let int_of = |n: &str| d.get(n).and_then(Value::as_int);

    let address = str_of("full address").ok_or(ImportError::NoAddress)?;
    let target = TargetAddr::from_str(&address).map_err(|e| ImportError::BadAddress(e.to_string()))?;
    if !address.is_ascii() {
        // The address is shown and used in its ASCII (punycode) form; a mix of scripts is how look-alikes of
        // a real server's name are made.
        let message = if crate::name::Host::mixed_script(&address) {
            format!(
                "warning: `{address}` mixes alphabets the way look-alike names do; rdpl connects to {} (its real name): make sure that is the server you mean",
                target.host
            )
        } else {
            format!("`{address}` is the international name {}", target.host)
        };
        note("full address", message);
    }
    let mut p = Profile::new(name, target.host.clone());
    p.port = match (target.port, int_of("server port")) {
        (Some(port), _) => port,
        (None, Some(sp)) => u16::try_from(sp).ok().and_then(Port::new).unwrap_or(Port::RDP),
        (None, None) => Port::RDP,
    };
    if let Some(alt) = str_of("alternate full address") {
        match TargetAddr::from_str(&alt) {
            Ok(a) => p.alternate = Some(a),
            Err(e) => note("alternate full address", format!("not adopted: {e}")),
        }
    }
    if let Some(user) = str_of("username") {
        // mstsc accepts DOMAIN\user in `username`; keep the domain apart.
        let (dom, user) = match user.split_once('\\') {
            Some((dom, u)) if !dom.is_empty() && !u.is_empty() => (Some(dom.to_owned()), u.to_owned()),
            _ => (None, user),
        };
        match check_account_field("user", &user) {
            Ok(()) => p.user = Some(user),
            Err(e) => note("username", format!("not adopted: {e}")),
        }
        if let Some(dom) = dom {
            p.domain = Some(dom);
        }
    }
    if let Some(domain) = str_of("domain") {
        match check_account_field("domain", &domain) {
            Ok(()) => p.domain = Some(domain),
            Err(e) => note("domain", format!("not adopted: {e}")),
        }
    }
    let usage = int_of("gatewayusagemethod")
        .and_then(GatewayUsage::from_rdp)
        .unwrap_or_default();
    if let Some(gw) = str_of("gatewayhostname") {
        match TargetAddr::from_str(&gw) {
            Ok(t) => {
                let port = t.port_or(Port::HTTPS);
                let mut g = Gateway::new(t.host, port);
                g.usage = usage;
                if let Some(acct) = str_of("gatewayusername").filter(|a| !a.is_empty()) {
                    let (domain, user) = match acct.split_once('\\') {
                        Some((d, u)) => (Some(d.to_owned()), u.to_owned()),
                        None => (None, acct.clone()),
                    };
                    let ok = check_account_field("gateway user", &user).and_then(|()| {
                        domain
                            .as_deref()
                            .map_or(Ok(()), |d| check_account_field("gateway domain", d))
                    });
                    match ok {
                        Ok(()) => (g.user, g.domain) = (Some(user), domain),
                        Err(e) => note("gatewayusername", format!("not adopted: {e}")),
                    }
                }
                p.gateway = Some(g);
            }
            Err(e) => note("gatewayhostname", format!("not adopted: {e}")),
        }
    }
    if int_of("enablecredsspsupport") == Some(0) {
        note(
            "enablecredsspsupport",
            "the file turned NLA off; the profile keeps nla=auto, so rdpl turns NLA off only when the server \
             offers none (set nla=off to force)"
                .into(),
        );
    }
    if int_of("disableudptransport") == Some(1) {
        p.security.udp = Tri::Off;
    }
    p.redirect = redirect_from(d);
    let disp = &mut p.display;
    disp.full_screen = int_of("screen mode id") == Some(2);
    disp.multimon = int_of("use multimon") == Some(1);
    disp.width = int_of("desktopwidth").and_then(|w| u32::try_from(w).ok());
    disp.height = int_of("desktopheight").and_then(|h| u32::try_from(h).ok());

    const MAPPED: &[&str] = &[
        "full address",
        "server port",
        "alternate full address",
        "username",
        "domain",
        "gatewayhostname",
        "gatewayusagemethod",
        "gatewayusername",
        "enablecredsspsupport",
        "disableudptransport",
        "screen mode id",
        "use multimon",
        "desktopwidth",
        "desktopheight",
    ];
    for (name, value) in d.iter() {
        if MAPPED.contains(&name) {
            continue;
        }
        let Some(spec) = catalogue::lookup(name) else {
            continue;
        };
        match spec.risk {
            Risk::Low => {
                if check_extra(name, value).is_ok() {
                    p.extra.insert(name.to_owned(), value.clone());
                }
            }
            Risk::Redirection => {} // mapped by redirect_from
            Risk::Connection | Risk::Security | Risk::High => note(
                name,
                "not kept in the profile: rdpl decides this itself (pre-flight and plan) or has no setting for it"
                    .into(),
            ),
            Risk::Credential | Risk::Signature => {}
        }
    }
    Ok(Imported { profile: p, notes })
}

fn redirect_from(d: &RdpDocument) -> Redirect {
    let on = |n: &str| {
        d.get(n).is_some_and(|v| {
            matches!(v, Value::Int(i) if *i != 0) || matches!(v, Value::Str(s) if !s.is_empty())
        })
    };
    let drives = match d.get("drivestoredirect").and_then(Value::as_str) {
        Some(s) if !s.is_empty() => s
            .split(';')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
            .collect(),
        _ if on("redirectdrives") => vec!["*".to_owned()],
        _ => Vec::new(),
    };
    Redirect {
        clipboard: on("redirectclipboard"),
        drives,
        printers: on("redirectprinters"),
        smart_cards: on("redirectsmartcards"),
        ports: on("redirectcomports"),
        usb: on("devicestoredirect") || on("usbdevicestoredirect"),
        cameras: on("camerastoredirect"),
        webauthn: on("redirectwebauthn"),
        pos_devices: on("redirectposdevices"),
        location: on("redirectlocation"),
        microphone: on("audiocapturemode"),
        audio: match d.get("audiomode").and_then(Value::as_int) {
            Some(0) => AudioPlayback::Local,
            Some(1) => AudioPlayback::Remote,
            _ => AudioPlayback::Off,
        },
    }
}

/// The profile name an import suggests: the file's stem, else the host.
pub fn suggested_name(file_stem: Option<&str>, host: &Host) -> Option<ProfileName> {
    file_stem
        .and_then(ProfileName::sanitized_from)
        .or_else(|| ProfileName::sanitized_from(&host.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdp::RdpFile;
    use crate::rdp::decode::Encoding;
    use crate::rdp::sanitize::sanitize;

    fn import(text: &str, policy: &Policy) -> Result<Imported, ImportError> {
        let f = RdpFile::parse_text(text, Encoding::Ascii);
        from_rdp("t".parse().expect("name"), &sanitize(&f, policy))
    }

    #[test]
    fn maps_what_it_understands() {
        let i = import(
            "full address:s:web01.corp:3390\nusername:s:CORP\\alice\ngatewayhostname:s:gw.corp:8443\n\
             gatewayusagemethod:i:2\ngatewayusername:s:GW\\gwadmin\nscreen mode id:i:2\ndesktopwidth:i:1280\nsession bpp:i:24\n\
             redirectclipboard:i:1\ndrivestoredirect:s:*\ndisableudptransport:i:1\n",
            &Policy::strict(),
        )
        .expect("imports");
        let p = i.profile;
        assert_eq!(p.target().to_string(), "web01.corp:3390");
        assert_eq!(
            (p.user.as_deref(), p.domain.as_deref()),
            (Some("alice"), Some("CORP"))
        );
        let gw = p.gateway.expect("gateway");
        assert_eq!(
            (gw.host.to_string(), gw.port.get(), gw.usage),
            ("gw.corp".into(), 8443, GatewayUsage::Detect)
        );
        // The gateway's own account (`gatewayusername`, DOMAIN\user) survives the sanitizer and the import, and
        // is written back.
        assert_eq!(
            (gw.user.as_deref(), gw.domain.as_deref()),
            (Some("gwadmin"), Some("GW"))
        );
        let mut back = Profile::new("t".parse().expect("name"), p.host.clone());
        back.gateway = Some(gw);
        assert!(
            to_document(&back)
                .expect("render")
                .to_text()
                .contains("gatewayusername:s:GW\\gwadmin"),
            "written back"
        );
        assert!(p.display.full_screen);
        assert_eq!(p.display.width, Some(1280));
        assert_eq!(p.extra.get("session bpp"), Some(&Value::Int(24)));
        assert_eq!(p.security.udp, Tri::Off);
        // The strict sanitizer forced the redirections off, so the profile has none.
        assert!(!p.redirect.clipboard && p.redirect.drives.is_empty());
    }

    #[test]
    fn every_drive_is_written_as_a_bare_star() {
        let mut p = Profile::new("x".parse().expect("name"), Host::Name("h.test".into()));
        p.redirect.drives = vec!["*".into()];
        let text = to_document(&p).expect("render").to_text();
        assert!(
            text.contains("drivestoredirect:s:*\r\n") || text.contains("drivestoredirect:s:*\n"),
            "{text}"
        );
        assert!(!text.contains("drivestoredirect:s:*;"), "{text}");
        p.redirect.drives = vec!["C:".into(), "D:".into()];
        assert!(
            to_document(&p)
                .expect("render")
                .to_text()
                .contains("drivestoredirect:s:C:;D:;")
        );
    }

    #[test]
    fn allowed_redirections_are_adopted() {
        let mut policy = Policy::strict();
        policy.allow("drivestoredirect").expect("allow");
        let i = import("full address:s:h\ndrivestoredirect:s:C:\\;D:\\;\n", &policy).expect("imports");
        assert_eq!(
            i.profile.redirect.drives,
            vec!["C:\\".to_owned(), "D:\\".to_owned()]
        );
    }

    #[test]
    fn a_look_alike_address_is_imported_as_punycode_with_a_warning() {
        let i = import("full address:s:rdp.p\u{0430}ypal.com\n", &Policy::strict()).expect("imports");
        assert_eq!(i.profile.host.to_string(), "rdp.xn--pypal-4ve.com");
        let n = i.notes.iter().find(|n| n.name == "full address").expect("a note");
        assert!(
            n.message.starts_with("warning: ") && n.message.contains("rdp.xn--pypal-4ve.com"),
            "{}",
            n.message
        );
        let i = import("full address:s:bücher.corp.test\n", &Policy::strict()).expect("imports");
        assert_eq!(i.profile.host.to_string(), "xn--bcher-kva.corp.test");
        assert!(
            i.notes.iter().all(|n| !n.message.starts_with("warning")),
            "{:?}",
            i.notes
        );
    }

    #[test]
    fn refuses_files_without_an_address() {
        assert_eq!(
            import("session bpp:i:32\n", &Policy::strict()).map(|_| ()),
            Err(ImportError::NoAddress)
        );
        assert_eq!(
            import("full address:s:\n", &Policy::strict()).map(|_| ()),
            Err(ImportError::NoAddress)
        );
        assert!(matches!(
            import("full address:s:bad host\n", &Policy::strict()),
            Err(ImportError::BadAddress(_))
        ));
    }

    #[test]
    fn exported_profile_survives_sanitizing_under_its_own_policy() {
        let mut p = Profile::new("x".parse().expect("name"), Host::Name("h.test".into()));
        p.redirect.drives = vec!["C:".into()];
        p.redirect.printers = true;
        let doc = to_document(&p).expect("renders");
        let reparsed = RdpFile::from_bytes(&doc.to_bytes()).expect("decodes");
        let s = sanitize(&reparsed, &redirect_policy(&p.redirect));
        assert_eq!(s.document, doc, "the sanitizer must not change rdpl's own output");
        let back = from_rdp("x".parse().expect("name"), &s).expect("imports").profile;
        assert_eq!(back.redirect, p.redirect);
        assert_eq!(back.target(), p.target());
    }
}

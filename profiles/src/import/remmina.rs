//! Remmina `.remmina` files: a GLib key file, one connection in the group `[remmina]`.
//!
//! Key names and values as Remmina (github.com/FreeRDP/Remmina) reads them: `src/remmina_file.c` (the group
//! `remmina`, `name`, `protocol`, `group`, `server`; secrets such as `password` are stored encrypted) and
//! `plugins/rdp/rdp_plugin.c` (`username`, `domain`, `security` = ``/`nla`/`tls`/`rdp`/`ext`,
//! `gateway_server` as `host[:port]` with 443 by default, `gateway_usage` = 1 for "detect", else direct,
//! `gateway_username`/`gateway_domain` (the gateway's own account), `sound` = `off`/`local`/`remote`, `microphone`, `disableclipboard`,
//! `shareprinter`, `sharesmartcard`, `sharefolder`/`drive`, `usb`, `shareserial`/`shareparallel`,
//! `multimon`, `colordepth`, `cert_ignore`), and `src/remmina_file_editor.c` with `include/remmina/types.h`
//! for `resolution_mode` (0 custom, 1 client's size, 2 initial window size) and
//! `resolution_width`/`resolution_height`.

use super::common::{Batch, Draft, Format, ManagerError, Skipped, password_note, truthy};
use crate::convert::ImportNote;
use crate::rdp::sanitize::Policy;

/// The `[remmina]` group as `(key, value)` pairs in file order (later duplicates win, as GLib does).
fn group(text: &str) -> Option<Vec<(String, String)>> {
    let mut in_group = false;
    let mut found = false;
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line
            .trim_end()
            .strip_prefix('[')
            .and_then(|l| l.strip_suffix(']'))
        {
            in_group = name == "remmina";
            found |= in_group;
            continue;
        }
        if !in_group {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        // Localised variants (`name[de]=`) are for display only.
        if key.contains('[') {
            continue;
        }
        let value = unescape(value.trim_start());
        out.retain(|(k, _)| k != key);
        out.push((key.to_owned(), value));
    }
    found.then_some(out)
}

/// GLib key file escapes: `\s` `\n` `\t` `\r` `\\`.
fn unescape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('s') => out.push(' '),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            // Not an escape GLib writes: keep it as it is.
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Keys that only describe Remmina's own window or bookkeeping: not settings of the connection.
const UI_STATE: &[&str] = &[
    "window_width",
    "window_height",
    "window_maximize",
    "viewmode",
    "scale",
    "toolbar_opacity",
    "last_success",
    "labels",
    "notes_text",
    "enable-autostart",
    "profile-lock",
    "showcursor",
    "dynamic_resolution_width",
    "dynamic_resolution_height",
    "precommand",
    "postcommand",
];

pub(super) fn read(text: &str, policy: &Policy) -> Result<Batch, ManagerError> {
    let pairs = group(text).ok_or(ManagerError::Missing {
        format: Format::Remmina,
        what: "a [remmina] group",
    })?;
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let name = get("name").unwrap_or("");
    let source = match get("group") {
        Some(g) => format!("{g}/{name}"),
        None => name.to_owned(),
    };
    let mut batch = Batch {
        format: Format::Remmina,
        entries: Vec::new(),
        skipped: Vec::new(),
        notes: Vec::new(),
    };
    let protocol = get("protocol").unwrap_or("RDP");
    if !protocol.eq_ignore_ascii_case("RDP") {
        batch.skipped.push(Skipped {
            source,
            reason: format!("a {protocol} connection; rdpl imports RDP connections only"),
        });
        return Ok(batch);
    }
    let mut d = match Draft::new(get("server").unwrap_or(""), None, policy) {
        Ok(d) => d,
        Err(why) => {
            batch.skipped.push(Skipped {
                source,
                reason: format!("`server`: {why}"),
            });
            return Ok(batch);
        }
    };
    let mut ui_state = Vec::new();
    for (key, value) in &pairs {
        let (k, v) = (key.as_str(), value.as_str());
        if v.is_empty() {
            continue;
        }
        match k {
            "name" | "group" | "protocol" | "server" => {}
            "username" => d.user(k, v),
            "domain" => d.set(k, "domain", v),
            "gateway_server" => {
                let usage = if get("gateway_usage").is_some_and(truthy) {
                    "detect"
                } else {
                    "always"
                };
                d.gateway(k, v, usage);
            }
            "gateway_usage" => {
                if get("gateway_server").is_none() && truthy(v) {
                    d.note(k, "ignored: there is no gateway_server");
                }
            }
            // After the loop: the gateway must be set first, wherever the key is in the file.
            "gateway_username" | "gateway_domain" => {}
            "gwtransp" | "websockets" => d.note(
                k,
                "not adopted: rdpl's clients choose the gateway transport themselves",
            ),
            "security" => match v.to_ascii_lowercase().as_str() {
                "nla" | "ext" => d.set(k, "nla", "on"),
                "tls" => d.set(k, "nla", "off"),
                "rdp" => {
                    d.set(k, "nla", "off");
                    d.note(
                        k,
                        "standard RDP security (no TLS) is not a profile setting: rdpl negotiates TLS; nla=off",
                    );
                }
                _ => d.note(k, format!("unknown value `{v}`: nla stays auto")),
            },
            "resolution_mode" | "resolution_width" | "resolution_height" => {}
            "sound" => match v {
                "local" | "remote" | "off" => d.set(k, "redirect.audio", v),
                // Remmina treats every `local…` value as local playback.
                x if x.starts_with("local") => d.set(k, "redirect.audio", "local"),
                _ => d.note(k, format!("unknown value `{v}`: audio stays off")),
            },
            "microphone" => {
                let on = v != "0";
                d.redirect(k, "redirect.microphone", "audiocapturemode", on.then_some("on"));
            }
            "disableclipboard" => {}
            "shareprinter" => d.redirect(
                k,
                "redirect.printers",
                "redirectprinters",
                truthy(v).then_some("on"),
            ),
            "sharesmartcard" => d.redirect(
                k,
                "redirect.smart_cards",
                "redirectsmartcards",
                truthy(v).then_some("on"),
            ),
            "shareserial" | "shareparallel" => {
                d.redirect(k, "redirect.ports", "redirectcomports", truthy(v).then_some("on"))
            }
            "sharefolder" | "drive" => {
                d.redirect(k, "redirect.drives", "drivestoredirect", Some("*"));
                d.note(
                    k,
                    format!(
                        "Remmina shares the folder `{v}`; a profile shares drives as a whole (redirect.drives=*, \
                         which xfreerdp turns into the home directory)"
                    ),
                );
            }
            "usb" => d.redirect(k, "redirect.usb", "usbdevicestoredirect", Some("on")),
            "multimon" => d.set(k, "display.multimon", if truthy(v) { "on" } else { "off" }),
            "colordepth" => match v {
                "8" | "15" | "16" | "24" | "32" => d.set(k, "rdp.session bpp", v),
                // 99 = automatic; 63/64/65/66 are RemoteFX/GFX modes that have no .rdp property.
                "99" | "0" => {}
                _ => d.note(k, format!("not adopted (`{v}`): no matching .rdp colour depth")),
            },
            "cert_ignore" | "ignore-tls-errors" => {
                if truthy(v) {
                    d.note(
                        k,
                        "not adopted: rdpl never ignores certificates; it checks them and pins them on first use",
                    );
                }
            }
            k if k == "password" || k.ends_with("_password") || k.ends_with("password") => {
                batch.notes.push(ImportNote {
                    name: k.to_owned(),
                    message: password_note("Remmina stores this password encrypted with its own key"),
                });
            }
            k if UI_STATE.contains(&k) => ui_state.push(k),
            _ => {
                if v != "0" {
                    d.note(k, format!("not adopted (`{v}`): rdpl has no setting for this"));
                }
            }
        }
    }
    // The gateway's own account (Remmina keeps its password encrypted apart: `rdpl creds set --gateway`).
    for (k, key) in [
        ("gateway_username", "gateway.user"),
        ("gateway_domain", "gateway.domain"),
    ] {
        if let Some(v) = get(k).filter(|v| !v.is_empty()) {
            if d.profile().gateway.is_some() {
                d.set(k, key, v);
            } else {
                d.note(k, "ignored: there is no gateway_server");
            }
        }
    }
    if !ui_state.is_empty() {
        d.note(
            "remmina",
            format!("Remmina's own window state is not kept ({})", ui_state.join(", ")),
        );
    }
    if get("disableclipboard").is_some_and(truthy) {
        d.redirect(
            "disableclipboard",
            "redirect.clipboard",
            "redirectclipboard",
            None,
        );
    } else {
        d.redirect(
            "disableclipboard",
            "redirect.clipboard",
            "redirectclipboard",
            Some("on"),
        );
    }
    resolution(
        &mut d,
        get("resolution_mode"),
        get("resolution_width"),
        get("resolution_height"),
    );
    let display = if name.is_empty() {
        d.profile().host.to_string()
    } else {
        name.to_owned()
    };
    let source = if source.is_empty() {
        display.clone()
    } else {
        source
    };
    batch.entries.push(d.finish(&display, source));
    Ok(batch)
}

fn resolution(d: &mut Draft<'_>, mode: Option<&str>, w: Option<&str>, h: Option<&str>) {
    // Files from before `resolution_mode` have only the size; a size means a fixed one.
    let custom = match mode {
        Some("0") => true,
        None => w.is_some() && h.is_some(),
        Some(_) => false,
    };
    if custom {
        match (w, h) {
            (Some(w), Some(h)) if w != "0" && h != "0" => {
                d.set("resolution_width", "display.width", w);
                d.set("resolution_height", "display.height", h);
            }
            _ => d.note(
                "resolution_mode",
                "custom resolution without a size: none adopted",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{Format, read as read_any};
    use crate::profile::{AudioPlayback, GatewayUsage, Tri};

    const SAMPLE: &str = include_str!("../../tests/data/import/web01.remmina");

    fn allow(props: &[&str]) -> Policy {
        let mut p = Policy::strict();
        for a in props {
            p.allow(a).expect("allow");
        }
        p
    }

    #[test]
    fn maps_a_real_file() {
        let b = read_any(Format::Remmina, SAMPLE.as_bytes(), &Policy::strict()).expect("reads");
        assert_eq!(b.entries.len(), 1, "{b:#?}");
        let e = &b.entries[0];
        let p = &e.profile;
        assert_eq!(e.source, "Prod/Web 01");
        assert_eq!(p.name.as_str(), "Web-01");
        assert_eq!(p.target().to_string(), "web01.corp.example:3390");
        assert_eq!(
            (p.user.as_deref(), p.domain.as_deref()),
            (Some("alice"), Some("CORP"))
        );
        let gw = p.gateway.as_ref().expect("gateway");
        assert_eq!(
            (gw.host.to_string(), gw.port.get(), gw.usage),
            ("gw.corp.example".into(), 8443, GatewayUsage::Detect)
        );
        assert_eq!(p.security.nla, Tri::On);
        assert_eq!((p.display.width, p.display.height), (Some(1600), Some(900)));
        assert_eq!(p.redirect.audio, AudioPlayback::Local);
        // Strict policy: every redirection the file turned on is off, each with a note naming --allow.
        assert!(!p.redirect.printers && !p.redirect.smart_cards && p.redirect.drives.is_empty());
        assert!(!p.redirect.clipboard);
        for flag in [
            "redirectprinters",
            "redirectsmartcards",
            "drivestoredirect",
            "redirectclipboard",
        ] {
            assert!(
                e.notes
                    .iter()
                    .any(|n| n.message.contains(&format!("--allow {flag}"))),
                "{flag}: {:#?}",
                e.notes
            );
        }
        let noted = |k: &str| e.notes.iter().any(|n| n.name == k);
        assert!(noted("cert_ignore") && noted("keymap"));
        // The gateway's own account is kept (its password is never in the file: Remmina encrypts it apart).
        assert_eq!(
            (gw.user.as_deref(), gw.domain.as_deref()),
            (Some("gwuser"), Some("CORP"))
        );
        // The password is never carried, and the note says so without echoing it.
        assert!(
            b.notes
                .iter()
                .any(|n| n.name == "password" && n.message.contains("not imported"))
        );
        let all = format!("{b:?}");
        assert!(!all.contains("c2VjcmV0"), "the encrypted password leaked: {all}");
    }

    #[test]
    fn allowed_redirections_are_kept() {
        let policy = allow(&["redirectprinters", "drivestoredirect", "redirectclipboard"]);
        let b = read_any(Format::Remmina, SAMPLE.as_bytes(), &policy).expect("reads");
        let r = &b.entries[0].profile.redirect;
        assert!(r.printers && r.clipboard && !r.smart_cards);
        assert_eq!(r.drives, vec!["*".to_owned()]);
    }

    #[test]
    fn other_protocols_and_missing_servers_are_skipped() {
        let vnc = "[remmina]\nname=desk\nprotocol=VNC\nserver=desk:5900\n";
        let b = read_any(Format::Remmina, vnc.as_bytes(), &Policy::strict()).expect("reads");
        assert!(b.entries.is_empty());
        assert!(b.skipped[0].reason.contains("VNC"), "{:?}", b.skipped);
        let none = "[remmina]\nname=x\nprotocol=RDP\nserver=\n";
        let b = read_any(Format::Remmina, none.as_bytes(), &Policy::strict()).expect("reads");
        assert!(b.skipped[0].reason.contains("server"), "{:?}", b.skipped);
        assert!(read_any(Format::Remmina, b"[other]\nx=1\n", &Policy::strict()).is_err());
    }

    #[test]
    fn plain_options() {
        let text = "[remmina]\nserver=[2001:db8::5]:3391\nsecurity=rdp\nresolution_mode=1\n\
                    resolution_width=1024\nresolution_height=768\ndisableclipboard=1\nname=v6\\shost\n";
        let b = read_any(Format::Remmina, text.as_bytes(), &Policy::strict()).expect("reads");
        let e = &b.entries[0];
        assert_eq!(e.profile.name.as_str(), "v6-host");
        assert_eq!(e.profile.target().to_string(), "[2001:db8::5]:3391");
        assert_eq!(e.profile.security.nla, Tri::Off);
        assert_eq!(
            e.profile.display.width, None,
            "resolution_mode=1 is the client's size"
        );
        assert!(!e.profile.redirect.clipboard);
        assert!(
            !e.notes.iter().any(|n| n.name == "disableclipboard"),
            "{:#?}",
            e.notes
        );
    }
}

//! Remote Desktop Connection Manager (RDCMan) `.rdg` files: `<RDCMan>` / `<file>` / `<group>`... / `<server>`,
//! each level with optional settings elements that either carry their own values (`inherit="None"`) or take
//! the parent's (`inherit="FromParent"`, or the element left out).
//!
//! RDCMan is closed source; the element names and values here follow the files it writes, as the sample files
//! and the importer of mRemoteNG (github.com/mRemoteNG/mRemoteNG,
//! `Config/Serializers/MiscSerializers/RemoteDesktopConnectionManagerDeserializer.cs` and
//! `mRemoteNGTests/Resources/test_rdcman_v2_7_schema3.rdg`) show them: `properties/name` (the host) and
//! `properties/displayName`; `logonCredentials` (`userName`, `domain`, an encrypted `password`,
//! `profileName`); `connectionSettings` (`port`, `connectToConsole`, `startProgram`); `gatewaySettings`
//! (`enabled`, `hostName`, `logonMethod`, `localBypass`, `credSharing`, `userName`, `domain`, `password`);
//! `remoteDesktop` (`size` as `W x H`, `sameSizeAsClientArea`, `fullScreen`, `colorDepth`); `localResources`
//! (`audioRedirection` Client/Remote/NoSound or 0/1/2, `audioCaptureRedirection`, `keyboardHook`
//! Client/Remote/FullScreenClient, `redirectClipboard`, `redirectDrives` with `redirectDrivesList/item`,
//! `redirectPrinters`, `redirectPorts`, `redirectSmartCards`, `redirectPnpDevices`); `securitySettings`
//! (`authentication`). Schema 1 files (RDCMan 2.2) put a server's `name`/`displayName` directly in `<server>`.

use roxmltree::Node;

use super::common::{Batch, Draft, Format, ManagerError, Skipped, parse_xml, password_note, truthy};
use crate::convert::ImportNote;
use crate::rdp::sanitize::Policy;

type X<'a> = Node<'a, 'a>;

fn child<'a>(n: X<'a>, name: &str) -> Option<X<'a>> {
    n.children().find(|c| c.has_tag_name(name))
}

fn text<'a>(n: X<'a>, name: &str) -> Option<&'a str> {
    child(n, name)
        .and_then(|c| c.text())
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The settings element `name` in force for `node`: its own unless it inherits, then its group's, up to
/// `<file>`. `None` means RDCMan's defaults.
fn settings<'a>(node: X<'a>, name: &str) -> Option<X<'a>> {
    let mut n = node;
    loop {
        if let Some(s) = child(n, name)
            && !s
                .attribute("inherit")
                .is_some_and(|i| i.eq_ignore_ascii_case("FromParent"))
        {
            return Some(s);
        }
        if n.has_tag_name("file") {
            return None;
        }
        n = n.parent_element()?;
    }
}

/// The `properties` of a group or server (schema 3), or the element itself (schema 1).
fn properties(n: X<'_>) -> X<'_> {
    child(n, "properties").unwrap_or(n)
}

pub(super) fn read(text_in: &str, policy: &Policy) -> Result<Batch, ManagerError> {
    let doc = parse_xml(text_in)?;
    let root = doc.root_element();
    let file = (root.has_tag_name("RDCMan"))
        .then(|| child(root, "file"))
        .flatten()
        .ok_or(ManagerError::Missing {
            format: Format::RdcMan,
            what: "an RDCMan/file element",
        })?;
    let mut batch = Batch {
        format: Format::RdcMan,
        entries: Vec::new(),
        skipped: Vec::new(),
        notes: Vec::new(),
    };
    let mut with_password = 0;
    // Smart groups list servers by rule, not by containing them; `connected`, `favorites` and `recentlyUsed`
    // (outside `file`) only refer to servers.
    let servers = file
        .descendants()
        .filter(|n| n.has_tag_name("server") && !n.ancestors().any(|a| a.has_tag_name("smartGroup")));
    for server in servers {
        let props = properties(server);
        let host = text(props, "name").unwrap_or("");
        let fallback = if host.is_empty() { "(no host)" } else { host };
        let display = text(props, "displayName").unwrap_or(fallback);
        let source = super::common::source_path(
            std::iter::once(display).chain(
                server
                    .ancestors()
                    .skip(1)
                    .take_while(|a| !a.has_tag_name("file"))
                    .filter(|a| a.has_tag_name("group"))
                    .map(|g| text(properties(g), "name").unwrap_or("")),
            ),
        );
        let has_password = ["logonCredentials", "gatewaySettings"]
            .into_iter()
            .filter_map(|s| settings(server, s))
            .any(|s| text(s, "password").is_some());
        if has_password {
            with_password += 1;
        }
        match entry(server, host, policy) {
            Ok(d) => batch.entries.push(d.finish(display, source)),
            Err(reason) => batch.skipped.push(Skipped { source, reason }),
        }
    }
    if with_password > 0 {
        batch.notes.push(ImportNote {
            name: "password".into(),
            message: password_note(&format!(
                "{with_password} server(s) have a saved password, which RDCMan stores encrypted for this Windows \
                 user"
            )),
        });
    }
    Ok(batch)
}

fn entry<'p>(server: X<'_>, host: &str, policy: &'p Policy) -> Result<Draft<'p>, String> {
    let conn = settings(server, "connectionSettings");
    let port = conn.and_then(|c| text(c, "port"));
    let mut d = Draft::new(host, port, policy).map_err(|why| format!("`name`: {why}"))?;
    if let Some(c) = conn {
        if text(c, "connectToConsole").is_some_and(truthy) {
            d.note(
                "connectToConsole",
                "not adopted: rdpl connects to a normal session",
            );
        }
        for k in ["startProgram", "workingDir", "loadBalanceInfo"] {
            if let Some(v) = text(c, k) {
                d.note(k, format!("not adopted (`{v}`): rdpl has no setting for this"));
            }
        }
    }
    if let Some(cred) = settings(server, "logonCredentials") {
        match text(cred, "profileName") {
            Some(p) if !p.eq_ignore_ascii_case("Custom") => d.note(
                "logonCredentials",
                format!(
                    "uses RDCMan's credentials profile `{p}`, which is not imported; set user= and domain="
                ),
            ),
            _ => {
                if let Some(u) = text(cred, "userName") {
                    d.user("userName", u);
                }
                if let Some(dom) = text(cred, "domain") {
                    d.set("domain", "domain", dom);
                }
            }
        }
    }
    if let Some(gw) = settings(server, "gatewaySettings")
        && text(gw, "enabled").is_some_and(truthy)
    {
        match text(gw, "hostName") {
            Some(h) => {
                // "Bypass RD Gateway server for local addresses" is mstsc's "detect" (gatewayusagemethod 2).
                let usage = if text(gw, "localBypass").is_some_and(truthy) {
                    "detect"
                } else {
                    "always"
                };
                d.gateway("hostName", h, usage);
            }
            None => d.note(
                "gatewaySettings",
                "the gateway is enabled without a hostName: none adopted",
            ),
        }
        if let Some(m) = text(gw, "logonMethod").filter(|m| !m.eq_ignore_ascii_case("Any")) {
            d.note(
                "logonMethod",
                format!("not adopted (`{m}`): the client negotiates the gateway logon"),
            );
        }
        // Without credential sharing the gateway has its own account; its password goes to the keyring.
        let shares = text(gw, "credSharing").is_some_and(truthy);
        if !shares && d.profile().gateway.is_some() {
            if let Some(v) = text(gw, "userName") {
                d.set("gatewaySettings/userName", "gateway.user", v);
            }
            if let Some(v) = text(gw, "domain") {
                d.set("gatewaySettings/domain", "gateway.domain", v);
            }
        }
    }
    if let Some(rd) = settings(server, "remoteDesktop") {
        if text(rd, "fullScreen").is_some_and(truthy) {
            d.set("fullScreen", "display.full_screen", "on");
        }
        let client_size = text(rd, "sameSizeAsClientArea").is_some_and(truthy);
        if let Some(size) = text(rd, "size").filter(|_| !client_size) {
            match size.split_once('x') {
                Some((w, h)) => {
                    d.set("size", "display.width", w.trim());
                    d.set("size", "display.height", h.trim());
                }
                None => d.note("size", format!("not adopted (`{size}`): expected `W x H`")),
            }
        }
        if let Some(bpp) = text(rd, "colorDepth") {
            d.set("colorDepth", "rdp.session bpp", bpp);
        }
    }
    let res = settings(server, "localResources");
    let flag = |k: &str| res.and_then(|r| text(r, k)).is_some_and(truthy).then_some("on");
    // RDCMan shares the clipboard unless told not to.
    let clipboard = res.and_then(|r| text(r, "redirectClipboard")).is_none_or(truthy);
    d.redirect(
        "redirectClipboard",
        "redirect.clipboard",
        "redirectclipboard",
        clipboard.then_some("on"),
    );
    let drives = flag("redirectDrives").map(|_| {
        let list: Vec<&str> = res
            .and_then(|r| child(r, "redirectDrivesList"))
            .map(|l| {
                l.children()
                    .filter(|i| i.has_tag_name("item"))
                    .filter_map(|i| i.text())
                    .collect()
            })
            .unwrap_or_default();
        if list.is_empty() {
            "*".to_owned()
        } else {
            list.join(";")
        }
    });
    d.redirect(
        "redirectDrives",
        "redirect.drives",
        "drivestoredirect",
        drives.as_deref(),
    );
    d.redirect(
        "redirectPrinters",
        "redirect.printers",
        "redirectprinters",
        flag("redirectPrinters"),
    );
    d.redirect(
        "redirectPorts",
        "redirect.ports",
        "redirectcomports",
        flag("redirectPorts"),
    );
    d.redirect(
        "redirectSmartCards",
        "redirect.smart_cards",
        "redirectsmartcards",
        flag("redirectSmartCards"),
    );
    d.redirect(
        "redirectPnpDevices",
        "redirect.usb",
        "devicestoredirect",
        flag("redirectPnpDevices"),
    );
    if let Some(r) = res {
        match text(r, "audioRedirection") {
            Some("Client" | "0") => d.set("audioRedirection", "redirect.audio", "local"),
            Some("Remote" | "1") => d.set("audioRedirection", "redirect.audio", "remote"),
            Some("NoSound" | "2") | None => {}
            Some(v) => d.note(
                "audioRedirection",
                format!("unknown value `{v}`: audio stays off"),
            ),
        }
        let record = text(r, "audioCaptureRedirection").is_some_and(|v| v == "Record" || v == "0");
        d.redirect(
            "audioCaptureRedirection",
            "redirect.microphone",
            "audiocapturemode",
            record.then_some("on"),
        );
        match text(r, "keyboardHook") {
            Some("Client" | "0") => d.set("keyboardHook", "rdp.keyboardhook", "0"),
            Some("Remote" | "1") => d.set("keyboardHook", "rdp.keyboardhook", "1"),
            Some("FullScreenClient" | "2") | None => {}
            Some(v) => d.note("keyboardHook", format!("unknown value `{v}`: not adopted")),
        }
    }
    if let Some(auth) = settings(server, "securitySettings").and_then(|s| text(s, "authentication"))
        && !auth.eq_ignore_ascii_case("Warn")
    {
        d.note(
            "authentication",
            format!("not adopted (`{auth}`): rdpl checks the server's identity itself (pre-flight and pins)"),
        );
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{Format, read as read_any};
    use crate::profile::{AudioPlayback, GatewayUsage};

    const SAMPLE: &str = include_str!("../../tests/data/import/servers.rdg");

    /// Mutation of the sample: without credential sharing, the gateway's own user and domain are kept.
    #[test]
    fn a_gateway_without_credential_sharing_keeps_its_own_account() {
        let shared = read_any(Format::RdcMan, SAMPLE.as_bytes(), &Policy::strict()).expect("reads");
        let own_text = SAMPLE.replace(
            "<credSharing>True</credSharing>",
            "<credSharing>False</credSharing><userName>gwadmin</userName><domain>GW</domain>",
        );
        let own = read_any(Format::RdcMan, own_text.as_bytes(), &Policy::strict()).expect("reads");
        let accounts = |b: &Batch| {
            b.entries
                .iter()
                .filter_map(|e| e.profile.gateway.as_ref())
                .map(|g| (g.user.clone(), g.domain.clone()))
                .collect::<Vec<_>>()
        };
        let (shared, own) = (accounts(&shared), accounts(&own));
        assert!(
            !own.is_empty() && shared.iter().all(|a| *a == (None, None)),
            "{shared:?}"
        );
        assert!(
            own.iter()
                .all(|a| *a == (Some("gwadmin".to_owned()), Some("GW".to_owned()))),
            "{own:?}"
        );
    }

    #[test]
    fn inherits_from_groups_and_file() {
        let b = read_any(Format::RdcMan, SAMPLE.as_bytes(), &Policy::strict()).expect("reads");
        let got: Vec<_> = b
            .entries
            .iter()
            .map(|e| {
                (
                    e.source.as_str(),
                    e.profile.name.as_str(),
                    e.profile.target().to_string(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "Web/Web server 1",
                    "Web-server-1",
                    "web01.corp.example:3390".to_owned()
                ),
                (
                    "Web/web02.corp.example",
                    "web02.corp.example",
                    "web02.corp.example:3389".to_owned()
                ),
                ("Lab/Deep/lab01", "lab01", "lab01.lab.example:3389".to_owned()),
            ],
            "{:#?}",
            b.skipped
        );
        let web1 = &b.entries[0].profile;
        assert_eq!(
            (web1.user.as_deref(), web1.domain.as_deref()),
            (Some("alice"), Some("CORP"))
        );
        let gw = web1.gateway.as_ref().expect("own gateway");
        assert_eq!(
            (gw.host.to_string(), gw.port.get(), gw.usage),
            ("gw.corp.example".into(), 443, GatewayUsage::Detect)
        );
        assert_eq!(
            (web1.display.width, web1.display.height),
            (Some(1280), Some(1024))
        );
        assert_eq!(web1.redirect.audio, AudioPlayback::Remote);
        // web02 takes everything from the group Web, which takes its credentials from the file.
        let web2 = &b.entries[1].profile;
        assert_eq!(
            (web2.user.as_deref(), web2.domain.as_deref()),
            (Some("svc-web"), Some("CORP"))
        );
        assert_eq!(web2.gateway.as_ref().map(|g| g.usage), Some(GatewayUsage::Always));
        assert!(web2.display.full_screen);
        let lab = &b.entries[2].profile;
        assert_eq!(lab.gateway, None, "the gateway of the Lab group is disabled");
        assert_eq!(lab.user.as_deref(), Some("labuser"));
        assert!(
            b.skipped
                .iter()
                .any(|s| s.source == "Lab/(no host)" && s.reason.contains("`name`"))
        );
    }

    #[test]
    fn redirections_and_passwords() {
        let b = read_any(Format::RdcMan, SAMPLE.as_bytes(), &Policy::strict()).expect("reads");
        let e = &b.entries[0];
        assert!(e.profile.redirect.drives.is_empty() && !e.profile.redirect.clipboard);
        assert!(
            e.notes
                .iter()
                .any(|n| n.message.contains("--allow drivestoredirect")),
            "{:#?}",
            e.notes
        );
        assert!(e.notes.iter().any(|n| n.name == "connectToConsole"));
        assert!(
            b.notes
                .iter()
                .any(|n| n.name == "password" && n.message.contains("not imported"))
        );
        assert!(!format!("{b:?}").contains("AQAAANCMnd8"), "a password leaked");
        let mut policy = Policy::strict();
        for a in ["drivestoredirect", "redirectclipboard", "devicestoredirect"] {
            policy.allow(a).expect("allow");
        }
        let b = read_any(Format::RdcMan, SAMPLE.as_bytes(), &policy).expect("reads");
        let r = &b.entries[0].profile.redirect;
        assert_eq!(r.drives, vec!["C:\\".to_owned(), "D:\\".to_owned()]);
        assert!(r.clipboard && r.usb && !r.printers);
    }
}

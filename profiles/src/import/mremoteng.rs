//! mRemoteNG's `confCons.xml`: a tree of `Node` elements (`Type="Container"` or `"Connection"`) under the
//! root `Connections`, every setting an attribute.
//!
//! Attribute names and values as mRemoteNG (github.com/mRemoteNG/mRemoteNG) writes and reads them:
//! `Config/Serializers/ConnectionSerializers/Xml/XmlConnectionNodeSerializer28.cs` and
//! `XmlConnectionsDeserializer.cs` (`Hostname`, `Port`, `Protocol`, `Username`, `Domain`, `UseCredSsp`,
//! `RDGateway*`, `Redirect*`, `Resolution`, `Colors`, and for each inheritable setting `Inherit<Name>`, which
//! takes the value from the parent container; `RedirectDiskDrives` is `True`/`False` in old files and
//! `None`/`Local`/`All`/`Custom` with `RedirectDiskDrivesCustom` in new ones), `XmlRootNodeSerializer.cs` (the
//! root's `Protected` and `FullFileEncryption`), and the enums in `Connection/Protocol/RDP/`
//! (`RDGatewayUsageMethod` Never/Always/Detect, `RDPSounds`, `RDPResolutions` FitToWindow/Fullscreen/SmartSize/
//! `Res<W>x<H>`, `RDPColors`).

use roxmltree::Node;

use super::common::{Batch, Draft, Format, ManagerError, Skipped, parse_xml, password_note, truthy};
use crate::convert::ImportNote;
use crate::rdp::sanitize::Policy;

/// The values of attributes for connections, following `Inherit<attr>="true"` up through the containers. A
/// setting inherited from the root takes mRemoteNG's default, which is no value here. Each container's
/// resolved value is remembered, so a deeply nested file is read in linear time (walking up from every
/// connection was quadratic: 13-16 s for a 1 MB file).
#[derive(Default)]
struct Inherited<'a> {
    memo: std::cell::RefCell<std::collections::HashMap<(roxmltree::NodeId, String), Option<&'a str>>>,
}

impl<'a> Inherited<'a> {
    /// The value of `attr` for `node`.
    fn value(&self, node: Node<'a, '_>, attr: &str) -> Option<&'a str> {
        let inherit = format!("Inherit{attr}");
        let mut walked = Vec::new();
        let mut n = node;
        let found = loop {
            if let Some(v) = self.memo.borrow().get(&(n.id(), attr.to_owned())) {
                break *v;
            }
            walked.push(n.id());
            if !n.attribute(inherit.as_str()).is_some_and(truthy) {
                break n.attribute(attr);
            }
            match n.parent_element().filter(|p| p.has_tag_name("Node")) {
                Some(p) => n = p,
                None => break None,
            }
        };
        let mut memo = self.memo.borrow_mut();
        for id in walked {
            memo.insert((id, attr.to_owned()), found);
        }
        found
    }
}

/// Attributes with no RDP meaning or only mRemoteNG bookkeeping: never noted.
fn ignored(attr: &str) -> bool {
    const PREFIXES: &[&str] = &["Inherit", "VNC", "ICA", "Putty", "SSH"];
    const NAMES: &[&str] = &[
        "Name",
        "Type",
        "Expanded",
        "Descr",
        "Icon",
        "Panel",
        "Id",
        "Connected",
        "Favorite",
        "MacAddress",
        "UserField",
        "PreExtApp",
        "PostExtApp",
        "ExtApp",
        "OpeningCommand",
        "RenderingEngine",
        "VmId",
        "UseVmId",
        "UseEnhancedMode",
        "AutomaticResize",
        "SoundQuality",
        "RdpVersion",
        "RDPMinutesToIdleTimeout",
        "RDPAlertIdleTimeout",
        "ExternalCredentialProvider",
        "ExternalAddressProvider",
        "UserViaAPI",
        "RDGatewayExternalCredentialProvider",
        "RDGatewayUserViaAPI",
    ];
    PREFIXES.iter().any(|p| attr.starts_with(p)) || NAMES.contains(&attr)
}

/// Attributes this importer maps (or notes) itself.
const MAPPED: &[&str] = &[
    "Hostname",
    "Port",
    "Protocol",
    "Username",
    "Domain",
    "Password",
    "UseCredSsp",
    "RDGatewayHostname",
    "RDGatewayUsageMethod",
    "RDGatewayUseConnectionCredentials",
    "RDGatewayUsername",
    "RDGatewayDomain",
    "RDGatewayPassword",
    "RedirectDiskDrives",
    "RedirectDiskDrivesCustom",
    "RedirectPrinters",
    "RedirectSmartCards",
    "RedirectPorts",
    "RedirectClipboard",
    "RedirectAudioCapture",
    "RedirectKeys",
    "RedirectSound",
    "Resolution",
    "Colors",
];

/// Values that mean "off" or "not set" in any attribute.
fn is_default(v: &str) -> bool {
    matches!(
        v.to_ascii_lowercase().as_str(),
        "" | "false" | "0" | "none" | "never" | "noauth"
    )
}

pub(super) fn read(text: &str, policy: &Policy) -> Result<Batch, ManagerError> {
    let doc = parse_xml(text)?;
    let root = doc.root_element();
    if !root.has_tag_name("Connections") {
        return Err(ManagerError::Missing {
            format: Format::MRemoteNg,
            what: "a Connections root element",
        });
    }
    if root.attribute("FullFileEncryption").is_some_and(truthy) {
        return Err(ManagerError::FullyEncrypted);
    }
    let mut batch = Batch {
        format: Format::MRemoteNg,
        entries: Vec::new(),
        skipped: Vec::new(),
        notes: Vec::new(),
    };
    let mut with_password = 0;
    let inherited = Inherited::default();
    for node in root.descendants().filter(|n| n.has_tag_name("Node")) {
        if !node
            .attribute("Type")
            .is_some_and(|t| t.eq_ignore_ascii_case("Connection"))
        {
            continue;
        }
        let source = super::common::source_path(
            node.ancestors()
                .filter(|n| n.has_tag_name("Node"))
                .map(|n| n.attribute("Name").unwrap_or("")),
        );
        if [
            inherited.value(node, "Password"),
            inherited.value(node, "RDGatewayPassword"),
        ]
        .into_iter()
        .flatten()
        .any(|p| !p.is_empty())
        {
            with_password += 1;
        }
        match entry(node, &inherited, policy) {
            Ok(d) => {
                let name = node.attribute("Name").unwrap_or("");
                batch.entries.push(d.finish(name, source));
            }
            Err(reason) => batch.skipped.push(Skipped { source, reason }),
        }
    }
    if with_password > 0 {
        batch.notes.push(ImportNote {
            name: "Password".into(),
            message: password_note(&format!(
                "{with_password} connection(s) have a password, which mRemoteNG stores encrypted"
            )),
        });
    }
    if root.attribute("Protected").is_some_and(|p| !p.is_empty()) {
        batch.notes.push(ImportNote {
            name: "Protected".into(),
            message: "mRemoteNG's encrypted password check of the file: not needed, since rdpl reads no \
                      passwords"
                .into(),
        });
    }
    Ok(batch)
}

fn entry<'a, 'p>(
    node: Node<'a, '_>,
    inherited: &Inherited<'a>,
    policy: &'p Policy,
) -> Result<Draft<'p>, String> {
    let get = |a: &str| inherited.value(node, a).map(str::trim).filter(|v| !v.is_empty());
    let protocol = get("Protocol").unwrap_or("RDP");
    if !protocol.eq_ignore_ascii_case("RDP") {
        return Err(format!(
            "a {protocol} connection; rdpl imports RDP connections only"
        ));
    }
    let mut d = Draft::new(get("Hostname").unwrap_or(""), get("Port"), policy)
        .map_err(|why| format!("`Hostname`: {why}"))?;
    if let Some(u) = get("Username") {
        d.user("Username", u);
    }
    if let Some(dom) = get("Domain") {
        d.set("Domain", "domain", dom);
    }
    if get("UseCredSsp").is_some_and(|v| !truthy(v)) {
        d.set("UseCredSsp", "nla", "off");
    }
    if let Some(gw) = get("RDGatewayHostname") {
        let usage = match get("RDGatewayUsageMethod").unwrap_or("Always") {
            u if u.eq_ignore_ascii_case("Detect") => "detect",
            u if u.eq_ignore_ascii_case("Never") => "never",
            _ => "always",
        };
        d.gateway("RDGatewayHostname", gw, usage);
        match get("RDGatewayUseConnectionCredentials").unwrap_or("Yes") {
            c if c.eq_ignore_ascii_case("Yes") => {}
            // "No": the gateway has its own account (RDGatewayUsername/Domain); its password goes to the keyring.
            c if c.eq_ignore_ascii_case("No") => {
                if let Some(u) = get("RDGatewayUsername") {
                    d.set("RDGatewayUsername", "gateway.user", u);
                }
                if let Some(v) = get("RDGatewayDomain") {
                    d.set("RDGatewayDomain", "gateway.domain", v);
                }
            }
            c => d.note(
                "RDGatewayUseConnectionCredentials",
                format!("not adopted (`{c}`): the client negotiates the gateway logon (smart card)"),
            ),
        }
    }
    let on = |a: &str| get(a).is_some_and(truthy).then_some("on");
    let drives = match get("RedirectDiskDrives").unwrap_or("None") {
        v if v.eq_ignore_ascii_case("Custom") => get("RedirectDiskDrivesCustom"),
        v if truthy(v) || v.eq_ignore_ascii_case("Local") || v.eq_ignore_ascii_case("All") => Some("*"),
        _ => None,
    };
    d.redirect(
        "RedirectDiskDrives",
        "redirect.drives",
        "drivestoredirect",
        drives,
    );
    d.redirect(
        "RedirectPrinters",
        "redirect.printers",
        "redirectprinters",
        on("RedirectPrinters"),
    );
    d.redirect(
        "RedirectSmartCards",
        "redirect.smart_cards",
        "redirectsmartcards",
        on("RedirectSmartCards"),
    );
    d.redirect(
        "RedirectPorts",
        "redirect.ports",
        "redirectcomports",
        on("RedirectPorts"),
    );
    // mRemoteNG shares the clipboard unless told not to.
    let clipboard = get("RedirectClipboard").is_none_or(truthy).then_some("on");
    d.redirect(
        "RedirectClipboard",
        "redirect.clipboard",
        "redirectclipboard",
        clipboard,
    );
    d.redirect(
        "RedirectAudioCapture",
        "redirect.microphone",
        "audiocapturemode",
        on("RedirectAudioCapture"),
    );
    if get("RedirectKeys").is_some_and(truthy) {
        d.set("RedirectKeys", "rdp.keyboardhook", "1");
    }
    match get("RedirectSound") {
        Some("BringToThisComputer") => d.set("RedirectSound", "redirect.audio", "local"),
        Some("LeaveAtRemoteComputer") => d.set("RedirectSound", "redirect.audio", "remote"),
        Some("DoNotPlay") | None => {}
        Some(v) => d.note("RedirectSound", format!("unknown value `{v}`: audio stays off")),
    }
    match get("Resolution") {
        Some("FitToWindow") | None => {}
        Some("Fullscreen") => d.set("Resolution", "display.full_screen", "on"),
        Some("SmartSize") => d.set("Resolution", "rdp.smart sizing", "1"),
        Some(r) => match r.strip_prefix("Res").and_then(|s| s.split_once('x')) {
            Some((w, h)) => {
                d.set("Resolution", "display.width", w);
                d.set("Resolution", "display.height", h);
            }
            None => d.note("Resolution", format!("unknown value `{r}`: not adopted")),
        },
    }
    match get("Colors") {
        Some("Colors256") => d.set("Colors", "rdp.session bpp", "8"),
        Some(c) if c.starts_with("Colors") && c.ends_with("Bit") => {
            d.set(
                "Colors",
                "rdp.session bpp",
                &c["Colors".len()..c.len() - "Bit".len()],
            );
        }
        Some(c) => d.note("Colors", format!("unknown value `{c}`: not adopted")),
        None => {}
    }
    let rest: Vec<String> = node
        .attributes()
        .map(|a| a.name())
        .filter(|a| !ignored(a) && !MAPPED.contains(a))
        .filter_map(|a| get(a).filter(|v| !is_default(v)).map(|v| format!("{a}={v}")))
        .collect();
    if !rest.is_empty() {
        d.note(
            "mRemoteNG",
            format!(
                "not adopted: {}; rdpl decides these itself or has no setting for them",
                rest.join(", ")
            ),
        );
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{Format, read as read_any};
    use crate::profile::{AudioPlayback, GatewayUsage, Tri};

    const SAMPLE: &str = include_str!("../../tests/data/import/confCons.xml");

    fn read_sample(policy: &Policy) -> Batch {
        read_any(Format::MRemoteNg, SAMPLE.as_bytes(), policy).expect("reads")
    }

    #[test]
    fn a_deeply_nested_file_inherits_through_every_level_and_names_the_nearest_ones() {
        const DEPTH: usize = 5_000;
        let mut x = String::from(
            "<?xml version=\"1.0\"?>\n<mrng:Connections xmlns:mrng=\"http://mremoteng.org\" Name=\"Connections\">\n\
             <Node Name=\"top\" Type=\"Container\" Username=\"alice\" Domain=\"CORP\">",
        );
        for i in 0..DEPTH {
            x.push_str(&format!(
                "<Node Name=\"c{i}\" Type=\"Container\" InheritUsername=\"true\" InheritDomain=\"true\">\
                 <Node Name=\"s{i}\" Type=\"Connection\" Hostname=\"s{i}.test\" Protocol=\"RDP\" \
                 InheritUsername=\"true\" InheritDomain=\"true\"/>"
            ));
        }
        x.push_str(&"</Node>".repeat(DEPTH + 1));
        x.push_str("</mrng:Connections>\n");
        let b = read_any(Format::MRemoteNg, x.as_bytes(), &Policy::strict()).expect("reads");
        assert_eq!(b.entries.len(), DEPTH);
        let last = b.entries.last().expect("last");
        assert_eq!(
            last.profile.user.as_deref(),
            Some("alice"),
            "inherited through {DEPTH} levels"
        );
        assert_eq!(last.profile.domain.as_deref(), Some("CORP"));
        assert_eq!(
            last.source,
            format!(
                "…/c{}/c{}/c{}/c{}/c{}/c{}/c{}/s{}",
                DEPTH - 7,
                DEPTH - 6,
                DEPTH - 5,
                DEPTH - 4,
                DEPTH - 3,
                DEPTH - 2,
                DEPTH - 1,
                DEPTH - 1
            )
        );
    }

    #[test]
    fn inherits_from_nested_containers() {
        let b = read_sample(&Policy::strict());
        let names: Vec<_> = b.entries.iter().map(|e| e.profile.name.as_str()).collect();
        assert_eq!(names, ["web01", "db01", "legacy"], "{:#?}", b.skipped);
        let web = &b.entries[0];
        assert_eq!(web.source, "Corp/Web/web01");
        let p = &web.profile;
        assert_eq!(p.target().to_string(), "web01.corp.example:3390");
        // User from the connection, domain inherited from Corp two levels up (through Web).
        assert_eq!(
            (p.user.as_deref(), p.domain.as_deref()),
            (Some("alice"), Some("CORP"))
        );
        let gw = p.gateway.as_ref().expect("inherited gateway");
        assert_eq!(
            (gw.host.to_string(), gw.port.get(), gw.usage),
            ("gw.corp.example".into(), 443, GatewayUsage::Detect)
        );
        assert_eq!(p.redirect.audio, AudioPlayback::Local);
        assert_eq!((p.display.width, p.display.height), (Some(1920), Some(1080)));
        let db = &b.entries[1].profile;
        assert_eq!(db.user.as_deref(), Some("dbadmin"), "its own user, not inherited");
        assert_eq!(db.port.get(), 3389);
        assert_eq!(db.security.nla, Tri::Off);
        assert!(db.display.full_screen);
        let legacy = &b.entries[2].profile;
        assert_eq!(
            legacy.gateway, None,
            "InheritRDGatewayHostname from the root is no gateway"
        );
        assert_eq!(legacy.domain, None);
    }

    #[test]
    fn skips_other_protocols_and_clashes_and_never_carries_passwords() {
        let b = read_sample(&Policy::strict());
        let reasons: Vec<_> = b
            .skipped
            .iter()
            .map(|s| (s.source.as_str(), s.reason.as_str()))
            .collect();
        assert!(
            reasons
                .iter()
                .any(|(s, r)| *s == "Corp/Web/ssh01" && r.contains("SSH2")),
            "{reasons:?}"
        );
        assert!(
            reasons
                .iter()
                .any(|(s, r)| *s == "Lab/WEB01" && r.contains("already taken by `Corp/Web/web01`")),
            "{reasons:?}"
        );
        assert!(
            reasons
                .iter()
                .any(|(s, r)| *s == "Lab/nohost" && r.contains("Hostname")),
            "{reasons:?}"
        );
        assert!(
            b.notes
                .iter()
                .any(|n| n.name == "Password" && n.message.contains("not imported"))
        );
        assert!(b.notes.iter().any(|n| n.name == "Protected"));
        let all = format!("{b:?}");
        assert!(!all.contains("ENCRYPTED"), "a password leaked: {all}");
    }

    #[test]
    fn redirections_need_allow() {
        let b = read_sample(&Policy::strict());
        let web = &b.entries[0];
        assert!(web.profile.redirect.drives.is_empty() && !web.profile.redirect.printers);
        assert!(
            web.notes
                .iter()
                .any(|n| n.message.contains("--allow drivestoredirect"))
        );
        assert!(
            web.notes
                .iter()
                .any(|n| n.name == "mRemoteNG" && n.message.contains("ConnectToConsole=true"))
        );
        let mut policy = Policy::strict();
        for a in ["drivestoredirect", "redirectprinters", "redirectclipboard"] {
            policy.allow(a).expect("allow");
        }
        let b = read_sample(&policy);
        let r = &b.entries[0].profile.redirect;
        assert_eq!(r.drives, vec!["C:".to_owned(), "D:".to_owned()]);
        assert!(r.printers && !r.clipboard, "RedirectClipboard=False stays off");
        assert_eq!(
            b.entries[0].profile.extra.get("keyboardhook"),
            Some(&crate::rdp::Value::Int(1))
        );
    }

    #[test]
    fn a_gateway_account_of_its_own_is_kept_and_a_shared_one_is_not() {
        let file = |use_conn: &str| {
            format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<mrng:Connections xmlns:mrng=\"http://mremoteng.org\" \
                 Name=\"Connections\" FullFileEncryption=\"false\" ConfVersion=\"2.8\">\n<Node Name=\"app01\" \
                 Type=\"Connection\" Username=\"alice\" Domain=\"CORP\" Hostname=\"app01.corp.example\" \
                 Protocol=\"RDP\" Port=\"3389\" RDGatewayUsageMethod=\"Always\" RDGatewayHostname=\"gw.corp.example\" \
                 RDGatewayUseConnectionCredentials=\"{use_conn}\" RDGatewayUsername=\"gwadmin\" RDGatewayDomain=\"GW\" />\n\
                 </mrng:Connections>\n"
            )
        };
        let gateway = |use_conn: &str| {
            let b = read_any(Format::MRemoteNg, file(use_conn).as_bytes(), &Policy::strict()).expect("reads");
            b.entries[0].profile.gateway.clone().expect("gateway")
        };
        let own = gateway("No");
        assert_eq!(
            (own.user.as_deref(), own.domain.as_deref()),
            (Some("gwadmin"), Some("GW"))
        );
        let shared = gateway("Yes");
        assert_eq!((shared.user, shared.domain), (None, None));
    }

    #[test]
    fn a_fully_encrypted_file_is_refused() {
        let text = "<Connections FullFileEncryption=\"true\">AAAA</Connections>";
        assert_eq!(
            read_any(Format::MRemoteNg, text.as_bytes(), &Policy::strict()),
            Err(ManagerError::FullyEncrypted)
        );
    }
}

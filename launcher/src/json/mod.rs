//! The `--json` output types: their own serde types with a `version`, so domain types stay free of wire
//! concerns. Schemas are documented in docs/json.md.

pub mod report;

use std::collections::BTreeMap;

use rdpl_profiles::profile::Profile;
use rdpl_profiles::rdp::sanitize::{Change, Sanitized};
use rdpl_profiles::rdp::{Diagnostic, Value};
use serde::Serialize;

/// The JSON schema version of every document rdpl prints.
pub const JSON_VERSION: u32 = 1;

/// A profile.
#[derive(Debug, Serialize)]
pub struct ProfileJson {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub fallback: Vec<String>,
    pub alternate: Option<String>,
    pub user: Option<String>,
    pub domain: Option<String>,
    pub gateway: Option<GatewayJson>,
    pub security: SecurityJson,
    pub redirect: RedirectJson,
    pub display: DisplayJson,
    pub backend: String,
    pub rdp: BTreeMap<String, serde_json::Value>,
    /// The signing certificate (and key) paths, when the profile has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign: Option<SignJson>,
}

#[derive(Debug, Serialize)]
pub struct SignJson {
    pub cert: String,
    pub key: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct GatewayJson {
    pub host: String,
    pub port: u16,
    pub usage: String,
}

#[derive(Debug, Serialize)]
pub struct SecurityJson {
    pub nla: String,
    pub udp: String,
    pub link: String,
}

#[derive(Debug, Serialize)]
pub struct RedirectJson {
    pub clipboard: bool,
    pub drives: Vec<String>,
    pub printers: bool,
    pub smart_cards: bool,
    pub ports: bool,
    pub usb: bool,
    pub cameras: bool,
    pub webauthn: bool,
    pub pos_devices: bool,
    pub location: bool,
    pub microphone: bool,
    pub audio: rdpl_profiles::profile::AudioPlayback,
}

#[derive(Debug, Serialize)]
pub struct DisplayJson {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub full_screen: bool,
    pub multimon: bool,
}

fn value_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Int(i) => serde_json::Value::from(*i),
        Value::Str(s) => serde_json::Value::from(s.as_str()),
        Value::Bin(b) => serde_json::Value::from(hex::encode_upper(b)),
    }
}

impl From<&Profile> for ProfileJson {
    fn from(p: &Profile) -> Self {
        let r = &p.redirect;
        ProfileJson {
            name: p.name.to_string(),
            host: p.host.to_string(),
            port: p.port.get(),
            fallback: p.fallbacks.iter().map(ToString::to_string).collect(),
            alternate: p.alternate.as_ref().map(ToString::to_string),
            user: p.user.clone(),
            domain: p.domain.clone(),
            sign: p.sign.as_ref().map(|s| SignJson {
                cert: s.cert.display().to_string(),
                key: s.key.as_ref().map(|k| k.display().to_string()),
            }),
            gateway: p.gateway.as_ref().map(|g| GatewayJson {
                host: g.host.to_string(),
                port: g.port.get(),
                usage: g.usage.to_string(),
            }),
            security: SecurityJson {
                nla: p.security.nla.to_string(),
                udp: p.security.udp.to_string(),
                link: p.security.link.to_string(),
            },
            redirect: RedirectJson {
                clipboard: r.clipboard,
                drives: r.drives.clone(),
                printers: r.printers,
                smart_cards: r.smart_cards,
                ports: r.ports,
                usb: r.usb,
                cameras: r.cameras,
                webauthn: r.webauthn,
                pos_devices: r.pos_devices,
                location: r.location,
                microphone: r.microphone,
                audio: r.audio,
            },
            display: DisplayJson {
                width: p.display.width,
                height: p.display.height,
                full_screen: p.display.full_screen,
                multimon: p.display.multimon,
            },
            backend: p.backend.to_string(),
            rdp: p.extra.iter().map(|(k, v)| (k.clone(), value_json(v))).collect(),
        }
    }
}

/// `rdpl profile show --json`
#[derive(Debug, Serialize)]
pub struct ProfileShowJson {
    pub version: u32,
    pub path: String,
    pub profile: ProfileJson,
}

/// A profile file that could not be read.
#[derive(Debug, Serialize)]
pub struct ProfileErrorJson {
    pub message: String,
}

/// `rdpl profile list --json`
#[derive(Debug, Serialize)]
pub struct ProfileListJson {
    pub version: u32,
    pub profiles: Vec<ProfileJson>,
    pub errors: Vec<ProfileErrorJson>,
}

/// `rdpl sanitize --json`
#[derive(Debug, Serialize)]
pub struct SanitizeJson<'a> {
    pub version: u32,
    pub file: String,
    pub encoding: String,
    pub line_ending: rdpl_profiles::rdp::parse::LineEnding,
    pub changes: &'a [Change],
    pub diagnostics: &'a [Diagnostic],
    /// The clean file as text (CRLF line ends).
    pub rdp: String,
}

impl<'a> SanitizeJson<'a> {
    /// Builds the report.
    pub fn new(file: String, parsed: &rdpl_profiles::rdp::RdpFile, s: &'a Sanitized) -> Self {
        SanitizeJson {
            version: JSON_VERSION,
            file,
            encoding: parsed.encoding.to_string(),
            line_ending: parsed.line_ending,
            changes: &s.changes,
            diagnostics: &s.diagnostics,
            rdp: s.document.to_text(),
        }
    }
}

/// `rdpl import --json`
#[derive(Debug, Serialize)]
pub struct ImportJson<'a> {
    pub version: u32,
    pub created: bool,
    pub path: Option<String>,
    pub profile: ProfileJson,
    pub notes: &'a [rdpl_profiles::convert::ImportNote],
    pub changes: &'a [Change],
    pub diagnostics: &'a [Diagnostic],
}

/// `rdpl import --json` of a Remmina, mRemoteNG or RDCMan file.
#[derive(Debug, Serialize)]
pub struct ImportManagerJson<'a> {
    pub version: u32,
    pub format: rdpl_profiles::import::Format,
    pub created: bool,
    pub profiles: Vec<ImportedProfileJson<'a>>,
    pub skipped: &'a [rdpl_profiles::import::Skipped],
    pub notes: &'a [rdpl_profiles::convert::ImportNote],
}

/// One profile of [`ImportManagerJson`].
#[derive(Debug, Serialize)]
pub struct ImportedProfileJson<'a> {
    pub source: &'a str,
    pub path: Option<String>,
    pub profile: ProfileJson,
    pub notes: &'a [rdpl_profiles::convert::ImportNote],
}

/// `rdpl rdp --json`: what the pre-flight decided and what was written.
#[derive(Debug, Serialize)]
pub struct RdpJson {
    pub version: u32,
    pub target: String,
    /// Built from the profile alone (`--offline`), without pre-flight.
    pub offline: bool,
    /// The file written (`-o`), or null when the text went to standard output (it is in `rdp` either way).
    pub output: Option<String>,
    /// How many properties the file has.
    pub properties: usize,
    /// Whether the file carries a signature (`--sign` or the profile's `sign.cert`).
    pub signed: bool,
    /// What the pre-flight changed or warns about (empty with `--offline`).
    pub warnings: Vec<String>,
    /// The file as text (CRLF line ends; UTF-16LE with BOM on disk).
    pub rdp: String,
}

/// `rdpl pin accept --json` and `rdpl pin forget --json`.
#[derive(Debug, Serialize)]
pub struct PinChangeJson {
    pub version: u32,
    /// `host:port`, the key in pins.toml.
    pub key: String,
    /// The pin now recorded (accept), or null (forget).
    pub pin: Option<rdpl_profiles::pins::Pin>,
    /// The pin it replaced (accept) or removed (forget), or null.
    pub previous: Option<rdpl_profiles::pins::Pin>,
}

/// `rdpl explain --json`: the explanation with the schema version.
#[derive(Debug, Serialize)]
pub struct ExplainJson<'a> {
    pub version: u32,
    #[serde(flatten)]
    pub explanation: &'a rdpl_core::explain::Explanation,
}

/// `rdpl screenshot --json`.
#[derive(Debug, Serialize)]
pub struct ScreenshotJson<'a, L: Serialize> {
    pub version: u32,
    pub target: &'a str,
    /// The PNG written, or null when no frame was captured.
    pub output: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// The `login` object of `check --json`.
    pub login: &'a L,
}

/// `rdpl pin list --json`: the pins as pins.toml has them, with this document's version.
#[derive(Debug, Serialize)]
pub struct PinListJson<'a> {
    pub version: u32,
    pub pins: &'a BTreeMap<String, rdpl_profiles::pins::Pin>,
}

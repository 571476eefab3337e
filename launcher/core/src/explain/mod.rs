//! `rdpl explain`: what an RDP error number means, where that is documented, and what to do about it.
//!
//! Admins mostly see two bare numbers ("Error code: 0x904, Extended error code: 0x7"). This module
//! knows the tables those numbers come from — mstsc/ActiveX disconnect reasons, the
//! `ExtendedDisconnectReasonCode` enumeration, MS-RDPBCGR ERRINFO codes, RDP_NEG_FAILURE codes, RD
//! Gateway `E_PROXY_*` HRESULTs, FreeRDP's `ERRCONNECT_*` codes and xfreerdp's exit codes, and the
//! CredSSP/NTSTATUS/SSPI codes behind Network Level Authentication failures — each entry with its
//! source. A number nobody documents is reported as such, with the range it falls in; rdpl never
//! guesses a meaning.
//!
//! The ERRINFO descriptions are not copied: they come from `ironrdp-pdu` at run time (see
//! [`errinfo_description`]). Pure code, no I/O.

mod codes;
mod entry;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;

use serde::Serialize;

pub use self::entry::{Entry, Family};

/// Text a maintained library gives for a code, fetched at run time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LibraryText {
    /// The library and API it came from.
    pub source: &'static str,
    /// The text.
    pub text: String,
}

/// A pointer to a related entry.
#[derive(Debug, Clone, Serialize)]
pub struct Related {
    /// Its family.
    pub family: Family,
    /// Its code.
    pub code: u32,
    /// The code in hex.
    pub hex: String,
    /// Its name.
    pub name: &'static str,
}

/// A documented reading of a number.
#[derive(Debug, Clone, Serialize)]
pub struct Explained {
    /// The table entry.
    #[serde(flatten)]
    pub entry: &'static Entry,
    /// The family's title.
    pub family_title: &'static str,
    /// The entry's code in hex.
    pub hex: String,
    /// The maintained library's text for this code (ERRINFO and RDP_NEG_FAILURE, from ironrdp-pdu).
    pub library: Option<LibraryText>,
    /// How the number was turned into this entry's code, when it is not the same number.
    pub via: Option<String>,
    /// The related entries.
    pub related: Vec<Related>,
}

/// A block of numbers a family uses, for numbers no table documents.
#[derive(Debug, Clone, Serialize)]
pub struct RangeNote {
    /// The family the block belongs to, if one does.
    pub family: Option<Family>,
    /// The block, as `0xFIRST-0xLAST`.
    pub range: String,
    /// What the block is, and that this number in it is not documented.
    pub what: String,
    /// Where the block is documented.
    pub source: &'static str,
}

/// A number read one way.
#[derive(Debug, Clone, Serialize)]
pub struct Reading {
    /// The number.
    pub value: u32,
    /// The number in hex.
    pub hex: String,
    /// How it was read.
    pub read_as: &'static str,
    /// Whether any table documents it.
    pub documented: bool,
    /// The documented readings, the preferred one first.
    pub matches: Vec<Explained>,
    /// When nothing documents it: the blocks it falls in.
    pub ranges: Vec<RangeNote>,
    /// When nothing documents it: the tables searched (family ids).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub searched: Vec<&'static str>,
    /// When nothing documents it: the nearest documented values in the tables searched, nearest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub neighbours: Vec<Neighbour>,
}

/// A documented value near an undocumented one.
#[derive(Debug, Clone, Serialize)]
pub struct Neighbour {
    /// Its table.
    pub family: Family,
    /// The value.
    pub code: u32,
    /// The value in hex.
    pub hex: String,
    /// Its name.
    pub name: &'static str,
}

/// How many neighbours an undocumented value gets.
const NEIGHBOURS: usize = 4;

/// The documented values nearest to `code` in `families`: per table the next one below and above, then the
/// nearest overall. Only ever real entries: a neighbour is a suggestion of what the user may have misread.
fn neighbours(code: u32, families: &[Family]) -> Vec<Neighbour> {
    let mut near: Vec<(u32, &'static Entry)> = Vec::new();
    for &f in families {
        let mut below: Option<&'static Entry> = None;
        let mut above: Option<&'static Entry> = None;
        for e in codes::ENTRIES.iter().filter(|e| e.family == f) {
            if e.code < code && below.is_none_or(|b| e.code > b.code) {
                below = Some(e);
            }
            if e.code > code && above.is_none_or(|a| e.code < a.code) {
                above = Some(e);
            }
        }
        near.extend(below.into_iter().chain(above).map(|e| (e.code.abs_diff(code), e)));
    }
    // Far-away values are no suggestion: within 0x100, or an eighth of the number for large ones.
    let window = (code / 8).max(0x100);
    near.retain(|(d, _)| *d <= window);
    near.sort_by_key(|(d, e)| (*d, e.code));
    near.into_iter()
        .take(NEIGHBOURS)
        .map(|(_, e)| Neighbour {
            family: e.family,
            code: e.code,
            hex: hex(e.code),
            name: e.name,
        })
        .collect()
}

/// A common misreading, and why it is wrong.
#[derive(Debug, Clone, Serialize)]
pub struct Correction {
    /// The number that gets misread.
    pub code: u32,
    /// The wrong reading.
    pub wrong: &'static str,
    /// The right reading.
    pub right: &'static str,
    /// Why.
    pub why: &'static str,
    /// Where that is documented.
    pub source: &'static str,
}

/// The answer to `rdpl explain CODE [EXTENDED]`.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// The main code: as an mstsc disconnect reason first, then every other table with this number.
    pub code: Reading,
    /// The extended code, as an ExtendedDisconnectReasonCode (and the matching ERRINFO code).
    pub extended: Option<Reading>,
    /// Misreadings the numbers are known for.
    pub corrections: Vec<Correction>,
    /// The answer in a few plain lines.
    pub summary: Vec<String>,
}

/// Every entry, family by family (in [`Family::ALL`] order), codes ascending. For generating docs/errors.md.
pub fn all() -> &'static [Entry] {
    codes::ENTRIES
}

/// `0x904` style.
fn hex(v: u32) -> String {
    format!("{v:#X}")
}

/// Parses a code as people paste it: `0x904`, `0X1B07`, `904h`, `&H904`, `0x8009_0302`, bare hex with
/// letters (`1b07`, `c000006d`), decimal (`2308`), or a negative decimal as some tools print HRESULTs and
/// NTSTATUS values (`-2146893054`). Bare digits are decimal.
pub fn parse_code(s: &str) -> Result<u32, String> {
    let t = s.trim();
    let help = "write it in hex like 0x904 or in decimal like 2308";
    if t.is_empty() {
        return Err(format!("no code given: {help}"));
    }
    let clean: String = t.chars().filter(|c| *c != '_').collect();
    let lower = clean.to_ascii_lowercase();
    let not_number = || format!("`{t}` is not an error code: {help}");
    let too_big = || format!("`{t}` does not fit in 32 bits; RDP error codes are 32-bit numbers");
    let from_hex = |digits: &str| -> Result<u32, String> {
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(not_number());
        }
        let digits = digits.trim_start_matches('0');
        if digits.len() > 8 {
            return Err(too_big());
        }
        if digits.is_empty() {
            return Ok(0);
        }
        u32::from_str_radix(digits, 16).map_err(|_| not_number())
    };
    if let Some(rest) = lower.strip_prefix("0x").or_else(|| lower.strip_prefix("&h")) {
        return from_hex(rest.strip_suffix('l').unwrap_or(rest));
    }
    if let Some(rest) = lower.strip_suffix('h') {
        return from_hex(rest);
    }
    if let Some(rest) = lower.strip_prefix('-') {
        if rest.is_empty() || !rest.chars().all(|c| c.is_ascii_digit()) {
            return Err(not_number());
        }
        let n: i64 = rest.parse().map_err(|_| too_big())?;
        return i32::try_from(-n)
            .map(i32::cast_unsigned)
            .map_err(|_| format!("`{t}` is below -2147483648, so it is not a 32-bit code"));
    }
    if lower.chars().all(|c| c.is_ascii_digit()) {
        return lower
            .parse::<u64>()
            .map_err(|_| too_big())
            .and_then(|n| u32::try_from(n).map_err(|_| too_big()));
    }
    if lower.chars().all(|c| c.is_ascii_hexdigit()) {
        return from_hex(&lower);
    }
    Err(not_number())
}

/// The API [`errinfo_description`] uses, as shown in answers.
pub const ERRINFO_LIBRARY: &str = "ironrdp-pdu: \
     ironrdp_core::decode::<rdp::server_error_info::ServerSetErrorInfoPdu>() then ErrorInfo::description()";

/// The API [`neg_failure_description`] uses, as shown in answers.
pub const NEG_FAILURE_LIBRARY: &str = "ironrdp-pdu: nego::FailureCode (Display)";

/// ironrdp-pdu's description of an ERRINFO code, or `None` if ironrdp-pdu does not know the code.
///
/// ironrdp-pdu's `ErrorInfo` is built from a `u32` through `num_traits::FromPrimitive`, which rdpl does not
/// depend on; decoding the 4-byte Set Error Info PDU body it describes reaches the same table through the
/// public `Decode` API.
pub fn errinfo_description(code: u32) -> Option<String> {
    let bytes = code.to_le_bytes();
    ironrdp_core::decode::<ironrdp_pdu::rdp::server_error_info::ServerSetErrorInfoPdu>(&bytes)
        .ok()
        .map(|pdu| pdu.0.description())
}

/// ironrdp-pdu's text for an RDP_NEG_FAILURE code, or `None` if ironrdp-pdu does not know the code.
pub fn neg_failure_description(code: u32) -> Option<String> {
    let text = ironrdp_pdu::nego::FailureCode::from(code).to_string();
    (!text.starts_with("unknown")).then_some(text)
}

/// The table entry for `code` in `family`.
pub fn entry(family: Family, code: u32) -> Option<&'static Entry> {
    codes::ENTRIES
        .iter()
        .find(|e| e.family == family && e.code == code)
}

fn explained(e: &'static Entry, via: Option<String>) -> Explained {
    let library = match e.family {
        Family::ErrInfo => errinfo_description(e.code).map(|text| LibraryText {
            source: ERRINFO_LIBRARY,
            text,
        }),
        Family::NegFailure => neg_failure_description(e.code).map(|text| LibraryText {
            source: NEG_FAILURE_LIBRARY,
            text,
        }),
        _ => None,
    };
    let related = e
        .related
        .iter()
        .filter_map(|&(f, c)| entry(f, c))
        .map(|r| Related {
            family: r.family,
            code: r.code,
            hex: hex(r.code),
            name: r.name,
        })
        .collect();
    Explained {
        entry: e,
        family_title: e.family.title(),
        hex: hex(e.code),
        library,
        via,
        related,
    }
}

/// Readings of `code` that go through a documented transformation of the number.
fn derived(code: u32) -> Vec<Explained> {
    let mut v = Vec::new();
    // FreeRDP: MAKE_FREERDP_ERROR(ERRINFO, code) = 1 << 16 | code.
    if code >> 16 == 1
        && let Some(e) = entry(Family::ErrInfo, code & 0xFFFF)
    {
        v.push(explained(
            e,
            Some(format!(
                "FreeRDP reports a server's ERRINFO code as FREERDP_ERROR_ERRINFO_CLASS (1) << \
                 16 | code, so {} is ERRINFO {} (include/freerdp/error.h)",
                hex(code),
                hex(code & 0xFFFF)
            )),
        ));
    }
    // RD Gateway: the full HRESULT and its HRESULT_CODE() name the same error.
    if code >> 16 == 0x8007 && (0x59D8..=0x5A00).contains(&(code & 0xFFFF)) {
        if let Some(e) = entry(Family::GatewayHresult, code & 0xFFFF)
            && entry(Family::GatewayHresult, code).is_none()
        {
            v.push(explained(
                e,
                Some(format!(
                    "HRESULT_CODE({}) is {}, the RD Gateway code",
                    hex(code),
                    hex(code & 0xFFFF)
                )),
            ));
        }
    } else if (0x59D8..=0x5A00).contains(&code)
        && entry(Family::GatewayHresult, code).is_none()
        && let Some(e) = entry(Family::GatewayHresult, 0x8007_0000 | code)
    {
        v.push(explained(
            e,
            Some(format!(
                "{} is HRESULT_CODE({})",
                hex(code),
                hex(0x8007_0000 | code)
            )),
        ));
    }
    // xfreerdp turns ERRINFO licensing codes 0x100-0x10A into exit status 240-250 (see the XF_EXIT_LICENSE_*
    // entries).
    if (240..=250).contains(&code)
        && let Some(e) = entry(Family::ErrInfo, 0x100 + code - 240)
    {
        v.push(explained(
            e,
            Some(format!(
                "as an xfreerdp 2.x exit status: xf_exit_code_from_disconnect_reason() \
                 (client/X11/xf_client.c) subtracts 0x100 + 16 from licensing codes, so ERRINFO {} leaves \
                 as {} - 0x110 = {} modulo 256",
                hex(e.code),
                hex(e.code),
                code
            )),
        ));
    }
    v
}

/// Every documented reading of `code`: each family whose table has it (in [`Family::ALL`] order), then
/// readings through a documented transformation (FreeRDP's ERRINFO class, a gateway HRESULT's
/// HRESULT_CODE, xfreerdp's licensing exit statuses), each marked with `via`.
pub fn lookup(code: u32) -> Vec<Explained> {
    let mut v: Vec<Explained> = Family::ALL
        .iter()
        .filter_map(|&f| entry(f, code))
        .map(|e| explained(e, None))
        .collect();
    v.extend(derived(code));
    v
}

struct Range {
    family: Option<Family>,
    first: u32,
    last: u32,
    what: &'static str,
    source: &'static str,
}

const SRC_EXT_RANGE: &str = codes::SRC_EXT;
const SRC_ERRINFO_RANGE: &str = codes::SRC_ERRINFO;
const SRC_XF_RANGE: &str = "FreeRDP client/X11/xfreerdp.h, enum XF_EXIT_CODE section comments";
const SRC_FREERDP_CLASS: &str = "FreeRDP include/freerdp/error.h (MAKE_FREERDP_ERROR, FREERDP_ERROR_*_CLASS)";
const SRC_ERREF: &str = "[MS-ERREF] 2.1 HRESULT and 2.3 NTSTATUS \
     (https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-erref/)";

const RANGES: &[Range] = &[
    Range {
        family: Some(Family::ErrInfo),
        first: 0x1,
        last: 0xFF,
        what: "protocol-independent ERRINFO codes (documented: 0x1-0x1A)",
        source: SRC_ERRINFO_RANGE,
    },
    Range {
        family: Some(Family::ErrInfo),
        first: 0x100,
        last: 0x1FF,
        what: "licensing ERRINFO codes (documented: 0x100-0x10A)",
        source: SRC_ERRINFO_RANGE,
    },
    Range {
        family: Some(Family::ErrInfo),
        first: 0x400,
        last: 0x4FF,
        what: "Connection Broker ERRINFO codes (documented: 0x400-0x412)",
        source: SRC_ERRINFO_RANGE,
    },
    Range {
        family: Some(Family::ExtendedReason),
        first: 0x1000,
        last: 0x7FFF,
        what: "exDiscReasonProtocolRangeStart-exDiscReasonProtocolRangeEnd: internal protocol \
             errors; Microsoft says to check the server's event log for details",
        source: SRC_EXT_RANGE,
    },
    Range {
        family: Some(Family::ErrInfo),
        first: 0x1000,
        last: 0x7FFF,
        what: "RDP-specific protocol ERRINFO codes (documented: 0x10C9-0x1195)",
        source: SRC_ERRINFO_RANGE,
    },
    Range {
        family: Some(Family::XfreerdpExit),
        first: 0,
        last: 15,
        what: "xfreerdp exit codes 0-15: protocol-independent codes (the server's ERRINFO code)",
        source: SRC_XF_RANGE,
    },
    Range {
        family: Some(Family::XfreerdpExit),
        first: 16,
        last: 31,
        what: "xfreerdp exit codes 16-31: license error set",
        source: SRC_XF_RANGE,
    },
    Range {
        family: Some(Family::XfreerdpExit),
        first: 32,
        last: 127,
        what: "xfreerdp exit codes 32-127: RDP protocol error set (only 32, XF_EXIT_RDP, is used)",
        source: SRC_XF_RANGE,
    },
    Range {
        family: Some(Family::XfreerdpExit),
        first: 128,
        last: 254,
        what: "xfreerdp exit codes 128-254: xfreerdp-specific exit codes",
        source: SRC_XF_RANGE,
    },
    Range {
        family: Some(Family::ErrInfo),
        first: 0x1_0000,
        last: 0x1_FFFF,
        what: "FreeRDP's ERRINFO error class (1 << 16): the low 16 bits are an MS-RDPBCGR ERRINFO code",
        source: SRC_FREERDP_CLASS,
    },
    Range {
        family: Some(Family::FreeRdpConnect),
        first: 0x2_0000,
        last: 0x2_FFFF,
        what: "FreeRDP's connect error class (FREERDP_ERROR_CONNECT_CLASS, 2 << 16): the low \
             16 bits are an ERRCONNECT_* code",
        source: SRC_FREERDP_CLASS,
    },
    Range {
        family: Some(Family::GatewayHresult),
        first: 0x5900,
        last: 0x5AFF,
        what: "HRESULT_CODE() form of the RD Gateway E_PROXY_* block (documented: 0x59D8-0x5A00)",
        source: codes::SRC_TSGU,
    },
    Range {
        family: Some(Family::GatewayHresult),
        first: 0x8007_5900,
        last: 0x8007_5AFF,
        what: "RD Gateway E_PROXY_* HRESULT block (documented: 0x800759D8-0x800759F9)",
        source: codes::SRC_TSGU,
    },
    Range {
        family: Some(Family::Sspi),
        first: 0x8009_0300,
        last: 0x8009_03FF,
        what: "SSPI security package errors (SEC_E_*)",
        source: codes::SRC_HRESULT,
    },
    Range {
        family: Some(Family::Sspi),
        first: 0x8009_0000,
        last: 0x8009_FFFF,
        what: "HRESULT in FACILITY_SECURITY (9): a security package, certificate or cryptography error",
        source: SRC_ERREF,
    },
    Range {
        family: Some(Family::NtStatus),
        first: 0xC000_0000,
        last: 0xCFFF_FFFF,
        what: "NTSTATUS error value (severity 3, Microsoft-defined)",
        source: SRC_ERREF,
    },
];

/// The blocks `code` falls in, with decoded HRESULT/NTSTATUS fields; `only` limits them to some families.
fn range_notes(code: u32, only: Option<&[Family]>) -> Vec<RangeNote> {
    let mut v: Vec<RangeNote> = RANGES
        .iter()
        .filter(|r| (r.first..=r.last).contains(&code))
        .filter(|r| match (only, r.family) {
            (Some(fams), Some(f)) => fams.contains(&f),
            (Some(_), None) => false,
            (None, _) => true,
        })
        .map(|r| RangeNote {
            family: r.family,
            range: format!("{}-{}", hex(r.first), hex(r.last)),
            what: format!("{}; {} itself is not documented there", r.what, hex(code)),
            source: r.source,
        })
        .collect();
    if only.is_none() {
        let facility = (code >> 16) & 0x7FF;
        let low = code & 0xFFFF;
        if code >> 28 == 0xC {
            v.push(RangeNote {
                family: Some(Family::NtStatus),
                range: "0xC0000000-0xCFFFFFFF".into(),
                what: format!(
                    "as an NTSTATUS: severity error, facility {facility:#X}, code {low:#X} ({low}); \
                     rdpl has no entry for it"
                ),
                source: SRC_ERREF,
            });
        } else if code >> 31 == 1 {
            let mut what = format!(
                "as an HRESULT: failure, facility {facility:#X} ({facility}), code {low:#X} \
                 ({low}); rdpl has no entry for it"
            );
            if facility == 7 {
                let _ = write!(
                    what,
                    "; facility 7 is FACILITY_WIN32, so this is HRESULT_FROM_WIN32 of Win32 error {low}"
                );
            }
            v.push(RangeNote {
                family: None,
                range: "0x80000000-0xFFFFFFFF".into(),
                what,
                source: SRC_ERREF,
            });
        }
    }
    v
}

/// What the main code is read as.
const READ_MAIN: &str = "mstsc disconnect reason first, then every other table with this number";
/// What the extended code is read as.
const READ_EXTENDED: &str = "ExtendedDisconnectReasonCode, with the matching MS-RDPBCGR ERRINFO code";

fn main_reading(code: u32) -> Reading {
    let matches = lookup(code);
    let ranges = if matches.is_empty() {
        range_notes(code, None)
    } else {
        Vec::new()
    };
    let (searched, neighbours) = if matches.is_empty() {
        (
            Family::ALL.iter().map(|f| f.id()).collect(),
            neighbours(code, &Family::ALL),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    Reading {
        value: code,
        hex: hex(code),
        read_as: READ_MAIN,
        documented: !matches.is_empty(),
        matches,
        ranges,
        searched,
        neighbours,
    }
}

fn extended_reading(code: u32) -> Reading {
    let mut matches = Vec::new();
    let direct = entry(Family::ExtendedReason, code);
    if let Some(e) = direct {
        matches.push(explained(e, None));
    }
    if let Some(e) = entry(Family::ErrInfo, code) {
        matches.push(explained(
            e,
            Some(
                "ExtendedDisconnectReasonCode values line up with the ERRINFO codes of \
                 MS-RDPBCGR 2.2.5.1.1 (the same numbers and meanings for 0x1-0xC and 0x100-0x10A; \
                 0x1000-0x7FFF is the protocol-error range that holds the RDP-specific ERRINFO codes), so \
                 this is the server's reason as the protocol names it"
                    .into(),
            ),
        ));
    }
    let mut fams = Vec::new();
    if direct.is_none() {
        fams.push(Family::ExtendedReason);
    }
    if matches.iter().all(|m| m.entry.family != Family::ErrInfo) {
        fams.push(Family::ErrInfo);
    }
    let ranges = range_notes(code, Some(&fams));
    let searched_in = [Family::ExtendedReason, Family::ErrInfo];
    let (searched, neighbours) = if matches.is_empty() {
        (
            searched_in.iter().map(|f| f.id()).collect(),
            neighbours(code, &searched_in),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    Reading {
        value: code,
        hex: hex(code),
        read_as: READ_EXTENDED,
        documented: !matches.is_empty(),
        matches,
        ranges,
        searched,
        neighbours,
    }
}

/// Extended code 7 is not Win32's ERROR_ARENA_TRASHED.
pub const ARENA_TRASHED: Correction = Correction {
    code: 7,
    wrong: "Win32 error 7, ERROR_ARENA_TRASHED (\"The storage control blocks were destroyed\")",
    right: "exDiscReasonServerDeniedConnection: the server denied the connection \
         (ERRINFO_SERVER_DENIED_CONNECTION, 0x7, in MS-RDPBCGR 2.2.5.1.1)",
    why: "Many web pages look the extended code up as a Win32 error code. It is not one: \
         mstsc's extended code is an ExtendedDisconnectReasonCode \
         (IMsRdpClient::ExtendedDisconnectReason), whose values mirror the ERRINFO codes a server \
         sends in its Set Error Info PDU. Nothing about server memory is involved.",
    source: concat!(
        "Microsoft Learn: ExtendedDisconnectReasonCode enumeration ",
        "(https://learn.microsoft.com/en-us/windows/win32/termserv/extendeddisconnectreasoncode); ",
        "[MS-RDPBCGR] 2.2.5.1.1; [MS-ERREF] 2.2 Win32 Error Codes (ERROR_ARENA_TRASHED \
         = 0x00000007)"
    ),
};

/// The answer to `rdpl explain CODE [EXTENDED]`: the main code read as an mstsc disconnect reason first (that
/// is what the dialog shows), plus every other table with the number; the extended code read as an
/// `ExtendedDisconnectReasonCode` (and the matching ERRINFO code). Numbers no table documents come back
/// with the ranges they fall in and `documented: false`.
pub fn explain(code: u32, extended: Option<u32>) -> Explanation {
    let main = main_reading(code);
    let ext = extended.map(extended_reading);
    let mut corrections = Vec::new();
    let seven_as_extended = extended == Some(ARENA_TRASHED.code)
        || (code == ARENA_TRASHED.code
            && main
                .matches
                .iter()
                .any(|m| m.entry.family == Family::ExtendedReason));
    if seven_as_extended {
        corrections.push(ARENA_TRASHED);
    }
    let summary = summarize(&main, ext.as_ref(), &corrections);
    Explanation {
        code: main,
        extended: ext,
        corrections,
        summary,
    }
}

fn with_library(mut s: String, m: &Explained) -> String {
    if let Some(lib) = &m.library {
        let _ = write!(s, " [ironrdp-pdu: {}]", lib.text);
    }
    s
}

fn one_line(m: &Explained) -> String {
    let mut s = with_library(
        format!(
            "{}: {} {} — {}",
            m.family_title, m.hex, m.entry.name, m.entry.meaning
        ),
        m,
    );
    if let Some(via) = &m.via {
        let _ = write!(s, " (via: {via})");
    }
    s
}

fn range_lines(out: &mut Vec<String>, r: &Reading) {
    for n in &r.ranges {
        out.push(format!("- {} falls in {}: {}", r.hex, n.range, n.what));
    }
    if !r.searched.is_empty() {
        let titles: Vec<&str> = Family::ALL
            .iter()
            .filter(|f| r.searched.contains(&f.id()))
            .map(|f| f.title())
            .collect();
        out.push(format!("Searched: {}.", titles.join(", ")));
    }
    if !r.neighbours.is_empty() {
        let near: Vec<String> = r
            .neighbours
            .iter()
            .map(|n| format!("{} {} ({})", n.family.title(), n.hex, n.name))
            .collect();
        out.push(format!(
            "Nearest documented values (was it one of these?): {}.",
            near.join("; ")
        ));
    }
}

fn summarize(main: &Reading, ext: Option<&Reading>, corrections: &[Correction]) -> Vec<String> {
    let mut out = Vec::new();
    let label = format!("{} ({})", main.hex, main.value);
    match main.matches.first() {
        Some(first) if first.entry.family == Family::MstscDisconnect && first.via.is_none() => {
            out.push(format!(
                "Error code {label} is mstsc disconnect reason {}: {}",
                first.entry.name, first.entry.meaning
            ));
            // With an extended code the main code is surely an mstsc one; the other readings are noise.
            if ext.is_none() {
                for m in &main.matches[1..] {
                    out.push(format!("Also, as an {}", one_line(m)));
                }
            }
        }
        Some(_) => {
            out.push(format!(
                "{label} is not an mstsc disconnect reason; these tables document it:"
            ));
            for m in &main.matches {
                out.push(format!("- {}", one_line(m)));
            }
        }
        None => {
            out.push(format!(
                "{label} is not documented in any table rdpl knows; rdpl does not guess a meaning."
            ));
            range_lines(&mut out, main);
        }
    }
    if let Some(x) = ext {
        let xlabel = format!("{} ({})", x.hex, x.value);
        if x.matches.is_empty() {
            out.push(format!(
                "Extended error code {xlabel} is not a documented ExtendedDisconnectReasonCode or \
                 ERRINFO code; rdpl does not guess a meaning."
            ));
        }
        for (i, m) in x.matches.iter().enumerate() {
            let line = match (m.entry.family, i) {
                (Family::ExtendedReason, _) => {
                    format!(
                        "Extended error code {xlabel} is {}: {}",
                        m.entry.name, m.entry.meaning
                    )
                }
                (_, 0) => format!(
                    "Extended error code {xlabel} is not listed in ExtendedDisconnectReasonCode; as the \
                     server's ERRINFO code it is {}: {}",
                    m.entry.name, m.entry.meaning
                ),
                _ => format!(
                    "The server's reason, as MS-RDPBCGR names it: {}: {}",
                    m.entry.name, m.entry.meaning
                ),
            };
            out.push(with_library(line, m));
        }
        range_lines(&mut out, x);
    }
    for c in corrections {
        out.push(format!(
            "Not {}: that reading is wrong. It is {}. {}",
            c.wrong, c.right, c.why
        ));
    }
    let fix = ext
        .into_iter()
        .flat_map(|x| x.matches.iter())
        .chain(main.matches.iter())
        .find_map(|m| m.entry.fix);
    if let Some(fix) = fix {
        out.push(format!("What to do: {fix}"));
    }
    out
}

/// Escapes a table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The content of docs/errors.md, rendered from the tables: one section per family with code (hex and
/// decimal), name, meaning (with likely causes, and ironrdp-pdu's text for ERRINFO and RDP_NEG_FAILURE
/// codes), fix and source.
pub fn markdown() -> String {
    let mut s = String::new();
    s.push_str("# RDP error codes\n\n");
    s.push_str(
        "<!-- Generated by `rdpl-core` from launcher/core/src/explain/codes.rs \
         (explain::markdown()); do not edit by hand. -->\n\n",
    );
    s.push_str(
        "What the numbers in RDP error messages mean, where each is documented, and \
         what to do. `rdpl explain CODE [EXTENDED]` looks a number up in all of these tables (hex \
         like `0x904` or decimal like `2308`); `--json` prints the same as JSON. mstsc's \
         \"Extended error code\" is an ExtendedDisconnectReasonCode, not a Win32 error code: \
         extended code 7 is exDiscReasonServerDeniedConnection, not ERROR_ARENA_TRASHED.\n\n",
    );
    s.push_str(
        "ERRINFO and RDP_NEG_FAILURE descriptions marked *ironrdp-pdu* come from the \
         `ironrdp-pdu` crate at run time. A number that no table lists is reported as \
         undocumented, with the range it falls in; rdpl never guesses.\n\n",
    );
    for f in Family::ALL {
        let n = all().iter().filter(|e| e.family == f).count();
        let _ = writeln!(s, "- [{}](#{}) ({n})", f.title(), anchor(f.title()));
    }
    s.push('\n');
    for f in Family::ALL {
        let _ = writeln!(s, "## {}\n\n{}\n", f.title(), f.about());
        s.push_str("| Code | Name | Meaning | Fix | Source |\n|---|---|---|---|---|\n");
        for e in all().iter().filter(|e| e.family == f) {
            let mut meaning = e.meaning.to_owned();
            let lib = match f {
                Family::ErrInfo => errinfo_description(e.code),
                Family::NegFailure => neg_failure_description(e.code),
                _ => None,
            };
            if let Some(lib) = lib {
                let _ = write!(meaning, " *ironrdp-pdu:* {lib}.");
            }
            if !e.causes.is_empty() {
                let _ = write!(meaning, " Likely causes: {}.", e.causes.join("; "));
            }
            if let Some(id) = e.finding {
                let _ = write!(meaning, " `rdpl check` finding: `{id}`.");
            }
            let _ = writeln!(
                s,
                "| `{}` ({}) | `{}` | {} | {} | {} |",
                hex(e.code),
                e.code,
                cell(e.name),
                cell(&meaning),
                cell(e.fix.unwrap_or("")),
                cell(e.source)
            );
        }
        s.push('\n');
    }
    s.push_str("## Number ranges\n\nWhat rdpl says about a number that no table lists.\n\n");
    s.push_str("| Range | Family | Meaning | Source |\n|---|---|---|---|\n");
    for r in RANGES {
        let _ = writeln!(
            s,
            "| `{}`-`{}` | {} | {} | {} |",
            hex(r.first),
            hex(r.last),
            r.family.map_or("", Family::title),
            cell(r.what),
            cell(r.source)
        );
    }
    s
}

/// GitHub's heading anchor for a title.
fn anchor(title: &str) -> String {
    title
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' | '-' | '_' => Some(c),
            ' ' => Some('-'),
            _ => None,
        })
        .collect()
}

//! A table entry of the error-code tables and the family (table) it belongs to.

use serde::Serialize;

use crate::finding::FindingId;

/// A table of codes: where a number comes from decides what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// mstsc / Remote Desktop ActiveX control disconnect reasons (`discReason`).
    MstscDisconnect,
    /// mstscax `ExtendedDisconnectReasonCode` (the "Extended error code").
    ExtendedReason,
    /// MS-RDPBCGR 2.2.5.1.1 Set Error Info PDU codes (`ERRINFO_*`).
    ErrInfo,
    /// MS-RDPBCGR 2.2.1.2.2 RDP_NEG_FAILURE failure codes.
    NegFailure,
    /// MS-TSGU RD Gateway error codes (`E_PROXY_*`).
    GatewayHresult,
    /// FreeRDP connect-class last-error codes (`FREERDP_ERROR_CONNECT_*` / `ERRCONNECT_*`).
    FreeRdpConnect,
    /// xfreerdp process exit codes (`XF_EXIT_*`).
    XfreerdpExit,
    /// Network Level Authentication (CredSSP) failures as mstsc words them.
    CredSsp,
    /// NTSTATUS values (logon failures reported through CredSSP).
    NtStatus,
    /// SSPI / Schannel `SEC_E_*` status codes.
    Sspi,
}

impl Family {
    /// Every family, in the order answers and docs list them.
    pub const ALL: [Family; 10] = [
        Family::MstscDisconnect,
        Family::ExtendedReason,
        Family::ErrInfo,
        Family::NegFailure,
        Family::GatewayHresult,
        Family::FreeRdpConnect,
        Family::XfreerdpExit,
        Family::CredSsp,
        Family::NtStatus,
        Family::Sspi,
    ];

    /// The machine-readable id (as in JSON).
    pub fn id(self) -> &'static str {
        match self {
            Family::MstscDisconnect => "mstsc_disconnect",
            Family::ExtendedReason => "extended_reason",
            Family::ErrInfo => "err_info",
            Family::NegFailure => "neg_failure",
            Family::GatewayHresult => "gateway_hresult",
            Family::FreeRdpConnect => "free_rdp_connect",
            Family::XfreerdpExit => "xfreerdp_exit",
            Family::CredSsp => "cred_ssp",
            Family::NtStatus => "nt_status",
            Family::Sspi => "sspi",
        }
    }

    /// A short human title.
    pub fn title(self) -> &'static str {
        match self {
            Family::MstscDisconnect => "mstsc disconnect reason",
            Family::ExtendedReason => "extended disconnect reason (ExtendedDisconnectReasonCode)",
            Family::ErrInfo => "server error info (MS-RDPBCGR ERRINFO)",
            Family::NegFailure => "security negotiation failure (RDP_NEG_FAILURE)",
            Family::GatewayHresult => "RD Gateway error (MS-TSGU E_PROXY_*)",
            Family::FreeRdpConnect => "FreeRDP connect error (ERRCONNECT_*)",
            Family::XfreerdpExit => "xfreerdp exit code",
            Family::CredSsp => "Network Level Authentication (CredSSP) error",
            Family::NtStatus => "NTSTATUS logon failure",
            Family::Sspi => "SSPI / Schannel status (SEC_E_*)",
        }
    }

    /// Where one meets these codes.
    pub fn about(self) -> &'static str {
        match self {
            Family::MstscDisconnect => {
                "The \"Error code\" in the Remote Desktop Connection (mstsc) disconnect dialog: \
                 the discReason of the Remote Desktop ActiveX control (IMsTscAxEvents::OnDisconnected). \
                 Codes ending in 07 are authentication (SSL_ERR_*) failures."
            }
            Family::ExtendedReason => {
                "The \"Extended error code\" in the mstsc dialog \
                 (IMsRdpClient::ExtendedDisconnectReason). It is an ExtendedDisconnectReasonCode, not a \
                 Win32 error code; its values line up with the ERRINFO codes the server sends (0x1-0xC, \
                 0x100-0x10A, and the protocol range 0x1000-0x7FFF)."
            }
            Family::ErrInfo => {
                "The reason a server gives in its Set Error Info PDU just before it disconnects \
                 (MS-RDPBCGR 2.2.5.1.1). FreeRDP logs them as ERRINFO_*; mstsc shows them as the extended \
                 code or, for protocol errors, as \"Because of a protocol error (code: 0x...)\"."
            }
            Family::NegFailure => {
                "The failureCode of the RDP_NEG_FAILURE a server answers the X.224 Connection \
                 Request with when it can't accept any security protocol the client offered. `rdpl check` \
                 reports them as nego.* findings."
            }
            Family::GatewayHresult => {
                "Errors from a Remote Desktop Gateway (MS-TSGU), returned by its TsProxy* calls \
                 or in the HTTP transport's responses. 0x800759xx values are HRESULTs; 0x59xx/0x5Axx \
                 values are their HRESULT_CODE() form, used on the RPC receive pipe."
            }
            Family::FreeRdpConnect => {
                "FreeRDP's last error for a failed connection: FREERDP_ERROR_CONNECT_CLASS (2) \
                 << 16 | ERRCONNECT_*; FreeRDP logs them by name (ERRCONNECT_...) with this number."
            }
            Family::XfreerdpExit => {
                "The exit status of xfreerdp (FreeRDP's X11 client, 2.x and 3.x). 0-12 pass the \
                 server's ERRINFO code through, 32 is any RDP protocol error, 128 and up are FreeRDP's own \
                 connect errors; licensing errors, meant to be 16-26, come out as 240-250."
            }
            Family::CredSsp => {
                "Network Level Authentication (CredSSP) failures as the mstsc dialogs word \
                 them, listed under the SSPI status code behind each message."
            }
            Family::NtStatus => {
                "NTSTATUS values a server returns in the CredSSP TSRequest errorCode when the \
                 NLA logon fails; FreeRDP turns them into ERRCONNECT_* codes."
            }
            Family::Sspi => {
                "SSPI / Schannel status codes (SEC_E_*, FACILITY_SECURITY) from the client's \
                 security packages: Negotiate, Kerberos, NTLM, CredSSP and TLS."
            }
        }
    }
}

/// One documented code.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Entry {
    /// The table it belongs to.
    pub family: Family,
    /// The number.
    pub code: u32,
    /// Its symbolic name in the source.
    pub name: &'static str,
    /// What it means, in plain language.
    pub meaning: &'static str,
    /// Likely causes, most likely first.
    pub causes: &'static [&'static str],
    /// What to do about it.
    pub fix: Option<&'static str>,
    /// The `rdpl check` finding id that detects the same problem, if any.
    pub finding: Option<FindingId>,
    /// Where the code and its meaning are documented (title and section or URL, or repository path).
    pub source: &'static str,
    /// Entries in other families that describe the same event.
    #[serde(skip)]
    pub related: &'static [(Family, u32)],
}

impl Entry {
    /// An entry with no causes, fix, finding or relations yet.
    pub(crate) const fn new(
        family: Family,
        code: u32,
        name: &'static str,
        meaning: &'static str,
        source: &'static str,
    ) -> Entry {
        Entry {
            family,
            code,
            name,
            meaning,
            causes: &[],
            fix: None,
            finding: None,
            source,
            related: &[],
        }
    }

    /// With likely causes.
    pub(crate) const fn causes(self, causes: &'static [&'static str]) -> Entry {
        Entry { causes, ..self }
    }

    /// With a fix.
    pub(crate) const fn fix(self, fix: &'static str) -> Entry {
        Entry {
            fix: Some(fix),
            ..self
        }
    }

    /// With the matching `rdpl check` finding id.
    pub(crate) const fn finding(self, finding: FindingId) -> Entry {
        Entry {
            finding: Some(finding),
            ..self
        }
    }

    /// With related entries in other families.
    pub(crate) const fn related(self, related: &'static [(Family, u32)]) -> Entry {
        Entry { related, ..self }
    }
}

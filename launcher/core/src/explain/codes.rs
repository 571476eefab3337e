//! The code tables behind `rdpl explain`, family by family, codes ascending within a family.
//!
//! Every entry names its source. Meanings are rdpl's own plain-language wording of what the source says;
//! ERRINFO and RDP_NEG_FAILURE entries get ironrdp-pdu's text at run time on top (see `super::explained`).
//! Adding a code: put it in order in its family's block, with a source; the tests check order, uniqueness,
//! sources, related links and the ironrdp-pdu coverage.

use super::entry::{Entry, Family};
use crate::finding::FindingId;

use Family as F;

/// Source of the mstsc / ActiveX disconnect reasons.
pub(super) const SRC_MSTSC: &str = "Microsoft Learn: IMsTscAxEvents::OnDisconnected method, discReason \
     values (https://learn.microsoft.com/en-us/windows/win32/termserv/imstscaxevents-ondisconnected)";
/// Source of the ExtendedDisconnectReasonCode values.
pub(super) const SRC_EXT: &str = "Microsoft Learn: ExtendedDisconnectReasonCode enumeration (mstscax) \
     (https://learn.microsoft.com/en-us/windows/win32/termserv/extendeddisconnectreasoncode)";
/// Source of the ERRINFO codes.
pub(super) const SRC_ERRINFO: &str = "[MS-RDPBCGR] 2.2.5.1.1 Set Error Info PDU Data (TS_SET_ERROR_INFO_PDU) \
     (https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-rdpbcgr/\
     a21a1bd9-2303-49c1-90ec-3932435c248c); names as in FreeRDP include/freerdp/error.h";
/// Source of the ERRINFO licensing codes, with Microsoft's troubleshooting page.
const SRC_ERRINFO_LICENSE: &str = "[MS-RDPBCGR] 2.2.5.1.1 Set Error Info PDU Data (TS_SET_ERROR_INFO_PDU) \
     (https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-rdpbcgr/\
     a21a1bd9-2303-49c1-90ec-3932435c248c); Microsoft Learn: Troubleshoot specific RDP error messages to a \
     Windows VM in Azure, \"no Remote Desktop License Servers available\" \
     (https://learn.microsoft.com/en-us/troubleshoot/azure/virtual-machines/windows/\
     troubleshoot-specific-rdp-errors)";
/// Source of the RDP_NEG_FAILURE codes.
const SRC_NEG: &str = "[MS-RDPBCGR] 2.2.1.2.2 RDP Negotiation Failure (RDP_NEG_FAILURE) \
     (https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-rdpbcgr/\
     1b3920e7-0116-4345-bc45-f2c4ad012761)";
/// Source of RDP_NEG_FAILURE 7, which rdpl knows from ironrdp-pdu.
const SRC_NEG_ENTRA: &str = "[MS-RDPBCGR] 2.2.1.2.2 RDP Negotiation Failure (RDP_NEG_FAILURE) \
     (https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-rdpbcgr/\
     1b3920e7-0116-4345-bc45-f2c4ad012761); value 7 as ironrdp-pdu 0.11 defines it \
     (nego::FailureCode::ENTRA_AUTH_REQUIRED_BY_SERVER)";
/// Source of the RD Gateway codes.
pub(super) const SRC_TSGU: &str = "[MS-TSGU] 2.2.6 Error Codes \
     (https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-tsgu/\
     0007d661-a86d-4e8f-89f7-7f77f8824188); values as in FreeRDP libfreerdp/core/gateway/tsg.h and \
     ironrdp-mstsgu 0.1 (proto.rs)";
/// Source of the RD Gateway receive-pipe return values.
const SRC_TSGU_PIPE: &str = "[MS-TSGU] 3.2.6.2.x TsProxySetupReceivePipe (Opnum 8) return values \
     (https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-tsgu/)";
/// Source of FreeRDP's connect errors.
const SRC_FREERDP: &str = "FreeRDP include/freerdp/error.h (ERRCONNECT_*, FREERDP_ERROR_CONNECT_CLASS) and \
     libfreerdp/core/errconnect.c (https://github.com/FreeRDP/FreeRDP)";
/// Source of FreeRDP's NTSTATUS to connect-error mapping.
const SRC_FREERDP_NLA: &str = "FreeRDP include/freerdp/error.h and libfreerdp/core/nla.c (NTSTATUS in the \
     CredSSP errorCode to ERRCONNECT_*) (https://github.com/FreeRDP/FreeRDP)";
/// Source of xfreerdp's exit codes.
const SRC_XF: &str = "FreeRDP client/X11/xfreerdp.h (enum XF_EXIT_CODE) and client/X11/xf_client.c (error to \
     exit code mapping), 2.11.7 and 3.x (https://github.com/FreeRDP/FreeRDP)";
/// Source of the ERRINFO codes FreeRDP names beyond ironrdp-pdu's table.
const SRC_FREERDP_ERRINFO: &str = "FreeRDP include/freerdp/error.h, Error Info Codes (ERRINFO_PEER_DISCONNECTED; \
     not in ironrdp-pdu 0.11's table) (https://github.com/FreeRDP/FreeRDP)";
/// Source of the CredSSP encryption oracle message.
const SRC_ORACLE: &str = "Microsoft Support KB4093492: CredSSP updates for CVE-2018-0886 \
     (https://support.microsoft.com/help/4093492); [MS-ERREF] 2.1 HRESULT Values \
     (SEC_E_UNSUPPORTED_FUNCTION)";
/// Source of the "Local Security Authority cannot be contacted" and "credentials did not work" messages.
const SRC_AZURE_RDP: &str = "Microsoft Learn: Troubleshoot specific RDP error messages to a Windows VM in \
     Azure \
     (https://learn.microsoft.com/en-us/troubleshoot/azure/virtual-machines/windows/\
     troubleshoot-specific-rdp-errors); [MS-ERREF] 2.1 HRESULT Values";
/// Source of the NLA / domain controller message.
const SRC_AZURE_NLA: &str = "Microsoft Learn: Troubleshoot authentication errors when you use RDP to connect \
     to Azure VM \
     (https://learn.microsoft.com/en-us/troubleshoot/azure/virtual-machines/windows/\
     troubleshoot-authentication-error-rdp-vm); [MS-ERREF] 2.1 HRESULT Values";
/// Source of SSPI codes (values cross-checked with FreeRDP winpr/include/winpr/sspi.h).
pub(super) const SRC_HRESULT: &str = "[MS-ERREF] 2.1 HRESULT Values / winerror.h \
     (https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-erref/)";
/// Source of NTSTATUS codes (values cross-checked with FreeRDP winpr/include/winpr/nt.h).
const SRC_NTSTATUS: &str = "[MS-ERREF] 2.3.1 NTSTATUS Values \
     (https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-erref/); [MS-CSSP] 2.2.1 TSRequest \
     (errorCode); FreeRDP libfreerdp/core/nla.c";
/// Source of the SSPI codes mstsc shows for CredSSP delegation policy.
const SRC_DELEGATION: &str = "[MS-ERREF] 2.1 HRESULT Values \
     (https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-erref/); Microsoft Learn: \
     IMsTscAxEvents::OnDisconnected (SSL_ERR_DELEGATION_POLICY, SSL_ERR_POLICY_NTLM_ONLY)";

const fn m(code: u32, name: &'static str, meaning: &'static str) -> Entry {
    Entry::new(F::MstscDisconnect, code, name, meaning, SRC_MSTSC)
}

const fn x(code: u32, name: &'static str, meaning: &'static str) -> Entry {
    Entry::new(F::ExtendedReason, code, name, meaning, SRC_EXT)
}

const fn ei(code: u32, name: &'static str, meaning: &'static str) -> Entry {
    Entry::new(F::ErrInfo, code, name, meaning, SRC_ERRINFO)
}

const fn lic(code: u32, name: &'static str, meaning: &'static str) -> Entry {
    Entry::new(F::ErrInfo, code, name, meaning, SRC_ERRINFO_LICENSE)
        .causes(LICENSE_CAUSES)
        .fix(LICENSE_FIX)
}

const fn cb(code: u32, name: &'static str, meaning: &'static str) -> Entry {
    Entry::new(F::ErrInfo, code, name, meaning, SRC_ERRINFO).fix(BROKER_FIX)
}

/// An RDP-specific ERRINFO protocol error with nothing to add to ironrdp-pdu's description.
const fn proto(code: u32, name: &'static str) -> Entry {
    Entry::new(F::ErrInfo, code, name, PROTO_MEANING, SRC_ERRINFO)
        .causes(PROTO_CAUSES)
        .fix(PROTO_FIX)
}

const fn neg(code: u32, name: &'static str, meaning: &'static str, finding: FindingId) -> Entry {
    Entry::new(F::NegFailure, code, name, meaning, SRC_NEG).finding(finding)
}

const fn gw(code: u32, name: &'static str, meaning: &'static str) -> Entry {
    Entry::new(F::GatewayHresult, code, name, meaning, SRC_TSGU)
}

const fn fc(low: u32, name: &'static str, meaning: &'static str) -> Entry {
    Entry::new(F::FreeRdpConnect, 0x2_0000 | low, name, meaning, SRC_FREERDP)
}

/// A FreeRDP connect error FreeRDP derives from the NTSTATUS in the CredSSP errorCode.
const fn fcn(low: u32, name: &'static str, meaning: &'static str) -> Entry {
    Entry::new(F::FreeRdpConnect, 0x2_0000 | low, name, meaning, SRC_FREERDP_NLA)
}

const fn xf(code: u32, name: &'static str, meaning: &'static str) -> Entry {
    Entry::new(F::XfreerdpExit, code, name, meaning, SRC_XF)
}

const fn nt(code: u32, name: &'static str, meaning: &'static str) -> Entry {
    Entry::new(F::NtStatus, code, name, meaning, SRC_NTSTATUS)
}

const fn sec(code: u32, name: &'static str, meaning: &'static str) -> Entry {
    Entry::new(F::Sspi, code, name, meaning, SRC_HRESULT)
}

const PROTO_MEANING: &str = "A protocol error: the server could not process what the client sent at this \
     point of the connection, and disconnected.";
const PROTO_CAUSES: &[&str] = &[
    "a client bug or a client/server incompatibility",
    "a device between client and server (TLS-inspecting proxy, WAN optimizer) \
     altering the traffic",
];
const PROTO_FIX: &str = "Update the client (and the server); if it persists, the server's \
     Microsoft-Windows-RemoteDesktopServices-RdpCoreTS/Operational event log has the details.";
const LICENSE_CAUSES: &[&str] = &[
    "the RD Session Host's licensing grace period ended and no license server is \
     configured or reachable",
    "the license server has no RDS CALs of the configured type (per user / per device) left",
];
const LICENSE_FIX: &str = "On the RD Session Host: configure the licensing mode and license server (RD \
     Licensing Diagnoser shows what is wrong). For administration only, `mstsc /admin` connects without an \
     RDS license.";
const BROKER_FIX: &str = "A Connection Broker / virtual desktop deployment problem: check the RD Connection \
     Broker's event logs and the state of the target session host or virtual machine.";
const IDLE_FIX: &str = "The limit is the server's \"Set time limit for active but idle Remote Desktop \
     Services sessions\" policy (Remote Desktop Session Host > Session Time Limits); reconnect, or ask for \
     a longer limit.";
const ACTIVE_FIX: &str = "The limit is the server's \"Set time limit for active Remote Desktop Services \
     sessions\" policy (Remote Desktop Session Host > Session Time Limits).";
const RIGHTS_FIX: &str = "Add the user to the server's Remote Desktop Users group (or grant \"Allow log on \
     through Remote Desktop Services\"), and make sure no \"Deny log on through Remote Desktop Services\" \
     policy applies.";
const DENIED_CAUSES: &[&str] = &[
    "a server-side policy or configuration refused this connection; the server's \
     Microsoft-Windows-RemoteDesktopServices-RdpCoreTS/Operational and TerminalServices event \
     logs record why",
    "the problem is in a step `rdpl check` can test: TLS, the server certificate, or NLA",
];
const DENIED_FIX: &str = "Run `rdpl check TARGET` to rule out network, TLS, certificate and NLA problems, \
     then read the server's RdpCoreTS event log at the time of the attempt.";
const PASSWORD_FIX: &str = "Change the password another way first (another session, Ctrl+Alt+Del on a domain \
     computer, or the domain's password tools): Network Level Authentication needs a valid password before \
     a session exists.";
const WRONG_CREDS_CAUSES: &[&str] = &[
    "a wrong password, or a user name without the right prefix (local accounts: \
     COMPUTER\\user; domain accounts: DOMAIN\\user)",
    "stale saved credentials",
    "the account is new or was changed and has not reached the server's domain controller yet",
];
const WRONG_CREDS_FIX: &str = "Type the credentials again with the right prefix, and delete stale saved \
     credentials (Credential Manager / the profile).";
const MONITOR_FIX: &str = "Connect with fewer or smaller monitors (no multi-monitor or span), or one \
     monitor, and update the client.";
const GRAPHICS_FIX: &str = "A server-side graphics problem: check the server's RdpCoreTS and System event \
     logs and its display or GPU drivers, then reconnect.";
const RDP_SECURITY_FIX: &str = "Use TLS or NLA instead of Standard RDP Security (server security layer \
     Negotiate or SSL); that also protects the connection properly.";
const GATEWAY_LOG_FIX: &str = "A gateway-side fault: check the RD Gateway's \
     Microsoft-Windows-TerminalServices-Gateway/Operational event log.";
const GATEWAY_TARGET_CAUSES: &[&str] = &[
    "the target computer is off, or the gateway can't resolve or reach its name",
    "a firewall between the gateway and the target blocks the RDP port",
    "Remote Desktop is off on the target",
];
const GATEWAY_TARGET_FIX: &str = "From the gateway, check that the target's name resolves and its RDP port \
     answers; `rdpl check TARGET` run inside the network does the same.";
/// xfreerdp's licensing exit codes are computed with the wrong sign.
const XF_LICENSE_NOTE: &str = "Defined for this licensing error, but xf_exit_code_from_disconnect_reason() \
     computes reason - (0x100 + 16), so xfreerdp 2.x exits with 240-250 for licensing errors (ERRINFO \
     0x100-0x10A), not 16-26. FreeRDP 3 keeps the arithmetic, behind an asserting integer cast.";

/// Every entry. Families in `Family::ALL` order, codes ascending within a family.
pub(super) static ENTRIES: &[Entry] = &[
    // ---- mstsc / ActiveX disconnect reasons ----
    m(
        0x0,
        "disconnectReasonNoInfo",
        "No information is available about why the connection ended.",
    ),
    m(
        0x1,
        "disconnectReasonLocalNotError",
        "Local disconnection: the connection was closed on this computer. Not an error.",
    ),
    m(
        0x2,
        "disconnectReasonRemoteByUser",
        "Remote disconnection by the user: the session was disconnected or signed out \
         from inside it. Not an error.",
    ),
    m(
        0x3,
        "disconnectReasonByServer",
        "Remote disconnection by the server. Not an error in itself: the extended code \
         says why the server ended the connection.",
    )
    .fix("Read the extended code: `rdpl explain 0x3 EXTENDED`."),
    m(
        0x104,
        "disconnectReasonDNSLookupFailed",
        "DNS name lookup failure: the server's name could not be resolved.",
    )
    .causes(&[
        "the name is misspelled or not in DNS",
        "this computer asks a DNS server that does not know the name (VPN not connected, split DNS)",
    ])
    .fix("Check the name; `rdpl check TARGET` shows what DNS answers.")
    .finding(FindingId::DnsError),
    m(
        0x106,
        "disconnectReasonOutOfMemory",
        "The client ran out of memory.",
    ),
    m(
        0x108,
        "disconnectReasonConnectionTimedOut",
        "Connection timed out: the server did not answer in time.",
    )
    .causes(&[
        "the server is off or unreachable",
        "a firewall drops traffic to the RDP port (3389 unless changed)",
        "the wrong port",
    ])
    .fix("`rdpl check TARGET` tells a filtered port from a host that is down.")
    .finding(FindingId::TcpTimeout),
    m(
        0x204,
        "disconnectReasonSocketConnectFailed",
        "The TCP connection to the server could not be opened (Windows Sockets connect failed).",
    )
    .causes(&[
        "nothing listens on the port: Remote Desktop is off, or listens on another port",
        "a firewall rejects the connection",
        "no route to the host",
    ])
    .fix("`rdpl check TARGET` shows whether the port is refused, filtered or unreachable.")
    .finding(FindingId::TcpRefused),
    m(
        0x206,
        "disconnectReasonOutOfMemory2",
        "The client ran out of memory.",
    ),
    m(
        0x208,
        "disconnectReasonHostNotFound",
        "Host not found: the name does not exist in DNS.",
    )
    .causes(&[
        "the name is misspelled",
        "the name exists only in a DNS zone this computer can't see (VPN, split DNS)",
    ])
    .fix("Check the name; `rdpl check TARGET` shows what DNS answers.")
    .finding(FindingId::DnsNxdomain),
    m(
        0x304,
        "disconnectReasonWinsockSendFailed",
        "Sending to the server failed (Windows Sockets send failed): the connection broke.",
    )
    .causes(&["the network dropped, or a device in between reset the connection"]),
    m(
        0x306,
        "disconnectReasonOutOfMemory3",
        "The client ran out of memory.",
    ),
    m(
        0x308,
        "disconnectReasonInvalidIPAddr",
        "The IP address given is not valid.",
    ),
    m(
        0x404,
        "disconnectReasonSocketRecvFailed",
        "Receiving from the server failed (Windows Sockets recv failed): the connection broke.",
    )
    .causes(&["the network dropped, or a device in between reset the connection"]),
    m(
        0x406,
        "disconnectReasonInvalidSecurityData",
        "The security data is not valid.",
    ),
    m(
        0x408,
        "disconnectReasonInternalError",
        "Internal error in the client.",
    ),
    m(
        0x506,
        "disconnectReasonInvalidEncryption",
        "The encryption method given is not valid.",
    ),
    m(
        0x508,
        "disconnectReasonDNSLookupFailed2",
        "DNS lookup failed: the server's name could not be resolved.",
    )
    .fix("Check the name; `rdpl check TARGET` shows what DNS answers.")
    .finding(FindingId::DnsError),
    m(
        0x604,
        "disconnectReasonGetHostByNameFailed",
        "Resolving the server's name failed (Windows Sockets gethostbyname failed).",
    )
    .fix("Check the name; `rdpl check TARGET` shows what DNS answers.")
    .finding(FindingId::DnsError),
    m(
        0x606,
        "disconnectReasonInvalidServerSecurityInfo",
        "The server's security data is not valid.",
    ),
    m(
        0x608,
        "disconnectReasonTimerError",
        "Internal timer error in the client.",
    ),
    m(0x704, "disconnectReasonTimeoutOccurred", "A time-out occurred."),
    m(
        0x706,
        "disconnectReasonServerCertificateUnpackErr",
        "The client could not unpack the server's certificate.",
    ),
    m(0x804, "disconnectReasonInvalidIP", "A bad IP address was given."),
    m(
        0x807,
        "SSL_ERR_LOGON_FAILURE",
        "Logon failed: the server rejected the user name or password during Network \
         Level Authentication.",
    )
    .causes(WRONG_CREDS_CAUSES)
    .fix(WRONG_CREDS_FIX)
    .related(&[(F::CredSsp, 0x8009_030C), (F::NtStatus, 0xC000_006D)]),
    m(
        0x808,
        "disconnectReasonLicensingFailed",
        "License negotiation with the server failed.",
    )
    .causes(LICENSE_CAUSES)
    .related(&[(F::ErrInfo, 0x101), (F::ErrInfo, 0x102)]),
    m(
        0x904,
        "disconnectReasonAtClientWinsockFDCLOSE",
        "Socket closed: the connection to the server was closed (Windows Sockets \
         FD_CLOSE) while connecting or during the session.",
    )
    .causes(&[
        "the server refused the connection and closed it; the extended code, if shown, says why",
        "the server ended the connection during security setup (TLS, the certificate, NLA/CredSSP)",
        "a firewall, proxy or load balancer reset the connection",
        "the server restarted or its Remote Desktop Services service stopped",
    ])
    .fix(
        "Read the extended code if the dialog shows one (`rdpl explain 0x904 \
         EXTENDED`); `rdpl check TARGET` tests the network, TLS, certificate and NLA steps one by \
         one.",
    ),
    m(
        0x906,
        "disconnectReasonInternalSecurityError",
        "Internal security error in the client.",
    ),
    m(0x908, "disconnectReasonLicensingTimeout", "Licensing timed out.").related(&[(F::ErrInfo, 0x106)]),
    m(
        0xA06,
        "disconnectReasonInternalSecurityError2",
        "Internal security error in the client.",
    ),
    m(
        0xA07,
        "SSL_ERR_NO_SUCH_USER",
        "The user name has no account on the server or in its domain.",
    )
    .causes(&["a misspelled user name, or the wrong domain or computer prefix"])
    .related(&[(F::NtStatus, 0xC000_0064)]),
    m(0xB06, "disconnectReasonEncryptionError", "Encryption error."),
    m(0xB07, "SSL_ERR_ACCOUNT_DISABLED", "The account is disabled.")
        .fix("An administrator must enable the account.")
        .related(&[(F::NtStatus, 0xC000_0072), (F::FreeRdpConnect, 0x2_0012)]),
    m(0xC06, "disconnectReasonDecryptionError", "Decryption error."),
    m(
        0xC07,
        "SSL_ERR_ACCOUNT_RESTRICTION",
        "The account is restricted: the credentials are valid, but an account \
         restriction stops this logon.",
    )
    .causes(&[
        "logon hours or allowed workstations on the account",
        "a blank password, which Windows allows only at the console by default",
    ])
    .related(&[(F::NtStatus, 0xC000_006E), (F::FreeRdpConnect, 0x2_0017)]),
    m(
        0xC08,
        "disconnectReasonClientDecompressionError",
        "The client failed to decompress data from the server.",
    ),
    m(0xD07, "SSL_ERR_ACCOUNT_LOCKED_OUT", "The account is locked out.")
        .causes(&["too many wrong passwords, often from an old password saved on another device"])
        .fix(
            "Wait for the lockout to expire or have an administrator unlock the account; \
             then remove stale saved passwords.",
        )
        .related(&[(F::NtStatus, 0xC000_0234), (F::FreeRdpConnect, 0x2_0018)]),
    m(0xE07, "SSL_ERR_ACCOUNT_EXPIRED", "The account has expired.")
        .fix("An administrator must extend the account's expiry date.")
        .related(&[(F::NtStatus, 0xC000_0193), (F::FreeRdpConnect, 0x2_0019)]),
    m(0xF07, "SSL_ERR_PASSWORD_EXPIRED", "The password has expired.")
        .fix(PASSWORD_FIX)
        .related(&[(F::NtStatus, 0xC000_0071), (F::FreeRdpConnect, 0x2_000E)]),
    m(
        0x1207,
        "SSL_ERR_PASSWORD_MUST_CHANGE",
        "The password must be changed before the first logon.",
    )
    .fix(PASSWORD_FIX)
    .related(&[(F::NtStatus, 0xC000_0224), (F::FreeRdpConnect, 0x2_0013)]),
    m(
        0x1607,
        "SSL_ERR_DELEGATION_POLICY",
        "Policy does not allow delegating the credentials to this server.",
    )
    .causes(&[
        "the client's Credentials Delegation policies (\"Allow delegating default / \
         saved / fresh credentials\") do not list TERMSRV/<this server>",
    ])
    .fix(
        "On the client: Computer Configuration > Administrative Templates > System > \
         Credentials Delegation: add TERMSRV/<server name> to the matching \"Allow delegating ... \
         credentials\" policy, or connect by the name the policy already lists.",
    )
    .related(&[(F::CredSsp, 0x8009_035E)]),
    m(
        0x1707,
        "SSL_ERR_POLICY_NTLM_ONLY",
        "Delegating the credentials is not allowed because only NTLM worked: the server \
         was not mutually authenticated (no Kerberos).",
    )
    .causes(&[
        "Kerberos could not be used: the server was reached by IP address or by a name \
         without a service principal name, or no domain controller was reachable",
    ])
    .fix(
        "Connect by the server's full DNS name so Kerberos works, or allow delegation \
         \"with NTLM-only server authentication\" for this server in the client's Credentials \
         Delegation policies.",
    )
    .related(&[(F::CredSsp, 0x8009_035F)]),
    m(
        0x1807,
        "SSL_ERR_NO_AUTHENTICATING_AUTHORITY",
        "No authority could be contacted for authentication: the domain name may be \
         wrong, the domain unreachable, or a trust relationship broken.",
    )
    .related(&[(F::CredSsp, 0x8009_0311)]),
    m(
        0x1B07,
        "SSL_ERR_CERT_EXPIRED",
        "A certificate received during the connection has expired.",
    )
    .causes(&[
        "the server's Remote Desktop (TLS) certificate expired",
        "a smart card or client certificate expired",
    ])
    .fix(
        "`rdpl check TARGET` shows the server certificate's dates; renew it, or for the \
         self-signed one delete it from the server's Remote Desktop certificate store and restart \
         TermService to get a new one.",
    )
    .finding(FindingId::CertExpired)
    .related(&[(F::Sspi, 0x8009_0328)]),
    m(
        0x1C07,
        "SSL_ERR_SMARTCARD_WRONG_PIN",
        "A wrong PIN was entered for the smart card.",
    )
    .related(&[(F::NtStatus, 0xC000_0380)]),
    m(
        0x2107,
        "SSL_ERR_FRESH_CRED_REQUIRED_BY_SERVER",
        "The server's authentication policy does not accept saved credentials: the user \
         must type them.",
    )
    .fix("Connect without saved credentials and type the password.")
    .related(&[(F::ExtendedReason, 10), (F::ErrInfo, 0xA)]),
    m(
        0x2207,
        "SSL_ERR_SMARTCARD_CARD_BLOCKED",
        "The smart card is blocked.",
    )
    .fix("The card needs unblocking (PUK / the card administrator).")
    .related(&[(F::NtStatus, 0xC000_0381)]),
    // ---- ExtendedDisconnectReasonCode ----
    x(0, "exDiscReasonNoInfo", "No additional information is available.").related(&[(F::ErrInfo, 0x0)]),
    x(
        1,
        "exDiscReasonAPIInitiatedDisconnect",
        "An application disconnected the session: an administrative tool on the server, \
         run from another session.",
    )
    .related(&[(F::ErrInfo, 0x1)]),
    x(
        2,
        "exDiscReasonAPIInitiatedLogoff",
        "An application logged the session off: an administrative tool on the server, \
         run from another session.",
    )
    .related(&[(F::ErrInfo, 0x2)]),
    x(
        3,
        "exDiscReasonServerIdleTimeout",
        "The server disconnected the session because it was idle for longer than the server allows.",
    )
    .fix(IDLE_FIX)
    .related(&[(F::ErrInfo, 0x3)]),
    x(
        4,
        "exDiscReasonServerLogonTimeout",
        "The server disconnected the session because a time limit ran out (Microsoft's \
         wording: the period designated for connection; MS-RDPBCGR's ERRINFO 0x4: the active \
         session limit).",
    )
    .fix(ACTIVE_FIX)
    .related(&[(F::ErrInfo, 0x4)]),
    x(
        5,
        "exDiscReasonReplacedByOtherConnection",
        "Another connection took over this session.",
    )
    .causes(&[
        "the same user connected to the session from another computer",
        "someone signed in at the server's console (on a Windows client OS, one \
         interactive user at a time)",
    ])
    .related(&[(F::ErrInfo, 0x5)]),
    x(6, "exDiscReasonOutOfMemory", "The server ran out of memory.").related(&[(F::ErrInfo, 0x6)]),
    x(
        7,
        "exDiscReasonServerDeniedConnection",
        "The server denied the connection.",
    )
    .causes(DENIED_CAUSES)
    .fix(DENIED_FIX)
    .related(&[(F::ErrInfo, 0x7), (F::XfreerdpExit, 7)]),
    x(
        8,
        "exDiscReasonServerDeniedConnectionFips",
        "The server denied the connection for security reasons: it requires \
         FIPS-compliant algorithms.",
    )
    .causes(&[
        "the server enforces \"System cryptography: Use FIPS compliant algorithms\" (or \
         RDP encryption level FIPS) and the client's connection does not meet it",
    ])
    .related(&[(F::XfreerdpExit, 8)]),
    x(
        9,
        "exDiscReasonServerInsufficientPrivileges",
        "The user is not allowed to connect to this server remotely (insufficient \
         access privileges).",
    )
    .fix(RIGHTS_FIX)
    .related(&[(F::ErrInfo, 0x9)]),
    x(
        10,
        "exDiscReasonServerFreshCredsRequired",
        "The server requires freshly typed credentials; it does not accept saved ones.",
    )
    .fix("Connect without saved credentials and type the password.")
    .related(&[(F::ErrInfo, 0xA), (F::MstscDisconnect, 0x2107)]),
    x(
        11,
        "exDiscReasonRpcInitiatedDisconnectByUser",
        "The user's own activity disconnected the session (from inside the session).",
    )
    .related(&[(F::ErrInfo, 0xB)]),
    x(
        12,
        "exDiscReasonLogoffByUser",
        "The user signed out of the session.",
    )
    .related(&[(F::ErrInfo, 0xC)]),
    x(
        256,
        "exDiscReasonLicenseInternal",
        "Internal licensing error on the server.",
    )
    .causes(LICENSE_CAUSES)
    .fix(LICENSE_FIX)
    .related(&[(F::ErrInfo, 0x100)]),
    x(
        257,
        "exDiscReasonLicenseNoLicenseServer",
        "No Remote Desktop license server was available to provide a license.",
    )
    .causes(LICENSE_CAUSES)
    .fix(LICENSE_FIX)
    .related(&[(F::ErrInfo, 0x101)]),
    x(
        258,
        "exDiscReasonLicenseNoLicense",
        "No valid license (RDS client access license) was available.",
    )
    .causes(LICENSE_CAUSES)
    .fix(LICENSE_FIX)
    .related(&[(F::ErrInfo, 0x102)]),
    x(
        259,
        "exDiscReasonLicenseErrClientMsg",
        "The server received a licensing message from the client that was not valid.",
    )
    .related(&[(F::ErrInfo, 0x103)]),
    x(
        260,
        "exDiscReasonLicenseHwidDoesntMatchLicense",
        "The hardware ID does not match the one in the client's license.",
    )
    .related(&[(F::ErrInfo, 0x104)]),
    x(
        261,
        "exDiscReasonLicenseErrClientLicense",
        "The client's license is not valid.",
    )
    .related(&[(F::ErrInfo, 0x105)]),
    x(
        262,
        "exDiscReasonLicenseCantFinishProtocol",
        "Network problems interrupted the licensing protocol.",
    )
    .related(&[(F::ErrInfo, 0x106)]),
    x(
        263,
        "exDiscReasonLicenseClientEndedProtocol",
        "The client ended the licensing protocol early.",
    )
    .related(&[(F::ErrInfo, 0x107)]),
    x(
        264,
        "exDiscReasonLicenseErrClientEncryption",
        "A licensing message was encrypted incorrectly.",
    )
    .related(&[(F::ErrInfo, 0x108)]),
    x(
        265,
        "exDiscReasonLicenseCantUpgradeLicense",
        "The client's license could not be upgraded or renewed.",
    )
    .related(&[(F::ErrInfo, 0x109)]),
    x(
        266,
        "exDiscReasonLicenseNoRemoteConnections",
        "The server is not licensed to accept remote connections.",
    )
    .causes(LICENSE_CAUSES)
    .fix(LICENSE_FIX)
    .related(&[(F::ErrInfo, 0x10A)]),
    x(
        267,
        "exDiscReasonLicenseCreatingLicStoreAccDenied",
        "Access was denied while the client created the registry key for its license store.",
    )
    .fix(
        "On the client: let it create its license store, for example by running it once \
         as an administrator.",
    ),
    x(
        768,
        "exDiscReasonRdpEncInvalidCredentials",
        "Invalid credentials were encountered.",
    ),
    x(
        4096,
        "exDiscReasonProtocolRangeStart",
        "Start of the range of internal protocol errors (0x1000-0x7FFF); Microsoft says \
         to check the server's event log for details.",
    ),
    x(
        32767,
        "exDiscReasonProtocolRangeEnd",
        "End of the range of internal protocol errors (0x1000-0x7FFF).",
    ),
    // ---- MS-RDPBCGR ERRINFO ----
    ei(0x0, "ERRINFO_NONE", "No error; the code is to be ignored."),
    ei(
        0x1,
        "ERRINFO_RPC_INITIATED_DISCONNECT",
        "An administrative tool on the server, run from another session, disconnected \
         this session (for example Task Manager's Users tab).",
    )
    .related(&[(F::ExtendedReason, 1), (F::XfreerdpExit, 1)]),
    ei(
        0x2,
        "ERRINFO_RPC_INITIATED_LOGOFF",
        "An administrative tool on the server, run from another session, forced this \
         session to log off.",
    )
    .related(&[(F::ExtendedReason, 2), (F::XfreerdpExit, 2)]),
    ei(
        0x3,
        "ERRINFO_IDLE_TIMEOUT",
        "The server's idle session limit ran out.",
    )
    .fix(IDLE_FIX)
    .related(&[(F::ExtendedReason, 3), (F::XfreerdpExit, 3)]),
    ei(
        0x4,
        "ERRINFO_LOGON_TIMEOUT",
        "The server's active session limit ran out.",
    )
    .fix(ACTIVE_FIX)
    .related(&[(F::ExtendedReason, 4), (F::XfreerdpExit, 4)]),
    ei(
        0x5,
        "ERRINFO_DISCONNECTED_BY_OTHER_CONNECTION",
        "Another connection took over this session.",
    )
    .causes(&[
        "the same user connected to the session from another computer",
        "someone signed in at the server's console",
    ])
    .related(&[(F::ExtendedReason, 5), (F::XfreerdpExit, 5)]),
    ei(0x6, "ERRINFO_OUT_OF_MEMORY", "The server ran out of memory.")
        .related(&[(F::ExtendedReason, 6), (F::XfreerdpExit, 6)]),
    ei(
        0x7,
        "ERRINFO_SERVER_DENIED_CONNECTION",
        "The server denied the connection.",
    )
    .causes(DENIED_CAUSES)
    .fix(DENIED_FIX)
    .related(&[(F::ExtendedReason, 7), (F::XfreerdpExit, 7)]),
    ei(
        0x9,
        "ERRINFO_SERVER_INSUFFICIENT_PRIVILEGES",
        "The user is not allowed to connect to this server remotely.",
    )
    .fix(RIGHTS_FIX)
    .related(&[(F::ExtendedReason, 9), (F::XfreerdpExit, 9)]),
    ei(
        0xA,
        "ERRINFO_SERVER_FRESH_CREDENTIALS_REQUIRED",
        "The server does not accept saved credentials; the user must type them for each connection.",
    )
    .fix("Connect without saved credentials and type the password.")
    .related(&[
        (F::ExtendedReason, 10),
        (F::MstscDisconnect, 0x2107),
        (F::XfreerdpExit, 10),
    ]),
    ei(
        0xB,
        "ERRINFO_RPC_INITIATED_DISCONNECT_BY_USER",
        "An administrative tool run inside this session disconnected it (for example \
         the user chose Disconnect).",
    )
    .related(&[(F::ExtendedReason, 11), (F::XfreerdpExit, 11)]),
    ei(
        0xC,
        "ERRINFO_LOGOFF_BY_USER",
        "The user signed out of the session.",
    )
    .related(&[(F::ExtendedReason, 12)]),
    ei(
        0xF,
        "ERRINFO_CLOSE_STACK_ON_DRIVER_NOT_READY",
        "The remote session's display driver did not report in time while starting.",
    )
    .fix(
        "A server-side graphics problem: check the server's System and RdpCoreTS event \
         logs and its display drivers.",
    ),
    ei(
        0x10,
        "ERRINFO_SERVER_DWM_CRASH",
        "The Desktop Window Manager in the remote session crashed.",
    )
    .fix("A server-side problem: check the server's Application and System event logs."),
    ei(
        0x11,
        "ERRINFO_CLOSE_STACK_ON_DRIVER_FAILURE",
        "The remote session's display driver failed while starting.",
    )
    .fix(
        "A server-side graphics problem: check the server's System and RdpCoreTS event \
         logs and its display drivers.",
    ),
    ei(
        0x12,
        "ERRINFO_CLOSE_STACK_ON_DRIVER_IFACE_FAILURE",
        "The remote session's display driver started but could not be used by the remoting stack.",
    )
    .fix(
        "A server-side graphics problem: check the server's System and RdpCoreTS event \
         logs and its display drivers.",
    ),
    ei(
        0x17,
        "ERRINFO_SERVER_WINLOGON_CRASH",
        "Winlogon in the remote session crashed.",
    )
    .fix("A server-side problem: check the server's Application and System event logs."),
    ei(
        0x18,
        "ERRINFO_SERVER_CSRSS_CRASH",
        "CSRSS in the remote session crashed.",
    )
    .fix("A server-side problem: check the server's Application and System event logs."),
    ei(0x19, "ERRINFO_SERVER_SHUTDOWN", "The server is shutting down.").fix("Wait until it is back up."),
    ei(0x1A, "ERRINFO_SERVER_REBOOT", "The server is restarting.")
        .fix("Wait until it is back up, then reconnect."),
    lic(
        0x100,
        "ERRINFO_LICENSE_INTERNAL",
        "Internal error in the server's licensing component.",
    )
    .related(&[(F::ExtendedReason, 256), (F::XfreerdpExit, 16)]),
    lic(
        0x101,
        "ERRINFO_LICENSE_NO_LICENSE_SERVER",
        "No Remote Desktop license server could be found to provide a license (mstsc: \
         \"no Remote Desktop License Servers available to provide a license\").",
    )
    .related(&[(F::ExtendedReason, 257), (F::XfreerdpExit, 17)]),
    lic(
        0x102,
        "ERRINFO_LICENSE_NO_LICENSE",
        "No client access licenses (RDS CALs) are available for this server.",
    )
    .related(&[(F::ExtendedReason, 258), (F::XfreerdpExit, 18)]),
    lic(
        0x103,
        "ERRINFO_LICENSE_BAD_CLIENT_MSG",
        "The server received a licensing message from the client that was not valid.",
    )
    .related(&[(F::ExtendedReason, 259), (F::XfreerdpExit, 19)]),
    lic(
        0x104,
        "ERRINFO_LICENSE_HWID_DOESNT_MATCH_LICENSE",
        "The license stored by the client has been modified (its hardware ID does not match).",
    )
    .related(&[(F::ExtendedReason, 260), (F::XfreerdpExit, 20)]),
    lic(
        0x105,
        "ERRINFO_LICENSE_BAD_CLIENT_LICENSE",
        "The license stored by the client is in a format that is not valid.",
    )
    .related(&[(F::ExtendedReason, 261), (F::XfreerdpExit, 21)]),
    lic(
        0x106,
        "ERRINFO_LICENSE_CANT_FINISH_PROTOCOL",
        "Network problems cut the licensing protocol short.",
    )
    .related(&[(F::ExtendedReason, 262), (F::XfreerdpExit, 22)]),
    lic(
        0x107,
        "ERRINFO_LICENSE_CLIENT_ENDED_PROTOCOL",
        "The client ended the licensing protocol early.",
    )
    .related(&[(F::ExtendedReason, 263), (F::XfreerdpExit, 23)]),
    lic(
        0x108,
        "ERRINFO_LICENSE_BAD_CLIENT_ENCRYPTION",
        "A licensing message was encrypted incorrectly.",
    )
    .related(&[(F::ExtendedReason, 264), (F::XfreerdpExit, 24)]),
    lic(
        0x109,
        "ERRINFO_LICENSE_CANT_UPGRADE_LICENSE",
        "The license stored by the client could not be upgraded or renewed.",
    )
    .related(&[(F::ExtendedReason, 265), (F::XfreerdpExit, 25)]),
    lic(
        0x10A,
        "ERRINFO_LICENSE_NO_REMOTE_CONNECTIONS",
        "The server is not licensed to accept remote connections.",
    )
    .related(&[(F::ExtendedReason, 266), (F::XfreerdpExit, 26)]),
    cb(
        0x400,
        "ERRINFO_CB_DESTINATION_NOT_FOUND",
        "The Connection Broker could not find the target endpoint.",
    ),
    cb(
        0x402,
        "ERRINFO_CB_LOADING_DESTINATION",
        "The target the Connection Broker redirects to is disconnecting from the broker.",
    ),
    cb(
        0x404,
        "ERRINFO_CB_REDIRECTING_TO_DESTINATION",
        "Redirecting the connection to the target endpoint failed.",
    ),
    cb(
        0x405,
        "ERRINFO_CB_SESSION_ONLINE_VM_WAKE",
        "Waking the target virtual machine failed.",
    ),
    cb(
        0x406,
        "ERRINFO_CB_SESSION_ONLINE_VM_BOOT",
        "Starting the target virtual machine failed.",
    ),
    cb(
        0x407,
        "ERRINFO_CB_SESSION_ONLINE_VM_NO_DNS",
        "The target virtual machine's IP address could not be determined.",
    ),
    cb(
        0x408,
        "ERRINFO_CB_DESTINATION_POOL_NOT_FREE",
        "There is no free endpoint in the pool the Connection Broker manages.",
    ),
    cb(
        0x409,
        "ERRINFO_CB_CONNECTION_CANCELLED",
        "The Connection Broker cancelled processing of the connection.",
    ),
    cb(
        0x410,
        "ERRINFO_CB_CONNECTION_ERROR_INVALID_SETTINGS",
        "The routing settings in the connection request (the .rdp file's load balancing \
         info) could not be validated.",
    )
    .fix(
        "Connect with the .rdp file the deployment publishes (RD Web / the feed): its \
         loadbalanceinfo must match the collection.",
    ),
    cb(
        0x411,
        "ERRINFO_CB_SESSION_ONLINE_VM_BOOT_TIMEOUT",
        "Starting the target virtual machine timed out.",
    ),
    cb(
        0x412,
        "ERRINFO_CB_SESSION_ONLINE_VM_SESSMON_FAILED",
        "A session monitoring error occurred while the target virtual machine was starting.",
    ),
    // RDP-specific protocol errors: ironrdp-pdu's description says what was wrong.
    proto(0x10C9, "ERRINFO_UNKNOWN_DATA_PDU_TYPE"),
    proto(0x10CA, "ERRINFO_UNKNOWN_PDU_TYPE"),
    proto(0x10CB, "ERRINFO_DATA_PDU_SEQUENCE"),
    proto(0x10CD, "ERRINFO_CONTROL_PDU_SEQUENCE"),
    proto(0x10CE, "ERRINFO_INVALID_CONTROL_PDU_ACTION"),
    proto(0x10CF, "ERRINFO_INVALID_INPUT_PDU_TYPE"),
    proto(0x10D0, "ERRINFO_INVALID_INPUT_PDU_MOUSE"),
    proto(0x10D1, "ERRINFO_INVALID_REFRESH_RECT_PDU"),
    proto(0x10D2, "ERRINFO_CREATE_USER_DATA_FAILED"),
    ei(
        0x10D3,
        "ERRINFO_CONNECT_FAILED",
        "The server failed while setting up the connection's channels (the Channel \
         Connection phase).",
    )
    .causes(PROTO_CAUSES)
    .fix(PROTO_FIX),
    proto(0x10D4, "ERRINFO_CONFIRM_ACTIVE_HAS_WRONG_SHAREID"),
    proto(0x10D5, "ERRINFO_CONFIRM_ACTIVE_HAS_WRONG_ORIGINATOR"),
    proto(0x10DA, "ERRINFO_PERSISTENT_KEY_PDU_BAD_LENGTH"),
    proto(0x10DB, "ERRINFO_PERSISTENT_KEY_PDU_ILLEGAL_FIRST"),
    proto(0x10DC, "ERRINFO_PERSISTENT_KEY_PDU_TOO_MANY_TOTAL_KEYS"),
    proto(0x10DD, "ERRINFO_PERSISTENT_KEY_PDU_TOO_MANY_CACHE_KEYS"),
    proto(0x10DE, "ERRINFO_INPUT_PDU_BAD_LENGTH"),
    proto(0x10DF, "ERRINFO_BITMAP_CACHE_ERROR_PDU_BAD_LENGTH"),
    proto(0x10E0, "ERRINFO_SECURITY_DATA_TOO_SHORT"),
    proto(0x10E1, "ERRINFO_VCHANNEL_DATA_TOO_SHORT"),
    proto(0x10E2, "ERRINFO_SHARE_DATA_TOO_SHORT"),
    proto(0x10E3, "ERRINFO_BAD_SUPPRESS_OUTPUT_PDU"),
    proto(0x10E5, "ERRINFO_CONFIRM_ACTIVE_PDU_TOO_SHORT"),
    proto(0x10E7, "ERRINFO_CAPABILITY_SET_TOO_SMALL"),
    proto(0x10E8, "ERRINFO_CAPABILITY_SET_TOO_LARGE"),
    proto(0x10E9, "ERRINFO_NO_CURSOR_CACHE"),
    ei(
        0x10EA,
        "ERRINFO_BAD_CAPABILITIES",
        "The server did not accept the capabilities the client announced.",
    )
    .causes(PROTO_CAUSES)
    .fix(PROTO_FIX),
    proto(0x10EC, "ERRINFO_VIRTUAL_CHANNEL_DECOMPRESSION"),
    proto(0x10ED, "ERRINFO_INVALID_VC_COMPRESSION_TYPE"),
    proto(0x10EF, "ERRINFO_INVALID_CHANNEL_ID"),
    ei(
        0x10F0,
        "ERRINFO_VCHANNELS_TOO_MANY",
        "The client asked for more than the 31 static virtual channels allowed.",
    )
    .causes(&["many redirections (drives, printers, smart cards, ports, USB) or client plugins at once"])
    .fix("Turn off redirections or plugins you don't need for this host."),
    ei(
        0x10F3,
        "ERRINFO_REMOTEAPP_NOT_ENABLED",
        "The server only hosts RemoteApp programs, and the client asked for a full desktop.",
    )
    .fix(
        "Connect with the RemoteApp's .rdp file (remoteapplicationmode:i:1 and the \
         program), or to a full-desktop collection.",
    ),
    proto(0x10F4, "ERRINFO_CACHE_CAP_NOT_SET"),
    proto(0x10F5, "ERRINFO_BITMAP_CACHE_ERROR_PDU_BAD_LENGTH2"),
    proto(0x10F6, "ERRINFO_OFFSCREEN_CACHE_ERROR_PDU_BAD_LENGTH"),
    proto(0x10F7, "ERRINFO_DRAWNINEGRID_CACHE_ERROR_PDU_BAD_LENGTH"),
    proto(0x10F8, "ERRINFO_GDIPLUS_PDU_BAD_LENGTH"),
    proto(0x1111, "ERRINFO_SECURITY_DATA_TOO_SHORT2"),
    proto(0x1112, "ERRINFO_SECURITY_DATA_TOO_SHORT3"),
    proto(0x1113, "ERRINFO_SECURITY_DATA_TOO_SHORT4"),
    proto(0x1114, "ERRINFO_SECURITY_DATA_TOO_SHORT5"),
    proto(0x1115, "ERRINFO_SECURITY_DATA_TOO_SHORT6"),
    proto(0x1116, "ERRINFO_SECURITY_DATA_TOO_SHORT7"),
    proto(0x1117, "ERRINFO_SECURITY_DATA_TOO_SHORT8"),
    proto(0x1118, "ERRINFO_SECURITY_DATA_TOO_SHORT9"),
    proto(0x1119, "ERRINFO_SECURITY_DATA_TOO_SHORT10"),
    proto(0x111A, "ERRINFO_SECURITY_DATA_TOO_SHORT11"),
    proto(0x111B, "ERRINFO_SECURITY_DATA_TOO_SHORT12"),
    proto(0x111C, "ERRINFO_SECURITY_DATA_TOO_SHORT13"),
    proto(0x111D, "ERRINFO_SECURITY_DATA_TOO_SHORT14"),
    proto(0x111E, "ERRINFO_SECURITY_DATA_TOO_SHORT15"),
    proto(0x111F, "ERRINFO_SECURITY_DATA_TOO_SHORT16"),
    proto(0x1120, "ERRINFO_SECURITY_DATA_TOO_SHORT17"),
    proto(0x1121, "ERRINFO_SECURITY_DATA_TOO_SHORT18"),
    proto(0x1122, "ERRINFO_SECURITY_DATA_TOO_SHORT19"),
    proto(0x1123, "ERRINFO_SECURITY_DATA_TOO_SHORT20"),
    proto(0x1124, "ERRINFO_SECURITY_DATA_TOO_SHORT21"),
    proto(0x1125, "ERRINFO_SECURITY_DATA_TOO_SHORT22"),
    proto(0x1126, "ERRINFO_SECURITY_DATA_TOO_SHORT23"),
    ei(
        0x1129,
        "ERRINFO_BAD_MONITOR_DATA",
        "The server rejected the client's monitor layout (fewer monitor entries than announced).",
    )
    .causes(PROTO_CAUSES)
    .fix(MONITOR_FIX),
    proto(0x112A, "ERRINFO_VC_DECOMPRESSED_REASSEMBLE_FAILED"),
    proto(0x112B, "ERRINFO_VC_DATA_TOO_LONG"),
    proto(0x112C, "ERRINFO_BAD_FRAME_ACK_DATA"),
    ei(
        0x112D,
        "ERRINFO_GRAPHICS_MODE_NOT_SUPPORTED",
        "The server does not support the graphics mode the client asked for.",
    )
    .fix(GRAPHICS_FIX),
    ei(
        0x112E,
        "ERRINFO_GRAPHICS_SUBSYSTEM_RESET_FAILED",
        "The server's graphics subsystem failed to reset.",
    )
    .fix(GRAPHICS_FIX),
    ei(
        0x112F,
        "ERRINFO_GRAPHICS_SUBSYSTEM_FAILED",
        "The server's graphics subsystem is in an error state and can't go on encoding the screen.",
    )
    .fix(GRAPHICS_FIX),
    proto(0x1130, "ERRINFO_TIMEZONE_KEY_NAME_LENGTH_TOO_SHORT"),
    proto(0x1131, "ERRINFO_TIMEZONE_KEY_NAME_LENGTH_TOO_LONG"),
    proto(0x1132, "ERRINFO_DYNAMIC_DST_DISABLED_FIELD_MISSING"),
    proto(0x1133, "ERRINFO_VC_DECODING_ERROR"),
    ei(
        0x1134,
        "ERRINFO_VIRTUALDESKTOPTOOLARGE",
        "The client's monitor layout is too large: the virtual desktop is wider or \
         taller than 32,766 pixels.",
    )
    .fix(MONITOR_FIX),
    ei(
        0x1135,
        "ERRINFO_MONITORGEOMETRYVALIDATIONFAILED",
        "The server rejected the client's monitor layout as invalid.",
    )
    .fix(MONITOR_FIX),
    ei(
        0x1136,
        "ERRINFO_INVALIDMONITORCOUNT",
        "The client announced more monitors than the server accepts.",
    )
    .fix(MONITOR_FIX),
    ei(
        0x1191,
        "ERRINFO_UPDATE_SESSION_KEY_FAILED",
        "Standard RDP Security (the old RDP encryption layer) failed to update its session keys.",
    )
    .fix(RDP_SECURITY_FIX),
    ei(
        0x1192,
        "ERRINFO_DECRYPT_FAILED",
        "Standard RDP Security (the old RDP encryption layer) failed to decrypt data or \
         to create session keys.",
    )
    .fix(RDP_SECURITY_FIX),
    ei(
        0x1193,
        "ERRINFO_ENCRYPT_FAILED",
        "Standard RDP Security (the old RDP encryption layer) failed to encrypt data.",
    )
    .fix(RDP_SECURITY_FIX),
    ei(
        0x1194,
        "ERRINFO_ENCRYPTION_PACKAGE_MISMATCH",
        "Client and server have no encryption method in common for Standard RDP Security.",
    )
    .causes(&["the server requires FIPS or high encryption that the client does not offer"])
    .fix(RDP_SECURITY_FIX),
    ei(
        0x1195,
        "ERRINFO_DECRYPT_FAILED2",
        "Unencrypted data arrived where Standard RDP Security requires encryption.",
    )
    .fix(RDP_SECURITY_FIX),
    Entry::new(
        F::ErrInfo,
        0x1196,
        "ERRINFO_PEER_DISCONNECTED",
        "The other end of the connection went away: the server lost its peer (the client, or a gateway or broker in \
         between) before the session ended.",
        SRC_FREERDP_ERRINFO,
    ),
    // ---- RDP_NEG_FAILURE ----
    neg(
        1,
        "SSL_REQUIRED_BY_SERVER",
        "The server requires TLS (Enhanced RDP Security); the client offered only \
         Standard RDP Security, or only CredSSP to a server that supports just TLS.",
        FindingId::NegoSslRequired,
    )
    .fix(
        "Let the client negotiate TLS (security layer Negotiate or TLS; FreeRDP: \
         /sec:tls or no /sec).",
    ),
    neg(
        2,
        "SSL_NOT_ALLOWED_BY_SERVER",
        "The server only does Standard RDP Security and refuses TLS and CredSSP: the \
         connection is not protected by TLS and the server can't be authenticated.",
        FindingId::NegoSslNotAllowed,
    )
    .fix("Set the server's security layer to Negotiate or SSL (TLS)."),
    neg(
        3,
        "SSL_CERT_NOT_ON_SERVER",
        "The server has no valid certificate, so it can't start TLS.",
        FindingId::NegoSslCertNotOnServer,
    )
    .fix(
        "On the server: check the RDP certificate (the \"Remote Desktop\" store, or the \
         listener's SSLCertificateSHA1Hash) and its private key's permissions in MachineKeys; \
         then restart TermService.",
    ),
    neg(
        4,
        "INCONSISTENT_FLAGS",
        "The requested protocols don't fit the security protocol already in use (only \
         possible with the Direct Approach, when TLS or CredSSP already runs).",
        FindingId::NegoInconsistentFlags,
    )
    .fix("Update the client."),
    neg(
        5,
        "HYBRID_REQUIRED_BY_SERVER",
        "The server requires Network Level Authentication (CredSSP) and the client did \
         not offer it.",
        FindingId::NegoHybridRequired,
    )
    .fix("Turn NLA on in the client (rdpl: nla=auto or on; FreeRDP: drop /sec:tls and -sec-nla).")
    .related(&[
        (F::FreeRdpConnect, 0x2_000C),
        (F::FreeRdpConnect, 0x2_001E),
        (F::XfreerdpExit, 133),
    ]),
    neg(
        6,
        "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER",
        "The server requires TLS with certificate-based client authentication.",
        FindingId::NegoSslWithUserAuthRequired,
    )
    .fix("Use a client that supports certificate-based client authentication (smart card)."),
    Entry::new(
        F::NegFailure,
        7,
        "ENTRA_AUTH_REQUIRED_BY_SERVER",
        "The server requires Microsoft Entra ID authentication (RDSAAD).",
        SRC_NEG_ENTRA,
    )
    .finding(FindingId::NegoEntraAuthRequired)
    .fix(
        "Connect with Entra ID authentication (.rdp: enablerdsaadauth:i:1) from mstsc \
         or the Windows App.",
    ),
    // ---- RD Gateway (MS-TSGU) ----
    Entry::new(
        F::GatewayHresult,
        0xA0,
        "ERROR_BAD_ARGUMENTS (RD Gateway receive pipe)",
        "On an RD Gateway's receive pipe: the target computer closed its connection to \
         the gateway unexpectedly.",
        SRC_TSGU_PIPE,
    ),
    Entry::new(
        F::GatewayHresult,
        0x3E3,
        "ERROR_OPERATION_ABORTED (RD Gateway receive pipe)",
        "On an RD Gateway's receive pipe: the pipe was set up after the gateway's \
         connection timer had expired.",
        SRC_TSGU_PIPE,
    ),
    Entry::new(
        F::GatewayHresult,
        0x4CA,
        "ERROR_GRACEFUL_DISCONNECT (RD Gateway receive pipe)",
        "On an RD Gateway's receive pipe: the normal end, the client closed the \
         channel. Not an error.",
        SRC_TSGU_PIPE,
    ),
    gw(
        0x4D4,
        "HRESULT_CODE(E_PROXY_CONNECTIONABORTED)",
        "The RD Gateway ended the connection: an administrator disconnected it, or \
         (with clients that don't handle the specific codes) the gateway's session timeout ran \
         out or reauthentication failed.",
    ),
    gw(
        0x59D8,
        "HRESULT_CODE(E_PROXY_INTERNALERROR)",
        "The RD Gateway hit an unexpected error.",
    )
    .fix(GATEWAY_LOG_FIX),
    gw(
        0x59DD,
        "HRESULT_CODE(E_PROXY_TS_CONNECTFAILED)",
        "The RD Gateway could not connect to the target computer.",
    )
    .causes(GATEWAY_TARGET_CAUSES)
    .fix(GATEWAY_TARGET_FIX),
    gw(
        0x59E6,
        "HRESULT_CODE(E_PROXY_MAXCONNECTIONSREACHED)",
        "The RD Gateway already has the maximum number of connections it is configured for.",
    )
    .fix("Try again later, or raise the limit (RD Gateway Manager > Properties > General)."),
    gw(
        0x59E8,
        "HRESULT_CODE(E_PROXY_NOTSUPPORTED)",
        "The RD Gateway got a request it does not support (a health-check request of \
         the wrong type).",
    ),
    gw(
        0x59F6,
        "HRESULT_CODE(E_PROXY_SESSIONTIMEOUT)",
        "The RD Gateway's session timeout ran out and it is set to disconnect when it does.",
    )
    .fix(
        "Reconnect; the timeout is in the RD Gateway's connection authorization policy \
         (RD CAP, Timeouts tab).",
    ),
    gw(
        0x59FA,
        "HRESULT_CODE(E_PROXY_REAUTH_AUTHN_FAILED)",
        "Reauthentication at the RD Gateway failed: the user's credentials are no longer valid.",
    ),
    gw(
        0x59FB,
        "HRESULT_CODE(E_PROXY_REAUTH_CAP_FAILED)",
        "Reauthentication failed: the user is no longer allowed through the RD Gateway \
         (its RD CAP).",
    ),
    gw(
        0x59FC,
        "HRESULT_CODE(E_PROXY_REAUTH_RAP_FAILED)",
        "Reauthentication failed: the user is no longer allowed to reach this computer \
         (the gateway's RD RAP).",
    ),
    gw(
        0x59FD,
        "HRESULT_CODE(E_PROXY_SDR_NOT_SUPPORTED_BY_TS)",
        "The RD Gateway only allows targets that can exchange policies with it, and \
         this target can't.",
    ),
    gw(
        0x5A00,
        "HRESULT_CODE(E_PROXY_REAUTH_NAP_FAILED)",
        "Reauthentication failed: this computer's health no longer meets the RD Gateway's policy.",
    ),
    gw(
        0x8007_59D8,
        "E_PROXY_INTERNALERROR",
        "The RD Gateway hit an unexpected error.",
    )
    .fix(GATEWAY_LOG_FIX),
    gw(
        0x8007_59DA,
        "E_PROXY_RAP_ACCESSDENIED",
        "The RD Gateway's resource authorization policy (RD RAP) blocks this user from \
         reaching this computer.",
    )
    .causes(&[
        "the computer is not in the RD RAP's computer group",
        "it was asked for by a name (or IP address) the RD RAP does not list: short \
         name versus full DNS name",
        "the user is not in the RD RAP's user groups",
    ])
    .fix(
        "Add the computer, under the name the client uses, to the RD RAP's computer \
         group, or connect by the name it lists.",
    ),
    gw(
        0x8007_59DB,
        "E_PROXY_NAP_ACCESSDENIED",
        "The RD Gateway denied access by policy when authorizing the tunnel (its \
         connection authorization policy, RD CAP, or a health policy).",
    )
    .causes(&[
        "the user (or the computer) is not in a group an RD CAP allows",
        "the RD CAP requires another authentication method (password versus smart card)",
    ])
    .fix(
        "Check the RD Gateway's RD CAPs and its \
         Microsoft-Windows-TerminalServices-Gateway/Operational event log.",
    ),
    gw(
        0x8007_59DD,
        "E_PROXY_TS_CONNECTFAILED",
        "The RD Gateway could not connect to the target computer.",
    )
    .causes(GATEWAY_TARGET_CAUSES)
    .fix(GATEWAY_TARGET_FIX),
    gw(
        0x8007_59DF,
        "E_PROXY_ALREADYDISCONNECTED",
        "The RD Gateway tunnel or channel was already disconnected.",
    ),
    gw(
        0x8007_59E9,
        "E_PROXY_CAPABILITYMISMATCH",
        "The RD Gateway only accepts clients that support consent signing \
         (TSG_MESSAGING_CAP_CONSENT_SIGN), and this client does not.",
    ),
    gw(
        0x8007_59ED,
        "E_PROXY_QUARANTINE_ACCESSDENIED",
        "The RD Gateway rejected the connection because of its quarantine (health) policy.",
    ),
    gw(
        0x8007_59EE,
        "E_PROXY_NOCERTAVAILABLE",
        "The RD Gateway has no certificate to use for TLS.",
    )
    .fix(
        "On the gateway: RD Gateway Manager > Properties > SSL Certificate: install or \
         select a valid certificate.",
    ),
    gw(
        0x8007_59F7,
        "E_PROXY_COOKIE_BADPACKET",
        "The RD Gateway received a malformed authentication request (no authentication \
         packet where it needs one).",
    ),
    gw(
        0x8007_59F8,
        "E_PROXY_COOKIE_AUTHENTICATION_ACCESS_DENIED",
        "The user may not connect through this RD Gateway (the gateway uses pluggable \
         authentication).",
    ),
    gw(
        0x8007_59F9,
        "E_PROXY_UNSUPPORTED_AUTHENTICATION_METHOD",
        "The RD Gateway uses pluggable authentication, and the client authenticated another way.",
    ),
    // ---- FreeRDP ERRCONNECT_* (FREERDP_ERROR_CONNECT_CLASS << 16 | code) ----
    fc(
        1,
        "ERRCONNECT_PRE_CONNECT_FAILED",
        "A configuration error stopped FreeRDP before it connected (the pre-connect step failed).",
    )
    .related(&[(F::XfreerdpExit, 136)]),
    fc(
        2,
        "ERRCONNECT_CONNECT_UNDEFINED",
        "An undefined connection error.",
    )
    .related(&[(F::XfreerdpExit, 137)]),
    fc(
        3,
        "ERRCONNECT_POST_CONNECT_FAILED",
        "The connection was aborted by a configuration error after connecting (the \
         post-connect step failed).",
    )
    .related(&[(F::XfreerdpExit, 138)]),
    fc(
        4,
        "ERRCONNECT_DNS_ERROR",
        "The server's name could not be resolved.",
    )
    .finding(FindingId::DnsError)
    .related(&[(F::XfreerdpExit, 139)]),
    fc(
        5,
        "ERRCONNECT_DNS_NAME_NOT_FOUND",
        "The server's name was not found in DNS.",
    )
    .finding(FindingId::DnsNxdomain)
    .related(&[(F::XfreerdpExit, 140)]),
    fc(
        6,
        "ERRCONNECT_CONNECT_FAILED",
        "The TCP connection to the server (or the gateway) failed.",
    )
    .causes(&[
        "nothing listens on the port",
        "a firewall drops or rejects the connection",
        "the host is down or unreachable",
    ])
    .fix("`rdpl check TARGET` shows whether the port is refused, filtered or unreachable.")
    .related(&[(F::XfreerdpExit, 141)]),
    fc(
        7,
        "ERRCONNECT_MCS_CONNECT_INITIAL_ERROR",
        "The connection failed at the MCS Connect Initial step, after security negotiation.",
    )
    .related(&[(F::XfreerdpExit, 142)]),
    fc(
        8,
        "ERRCONNECT_TLS_CONNECT_FAILED",
        "The TLS handshake with the server (or the gateway) failed, or its certificate \
         was not accepted.",
    )
    .causes(&[
        "no TLS version or cipher in common (old servers offering only TLS 1.0)",
        "the server's certificate failed verification",
        "the server reset the connection during the handshake",
    ])
    .fix("`rdpl check TARGET` shows the TLS version, cipher and certificate the server offers.")
    .finding(FindingId::TlsHandshakeFailed)
    .related(&[(F::XfreerdpExit, 143)]),
    fc(
        9,
        "ERRCONNECT_AUTHENTICATION_FAILED",
        "Authentication failed (NLA/CredSSP, Kerberos or the gateway), without a more \
         specific reason.",
    )
    .causes(&[
        "wrong credentials, when the server's NTSTATUS is not one FreeRDP maps to a specific code",
        "the NLA exchange could not start (no credentials, or no usable security package)",
    ])
    .related(&[(F::XfreerdpExit, 132)]),
    fc(
        10,
        "ERRCONNECT_INSUFFICIENT_PRIVILEGES",
        "Insufficient privileges to connect (FreeRDP sets it for a Kerberos KDC policy rejection).",
    )
    .related(&[(F::XfreerdpExit, 144)]),
    fc(
        11,
        "ERRCONNECT_CONNECT_CANCELLED",
        "The connection was cancelled, for example at the certificate prompt.",
    )
    .related(&[(F::XfreerdpExit, 145)]),
    fc(
        12,
        "ERRCONNECT_SECURITY_NEGO_CONNECT_FAILED",
        "Security negotiation failed, with no more specific error recorded.",
    )
    .causes(&[
        "the server answered with an RDP_NEG_FAILURE, e.g. HYBRID_REQUIRED_BY_SERVER \
         when NLA is off in the client",
        "the server closed the connection during negotiation",
    ])
    .fix("`rdpl check TARGET` shows what the server accepts (nego.* findings).")
    .related(&[(F::XfreerdpExit, 133), (F::XfreerdpExit, 146), (F::NegFailure, 5)]),
    fc(
        13,
        "ERRCONNECT_CONNECT_TRANSPORT_FAILED",
        "The connection's transport failed: the network connection broke while the \
         connection was being set up.",
    )
    .causes(&[
        "the server or a device in between closed or reset the connection after \
         security negotiation, e.g. when it rejected the TLS or NLA step in a way FreeRDP could \
         not classify",
        "a network interruption",
    ])
    .fix("FreeRDP retries once by itself; `rdpl check TARGET` tests the steps up to NLA one by one.")
    .related(&[(F::XfreerdpExit, 147)]),
    fcn(
        14,
        "ERRCONNECT_PASSWORD_EXPIRED",
        "The password has expired and must be changed.",
    )
    .fix(PASSWORD_FIX)
    .related(&[(F::XfreerdpExit, 148), (F::NtStatus, 0xC000_0071)]),
    fc(
        15,
        "ERRCONNECT_PASSWORD_CERTAINLY_EXPIRED",
        "The password has expired (FreeRDP's code for workstations that can't reach a \
         Kerberos server to confirm it).",
    )
    .fix(PASSWORD_FIX)
    .related(&[(F::XfreerdpExit, 152)]),
    fc(
        16,
        "ERRCONNECT_CLIENT_REVOKED",
        "The account's credentials have been revoked (Kerberos KDC_ERR_CLIENT_REVOKED), \
         e.g. a disabled or locked account.",
    )
    .related(&[(F::XfreerdpExit, 153)]),
    fc(
        17,
        "ERRCONNECT_KDC_UNREACHABLE",
        "The Kerberos KDC (domain controller) could not be reached.",
    )
    .related(&[(F::XfreerdpExit, 150)]),
    fcn(18, "ERRCONNECT_ACCOUNT_DISABLED", "The account is disabled.")
        .related(&[(F::XfreerdpExit, 151), (F::NtStatus, 0xC000_0072)]),
    fcn(
        19,
        "ERRCONNECT_PASSWORD_MUST_CHANGE",
        "The password must be changed before logging on.",
    )
    .fix(PASSWORD_FIX)
    .related(&[(F::XfreerdpExit, 149), (F::NtStatus, 0xC000_0224)]),
    fcn(
        20,
        "ERRCONNECT_LOGON_FAILURE",
        "Logon failed: the server rejected the user name or password.",
    )
    .causes(WRONG_CREDS_CAUSES)
    .fix(WRONG_CREDS_FIX)
    .related(&[(F::XfreerdpExit, 134), (F::NtStatus, 0xC000_006D)]),
    fcn(21, "ERRCONNECT_WRONG_PASSWORD", "The password is wrong.")
        .related(&[(F::XfreerdpExit, 154), (F::NtStatus, 0xC000_006A)]),
    fcn(22, "ERRCONNECT_ACCESS_DENIED", "Access denied.")
        .related(&[(F::XfreerdpExit, 155), (F::NtStatus, 0xC000_0022)]),
    fcn(
        23,
        "ERRCONNECT_ACCOUNT_RESTRICTION",
        "An account restriction stops this logon.",
    )
    .related(&[(F::XfreerdpExit, 156), (F::NtStatus, 0xC000_006E)]),
    fcn(24, "ERRCONNECT_ACCOUNT_LOCKED_OUT", "The account is locked out.")
        .related(&[(F::XfreerdpExit, 135), (F::NtStatus, 0xC000_0234)]),
    fcn(25, "ERRCONNECT_ACCOUNT_EXPIRED", "The account has expired.")
        .related(&[(F::XfreerdpExit, 157), (F::NtStatus, 0xC000_0193)]),
    fcn(
        26,
        "ERRCONNECT_LOGON_TYPE_NOT_GRANTED",
        "The account is not granted the kind of logon the connection needs.",
    )
    .related(&[(F::XfreerdpExit, 158), (F::NtStatus, 0xC000_015B)]),
    fc(
        27,
        "ERRCONNECT_NO_OR_MISSING_CREDENTIALS",
        "The credentials are missing or not valid.",
    )
    .fix("Give a user name and password (or let the client prompt for them).")
    .related(&[(F::XfreerdpExit, 159)]),
    fc(
        28,
        "ERRCONNECT_ACTIVATION_TIMEOUT",
        "Timed out waiting for the session to be activated (FreeRDP 3.x).",
    ),
    fc(
        29,
        "ERRCONNECT_TARGET_BOOTING",
        "The target virtual machine is starting; FreeRDP says it may take up to 5 \
         minutes (FreeRDP 3.18 and later).",
    )
    .fix("Wait a few minutes and connect again.")
    .related(&[(F::XfreerdpExit, 160)]),
    fc(
        30,
        "ERRCONNECT_HYBRID_REQUIRED_BY_SERVER",
        "The server requires Network Level Authentication but it is not enabled in the \
         client (FreeRDP after 3.30).",
    )
    .finding(FindingId::NegoHybridRequired)
    .fix("Turn NLA on in the client (FreeRDP: drop /sec:tls and -sec-nla).")
    .related(&[(F::XfreerdpExit, 161), (F::NegFailure, 5)]),
    // ---- xfreerdp exit codes ----
    xf(0, "XF_EXIT_SUCCESS", "Success: the session ended normally."),
    xf(
        1,
        "XF_EXIT_DISCONNECT",
        "The server said an administrative tool disconnected the session (ERRINFO 0x1). \
         xfreerdp also exits with 1 when it fails before it connects at all (its main() starts \
         from 1).",
    )
    .related(&[(F::ErrInfo, 0x1)]),
    xf(
        2,
        "XF_EXIT_LOGOFF",
        "The session was logged off (ERRINFO 0x2, or a user-requested disconnect \
         xfreerdp treats as a logoff).",
    )
    .related(&[(F::ErrInfo, 0x2)]),
    xf(
        3,
        "XF_EXIT_IDLE_TIMEOUT",
        "The server's idle session limit ran out (ERRINFO 0x3).",
    )
    .fix(IDLE_FIX)
    .related(&[(F::ErrInfo, 0x3)]),
    xf(
        4,
        "XF_EXIT_LOGON_TIMEOUT",
        "The server's active session limit ran out (ERRINFO 0x4).",
    )
    .fix(ACTIVE_FIX)
    .related(&[(F::ErrInfo, 0x4)]),
    xf(
        5,
        "XF_EXIT_CONN_REPLACED",
        "Another connection took over the session (ERRINFO 0x5).",
    )
    .related(&[(F::ErrInfo, 0x5)]),
    xf(
        6,
        "XF_EXIT_OUT_OF_MEMORY",
        "The server ran out of memory (ERRINFO 0x6).",
    )
    .related(&[(F::ErrInfo, 0x6)]),
    xf(
        7,
        "XF_EXIT_CONN_DENIED",
        "The server denied the connection (ERRINFO 0x7).",
    )
    .causes(DENIED_CAUSES)
    .fix(DENIED_FIX)
    .related(&[(F::ErrInfo, 0x7), (F::ExtendedReason, 7)]),
    xf(
        8,
        "XF_EXIT_CONN_DENIED_FIPS",
        "The server denied the connection for security reasons (FIPS).",
    )
    .related(&[(F::ExtendedReason, 8)]),
    xf(
        9,
        "XF_EXIT_USER_PRIVILEGES",
        "The user is not allowed to connect to this server remotely (ERRINFO 0x9).",
    )
    .fix(RIGHTS_FIX)
    .related(&[(F::ErrInfo, 0x9)]),
    xf(
        10,
        "XF_EXIT_FRESH_CREDENTIALS_REQUIRED",
        "The server does not accept saved credentials (ERRINFO 0xA).",
    )
    .related(&[(F::ErrInfo, 0xA)]),
    xf(
        11,
        "XF_EXIT_DISCONNECT_BY_USER",
        "The session was disconnected from inside it (ERRINFO 0xB).",
    )
    .related(&[(F::ErrInfo, 0xB)]),
    xf(16, "XF_EXIT_LICENSE_INTERNAL", XF_LICENSE_NOTE).related(&[(F::ErrInfo, 0x100)]),
    xf(17, "XF_EXIT_LICENSE_NO_LICENSE_SERVER", XF_LICENSE_NOTE).related(&[(F::ErrInfo, 0x101)]),
    xf(18, "XF_EXIT_LICENSE_NO_LICENSE", XF_LICENSE_NOTE).related(&[(F::ErrInfo, 0x102)]),
    xf(19, "XF_EXIT_LICENSE_BAD_CLIENT_MSG", XF_LICENSE_NOTE).related(&[(F::ErrInfo, 0x103)]),
    xf(20, "XF_EXIT_LICENSE_HWID_DOESNT_MATCH", XF_LICENSE_NOTE).related(&[(F::ErrInfo, 0x104)]),
    xf(21, "XF_EXIT_LICENSE_BAD_CLIENT", XF_LICENSE_NOTE).related(&[(F::ErrInfo, 0x105)]),
    xf(22, "XF_EXIT_LICENSE_CANT_FINISH_PROTOCOL", XF_LICENSE_NOTE).related(&[(F::ErrInfo, 0x106)]),
    xf(23, "XF_EXIT_LICENSE_CLIENT_ENDED_PROTOCOL", XF_LICENSE_NOTE).related(&[(F::ErrInfo, 0x107)]),
    xf(24, "XF_EXIT_LICENSE_BAD_CLIENT_ENCRYPTION", XF_LICENSE_NOTE).related(&[(F::ErrInfo, 0x108)]),
    xf(25, "XF_EXIT_LICENSE_CANT_UPGRADE", XF_LICENSE_NOTE).related(&[(F::ErrInfo, 0x109)]),
    xf(26, "XF_EXIT_LICENSE_NO_REMOTE_CONNECTIONS", XF_LICENSE_NOTE).related(&[(F::ErrInfo, 0x10A)]),
    xf(
        32,
        "XF_EXIT_RDP",
        "An RDP protocol error: the server's ERRINFO code was an RDP-specific one \
         (0x10C9-0x1193); xfreerdp's log names it.",
    ),
    xf(
        128,
        "XF_EXIT_PARSE_ARGUMENTS",
        "The command-line arguments could not be parsed.",
    ),
    xf(129, "XF_EXIT_MEMORY", "xfreerdp ran out of memory."),
    xf(130, "XF_EXIT_PROTOCOL", "A protocol error."),
    xf(
        131,
        "XF_EXIT_CONN_FAILED",
        "The connection failed, and FreeRDP's last error has no exit code of its own \
         (the default), or the connection ended without a reason from the server.",
    )
    .fix("Run xfreerdp with /log-level:DEBUG, or `rdpl check TARGET`, to see which step fails."),
    xf(
        132,
        "XF_EXIT_AUTH_FAILURE",
        "Authentication failed (FreeRDP ERRCONNECT_AUTHENTICATION_FAILED).",
    )
    .related(&[(F::FreeRdpConnect, 0x2_0009)]),
    xf(
        133,
        "XF_EXIT_NEGO_FAILURE",
        "Security negotiation failed (FreeRDP ERRCONNECT_SECURITY_NEGO_CONNECT_FAILED): \
         the server accepted none of the security protocols offered, or closed the connection \
         while negotiating.",
    )
    .causes(&[
        "the server requires NLA and the client has it off (RDP_NEG_FAILURE \
         HYBRID_REQUIRED_BY_SERVER)",
        "the server allows only Standard RDP Security or only TLS, and the client's \
         /sec choice excludes it",
    ])
    .fix("`rdpl check TARGET` shows what the server accepts (nego.* findings).")
    .related(&[(F::FreeRdpConnect, 0x2_000C), (F::NegFailure, 5)]),
    xf(
        134,
        "XF_EXIT_LOGON_FAILURE",
        "Logon failed: the server rejected the user name or password (ERRCONNECT_LOGON_FAILURE).",
    )
    .causes(WRONG_CREDS_CAUSES)
    .fix(WRONG_CREDS_FIX)
    .related(&[(F::FreeRdpConnect, 0x2_0014), (F::NtStatus, 0xC000_006D)]),
    xf(
        135,
        "XF_EXIT_ACCOUNT_LOCKED_OUT",
        "The account is locked out (ERRCONNECT_ACCOUNT_LOCKED_OUT).",
    )
    .related(&[(F::FreeRdpConnect, 0x2_0018), (F::NtStatus, 0xC000_0234)]),
    xf(
        136,
        "XF_EXIT_PRE_CONNECT_FAILED",
        "A configuration error stopped xfreerdp before it connected.",
    )
    .related(&[(F::FreeRdpConnect, 0x2_0001)]),
    xf(137, "XF_EXIT_CONNECT_UNDEFINED", "An undefined connection error.")
        .related(&[(F::FreeRdpConnect, 0x2_0002)]),
    xf(
        138,
        "XF_EXIT_POST_CONNECT_FAILED",
        "A configuration error after connecting (post-connect) aborted the connection.",
    )
    .related(&[(F::FreeRdpConnect, 0x2_0003)]),
    xf(
        139,
        "XF_EXIT_DNS_ERROR",
        "The server's name could not be resolved.",
    )
    .finding(FindingId::DnsError)
    .related(&[(F::FreeRdpConnect, 0x2_0004)]),
    xf(
        140,
        "XF_EXIT_DNS_NAME_NOT_FOUND",
        "The server's name was not found in DNS.",
    )
    .finding(FindingId::DnsNxdomain)
    .related(&[(F::FreeRdpConnect, 0x2_0005)]),
    xf(
        141,
        "XF_EXIT_CONNECT_FAILED",
        "The TCP connection to the server (or the gateway) failed.",
    )
    .fix("`rdpl check TARGET` shows whether the port is refused, filtered or unreachable.")
    .related(&[(F::FreeRdpConnect, 0x2_0006)]),
    xf(
        142,
        "XF_EXIT_MCS_CONNECT_INITIAL_ERROR",
        "The connection failed at the MCS Connect Initial step.",
    )
    .related(&[(F::FreeRdpConnect, 0x2_0007)]),
    xf(
        143,
        "XF_EXIT_TLS_CONNECT_FAILED",
        "The TLS handshake failed, or the server's certificate was not accepted.",
    )
    .fix("`rdpl check TARGET` shows the TLS version, cipher and certificate the server offers.")
    .finding(FindingId::TlsHandshakeFailed)
    .related(&[(F::FreeRdpConnect, 0x2_0008)]),
    xf(
        144,
        "XF_EXIT_INSUFFICIENT_PRIVILEGES",
        "Insufficient privileges to connect.",
    )
    .related(&[(F::FreeRdpConnect, 0x2_000A)]),
    xf(
        145,
        "XF_EXIT_CONNECT_CANCELLED",
        "The connection was cancelled, for example at the certificate prompt.",
    )
    .related(&[(F::FreeRdpConnect, 0x2_000B)]),
    xf(
        146,
        "XF_EXIT_SECURITY_NEGO_CONNECT_FAILED",
        "FreeRDP 2.x only: defined for a failed security negotiation, but never \
         returned (xf_client.c tests the same error for 133 first); FreeRDP 3 removed it.",
    )
    .related(&[(F::FreeRdpConnect, 0x2_000C), (F::XfreerdpExit, 133)]),
    xf(
        147,
        "XF_EXIT_CONNECT_TRANSPORT_FAILED",
        "The connection's transport failed: the network connection broke while the \
         connection was being set up (ERRCONNECT_CONNECT_TRANSPORT_FAILED).",
    )
    .causes(&[
        "the server or a device in between closed or reset the connection after \
         security negotiation, e.g. when it rejected the TLS or NLA step in a way FreeRDP could \
         not classify",
        "a network interruption",
    ])
    .fix(
        "`rdpl check TARGET` tests the steps up to NLA one by one; xfreerdp \
         /log-level:DEBUG shows the last step.",
    )
    .related(&[(F::FreeRdpConnect, 0x2_000D)]),
    xf(
        148,
        "XF_EXIT_CONNECT_PASSWORD_EXPIRED",
        "The password has expired.",
    )
    .fix(PASSWORD_FIX)
    .related(&[(F::FreeRdpConnect, 0x2_000E)]),
    xf(
        149,
        "XF_EXIT_CONNECT_PASSWORD_MUST_CHANGE",
        "The password must be changed before logging on.",
    )
    .fix(PASSWORD_FIX)
    .related(&[(F::FreeRdpConnect, 0x2_0013)]),
    xf(
        150,
        "XF_EXIT_CONNECT_KDC_UNREACHABLE",
        "The Kerberos KDC (domain controller) could not be reached.",
    )
    .related(&[(F::FreeRdpConnect, 0x2_0011)]),
    xf(
        151,
        "XF_EXIT_CONNECT_ACCOUNT_DISABLED",
        "The account is disabled.",
    )
    .related(&[(F::FreeRdpConnect, 0x2_0012)]),
    xf(
        152,
        "XF_EXIT_CONNECT_PASSWORD_CERTAINLY_EXPIRED",
        "The password has expired.",
    )
    .fix(PASSWORD_FIX)
    .related(&[(F::FreeRdpConnect, 0x2_000F)]),
    xf(
        153,
        "XF_EXIT_CONNECT_CLIENT_REVOKED",
        "The account's credentials have been revoked.",
    )
    .related(&[(F::FreeRdpConnect, 0x2_0010)]),
    xf(154, "XF_EXIT_CONNECT_WRONG_PASSWORD", "The password is wrong.")
        .related(&[(F::FreeRdpConnect, 0x2_0015)]),
    xf(155, "XF_EXIT_CONNECT_ACCESS_DENIED", "Access denied.").related(&[(F::FreeRdpConnect, 0x2_0016)]),
    xf(
        156,
        "XF_EXIT_CONNECT_ACCOUNT_RESTRICTION",
        "An account restriction stops this logon.",
    )
    .related(&[(F::FreeRdpConnect, 0x2_0017)]),
    xf(157, "XF_EXIT_CONNECT_ACCOUNT_EXPIRED", "The account has expired.")
        .related(&[(F::FreeRdpConnect, 0x2_0019)]),
    xf(
        158,
        "XF_EXIT_CONNECT_LOGON_TYPE_NOT_GRANTED",
        "The account is not granted the kind of logon the connection needs.",
    )
    .related(&[(F::FreeRdpConnect, 0x2_001A)]),
    xf(
        159,
        "XF_EXIT_CONNECT_NO_OR_MISSING_CREDENTIALS",
        "The credentials are missing or not valid.",
    )
    .related(&[(F::FreeRdpConnect, 0x2_001B)]),
    xf(
        160,
        "XF_EXIT_CONNECT_TARGET_BOOTING",
        "The target virtual machine is starting (FreeRDP 3.18 and later).",
    )
    .fix("Wait a few minutes and connect again.")
    .related(&[(F::FreeRdpConnect, 0x2_001D)]),
    xf(
        161,
        "XF_EXIT_CONNECT_HYBRID_REQUIRED_BY_SERVER",
        "The server requires Network Level Authentication but it is not enabled in the \
         client (FreeRDP after 3.30).",
    )
    .finding(FindingId::NegoHybridRequired)
    .related(&[(F::FreeRdpConnect, 0x2_001E), (F::NegFailure, 5)]),
    xf(
        255,
        "XF_EXIT_UNKNOWN",
        "An error xfreerdp has no exit code for, such as a server ERRINFO code outside \
         0x0-0xC, 0x100-0x10A and 0x10C9-0x1193 (for example a Connection Broker code).",
    )
    .fix("xfreerdp's log names the ERRINFO code; `rdpl explain` it."),
    // ---- CredSSP / NLA messages (keyed by the SSPI status behind them) ----
    Entry::new(
        F::CredSsp,
        0x8009_0302,
        "SEC_E_UNSUPPORTED_FUNCTION",
        "mstsc: \"An authentication error has occurred. The function requested is not \
         supported.\" With \"This could be due to CredSSP encryption oracle remediation\" it \
         means the two ends disagree about the CredSSP update for CVE-2018-0886: one side has it \
         and enforces it, the other lacks it.",
        SRC_ORACLE,
    )
    .causes(&[
        "the server (or the client) lacks the CredSSP update of March 2018 or later, \
         while the other side's \"Encryption Oracle Remediation\" policy is Force Updated Clients \
         or Mitigated (the default since May 2018)",
        "the server's NLA (CredSSP) implementation does not support what the client asks for",
    ])
    .fix(
        "Install the CredSSP updates on both ends (the unpatched one is usually the \
         server) and keep Encryption Oracle Remediation at Force Updated Clients or Mitigated. \
         Setting it to Vulnerable (AllowEncryptionOracle=2) is not a fix: it reopens \
         CVE-2018-0886; if it is ever used to reach an unpatched server in order to patch it, \
         undo it right after.",
    ),
    Entry::new(
        F::CredSsp,
        0x8009_0304,
        "SEC_E_INTERNAL_ERROR",
        "mstsc: \"An authentication error has occurred. The Local Security Authority \
         cannot be contacted.\" The server could not reach the security authority named in the \
         user name (the computer for a local account, the domain for a domain account).",
        SRC_AZURE_RDP,
    )
    .causes(&[
        "a misspelled computer or domain name in DOMAIN\\user",
        "no domain controller reachable for the domain, or a broken secure channel \
         between server and domain",
        "TLS protocols disabled on the server, or FIPS-only algorithms enforced",
    ])
    .fix(
        "Check the spelling of the domain or computer part of the user name; for domain \
         accounts make sure the server reaches a healthy domain controller \
         (Test-ComputerSecureChannel); a local administrator account works meanwhile.",
    )
    .related(&[(F::Sspi, 0x8009_0303)]),
    Entry::new(
        F::CredSsp,
        0x8009_030C,
        "SEC_E_LOGON_DENIED",
        "\"The logon attempt failed\"; mstsc: \"Your credentials did not work\" / \"The \
         credentials that were used to connect to HOST did not work.\" The server could not \
         validate the account name and password.",
        SRC_AZURE_RDP,
    )
    .causes(WRONG_CREDS_CAUSES)
    .fix(WRONG_CREDS_FIX)
    .related(&[(F::MstscDisconnect, 0x807), (F::NtStatus, 0xC000_006D)]),
    Entry::new(
        F::CredSsp,
        0x8009_0311,
        "SEC_E_NO_AUTHENTICATING_AUTHORITY",
        "No authority could be contacted for authentication: with NLA and a domain \
         account, no domain controller could be reached (mstsc: \"...requires Network Level \
         Authentication (NLA), but your Windows domain controller cannot be contacted to perform \
         NLA\").",
        SRC_AZURE_NLA,
    )
    .causes(&[
        "the server (or this computer) can't reach a domain controller",
        "a broken trust or secure channel between the server and its domain",
        "a misspelled domain name",
    ])
    .fix(
        "Check the server's connection to its domain controller \
         (Test-ComputerSecureChannel) and the domain name; a local account works meanwhile.",
    )
    .related(&[(F::MstscDisconnect, 0x1807)]),
    Entry::new(
        F::CredSsp,
        0x8009_035E,
        "SEC_E_DELEGATION_POLICY",
        "Policy does not allow delegating the credentials to this server.",
        SRC_DELEGATION,
    )
    .fix(
        "On the client: Credentials Delegation policies: add TERMSRV/<server name> to \
         the matching \"Allow delegating ... credentials\" policy, or connect by the name it \
         lists.",
    )
    .related(&[(F::MstscDisconnect, 0x1607)]),
    Entry::new(
        F::CredSsp,
        0x8009_035F,
        "SEC_E_POLICY_NLTM_ONLY",
        "Delegating the credentials is not allowed unless the server is mutually \
         authenticated, and only NTLM worked.",
        SRC_DELEGATION,
    )
    .fix(
        "Connect by the server's full DNS name so Kerberos works, or allow delegation \
         \"with NTLM-only server authentication\" for it in the client's Credentials Delegation \
         policies.",
    )
    .related(&[(F::MstscDisconnect, 0x1707)]),
    // ---- NTSTATUS (CredSSP errorCode) ----
    nt(0xC000_0022, "STATUS_ACCESS_DENIED", "Access denied.").related(&[(F::FreeRdpConnect, 0x2_0016)]),
    nt(
        0xC000_005E,
        "STATUS_NO_LOGON_SERVERS",
        "No logon server (domain controller) is available to service the logon.",
    )
    .fix("Check that the server reaches a domain controller; a local account works meanwhile."),
    nt(
        0xC000_0064,
        "STATUS_NO_SUCH_USER",
        "The user name does not exist.",
    )
    .related(&[(F::MstscDisconnect, 0xA07)]),
    nt(
        0xC000_006A,
        "STATUS_WRONG_PASSWORD",
        "The user name is right but the password is wrong.",
    )
    .related(&[(F::FreeRdpConnect, 0x2_0015)]),
    nt(
        0xC000_006D,
        "STATUS_LOGON_FAILURE",
        "The logon attempt is invalid: a bad user name or password.",
    )
    .causes(WRONG_CREDS_CAUSES)
    .fix(WRONG_CREDS_FIX)
    .related(&[
        (F::MstscDisconnect, 0x807),
        (F::CredSsp, 0x8009_030C),
        (F::FreeRdpConnect, 0x2_0014),
    ]),
    nt(
        0xC000_006E,
        "STATUS_ACCOUNT_RESTRICTION",
        "The user name and password are valid, but an account restriction prevents this logon.",
    )
    .causes(&[
        "a blank password, which Windows allows only at the console by default",
        "logon hours or allowed workstations on the account",
    ])
    .related(&[(F::MstscDisconnect, 0xC07), (F::FreeRdpConnect, 0x2_0017)]),
    nt(
        0xC000_006F,
        "STATUS_INVALID_LOGON_HOURS",
        "The account may not log on at this time of day.",
    ),
    nt(
        0xC000_0070,
        "STATUS_INVALID_WORKSTATION",
        "The account may not log on from this computer.",
    ),
    nt(
        0xC000_0071,
        "STATUS_PASSWORD_EXPIRED",
        "The password has expired.",
    )
    .fix(PASSWORD_FIX)
    .related(&[(F::MstscDisconnect, 0xF07), (F::FreeRdpConnect, 0x2_000E)]),
    nt(0xC000_0072, "STATUS_ACCOUNT_DISABLED", "The account is disabled.")
        .related(&[(F::MstscDisconnect, 0xB07), (F::FreeRdpConnect, 0x2_0012)]),
    nt(
        0xC000_00BB,
        "STATUS_NOT_SUPPORTED",
        "The request is not supported.",
    ),
    nt(
        0xC000_00DF,
        "STATUS_NO_SUCH_DOMAIN",
        "The domain does not exist or could not be contacted.",
    )
    .fix("Check the domain part of the user name."),
    nt(
        0xC000_0133,
        "STATUS_TIME_DIFFERENCE_AT_DC",
        "The clocks of this computer and the domain controller differ too much.",
    )
    .fix("Fix the clock (time synchronization) on the computer that is off."),
    nt(
        0xC000_015B,
        "STATUS_LOGON_TYPE_NOT_GRANTED",
        "The account is not granted the kind of logon requested on this computer.",
    )
    .causes(&[
        "with NLA the server performs a network logon: the account lacks \"Access this \
         computer from the network\" or is listed in \"Deny access to this computer from the \
         network\"",
        "the account lacks \"Allow log on through Remote Desktop Services\" or is denied it",
    ])
    .related(&[(F::FreeRdpConnect, 0x2_001A)]),
    nt(
        0xC000_018D,
        "STATUS_TRUSTED_RELATIONSHIP_FAILURE",
        "The trust relationship between the server and its domain failed.",
    )
    .fix(
        "Repair the server's secure channel (Test-ComputerSecureChannel -Repair) or \
         rejoin it to the domain.",
    ),
    nt(0xC000_0193, "STATUS_ACCOUNT_EXPIRED", "The account has expired.")
        .related(&[(F::MstscDisconnect, 0xE07), (F::FreeRdpConnect, 0x2_0019)]),
    nt(
        0xC000_0224,
        "STATUS_PASSWORD_MUST_CHANGE",
        "The password must be changed before logging on the first time.",
    )
    .fix(PASSWORD_FIX)
    .related(&[(F::MstscDisconnect, 0x1207), (F::FreeRdpConnect, 0x2_0013)]),
    nt(
        0xC000_0234,
        "STATUS_ACCOUNT_LOCKED_OUT",
        "The account is locked out.",
    )
    .fix(
        "Wait for the lockout to expire or have an administrator unlock it; then remove \
         stale saved passwords.",
    )
    .related(&[(F::MstscDisconnect, 0xD07), (F::FreeRdpConnect, 0x2_0018)]),
    nt(
        0xC000_02C3,
        "STATUS_MUTUAL_AUTHENTICATION_FAILED",
        "Client and server could not authenticate each other (mutual authentication failed).",
    ),
    nt(
        0xC000_0380,
        "STATUS_SMARTCARD_WRONG_PIN",
        "A wrong smart card PIN was entered.",
    )
    .related(&[(F::MstscDisconnect, 0x1C07)]),
    nt(
        0xC000_0381,
        "STATUS_SMARTCARD_CARD_BLOCKED",
        "The smart card is blocked.",
    )
    .related(&[(F::MstscDisconnect, 0x2207)]),
    nt(
        0xC000_0388,
        "STATUS_DOWNGRADE_DETECTED",
        "The system detected a possible attempt to compromise security (an \
         authentication downgrade).",
    ),
    nt(
        0xC000_0413,
        "STATUS_AUTHENTICATION_FIREWALL_FAILED",
        "The account is not allowed to authenticate to this server across a trust with \
         selective authentication.",
    )
    .fix(
        "Grant the account \"Allowed to authenticate\" on the server's computer object \
         in the trusting domain.",
    ),
    // ---- SSPI / Schannel ----
    sec(
        0x8009_0303,
        "SEC_E_TARGET_UNKNOWN",
        "The specified target is unknown or unreachable.",
    ),
    sec(
        0x8009_0308,
        "SEC_E_INVALID_TOKEN",
        "The security token is invalid: the authentication exchange was malformed or cut short.",
    ),
    sec(
        0x8009_030E,
        "SEC_E_NO_CREDENTIALS",
        "No credentials are available in the security package.",
    ),
    sec(
        0x8009_030F,
        "SEC_E_MESSAGE_ALTERED",
        "The message or signature supplied for verification has been altered.",
    ),
    sec(
        0x8009_0317,
        "SEC_E_CONTEXT_EXPIRED",
        "The security context has expired and can no longer be used.",
    ),
    sec(
        0x8009_0320,
        "SEC_E_INCOMPLETE_CREDENTIALS",
        "The credentials supplied were not complete and could not be verified.",
    ),
    sec(
        0x8009_0322,
        "SEC_E_WRONG_PRINCIPAL",
        "The target principal name is incorrect: the server is not the account the \
         authentication ticket was made for.",
    )
    .causes(&[
        "a duplicate or misplaced service principal name (SPN) for the server",
        "a DNS name pointing to another computer",
    ]),
    sec(
        0x8009_0324,
        "SEC_E_TIME_SKEW",
        "The clocks on the client and server are too far apart.",
    )
    .fix("Fix time synchronization on the computer that is off."),
    sec(
        0x8009_0325,
        "SEC_E_UNTRUSTED_ROOT",
        "The certificate chain was issued by an authority that is not trusted.",
    )
    .fix(
        "Install the issuing CA in the trusted root store, or check and pin the \
         certificate with `rdpl pin accept`.",
    )
    .finding(FindingId::CertUntrusted),
    sec(
        0x8009_0326,
        "SEC_E_ILLEGAL_MESSAGE",
        "The message received was unexpected or badly formatted.",
    )
    .causes(&["the other side aborted the TLS handshake (a TLS alert)"])
    .finding(FindingId::TlsHandshakeFailed),
    sec(
        0x8009_0327,
        "SEC_E_CERT_UNKNOWN",
        "An unknown error occurred while processing the certificate.",
    ),
    sec(
        0x8009_0328,
        "SEC_E_CERT_EXPIRED",
        "The received certificate has expired.",
    )
    .finding(FindingId::CertExpired)
    .related(&[(F::MstscDisconnect, 0x1B07)]),
    sec(
        0x8009_0331,
        "SEC_E_ALGORITHM_MISMATCH",
        "Client and server have no algorithm in common (TLS version or cipher suite).",
    )
    .fix(
        "`rdpl check TARGET` shows the TLS versions and cipher the server offers; \
         enable TLS 1.2 on old servers.",
    )
    .finding(FindingId::TlsHandshakeFailed),
    sec(
        0x8009_033E,
        "SEC_E_SMARTCARD_LOGON_REQUIRED",
        "Smart card logon is required and was not used.",
    ),
    sec(
        0x8009_0346,
        "SEC_E_BAD_BINDINGS",
        "The channel bindings the client supplied were incorrect.",
    )
    .causes(&[
        "a TLS-inspecting proxy between client and server, so the two ends see \
         different TLS channels",
    ]),
    sec(
        0x8009_0349,
        "SEC_E_CERT_WRONG_USAGE",
        "The certificate is not valid for the requested usage (no server authentication usage).",
    )
    .finding(FindingId::CertNoServerAuth),
    sec(
        0x8009_0350,
        "SEC_E_DOWNGRADE_DETECTED",
        "The system detected a possible attempt to compromise security (a negotiation downgrade).",
    ),
    sec(
        0x8009_0363,
        "SEC_E_MUTUAL_AUTH_FAILED",
        "Client and server could not authenticate each other.",
    ),
];

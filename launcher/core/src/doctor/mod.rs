//! `doctor`: from a pre-flight report to ranked causes, each with its evidence (the findings), what rdpl
//! changes by itself for the next connect, and what needs the server, as exact steps. Pure: a table of causes
//! and a ranking (blocking evidence first, then the most fundamental stage: name, network, protocol, TLS,
//! certificate, gateway). Nothing here is applied; server-side steps are only ever shown.

use serde::Serialize;

pub mod code;

use crate::facts::Facts;
use crate::finding::{Family, FindingId, Severity};
use rdpl_profiles::profile::{Profile, Tri};

macro_rules! causes {
    ($( $v:ident = $wire:literal; )*) => {
        /// A cause the doctor can name (its wire name is the `id` of `doctor --json`'s causes).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum CauseId {
            $(
                #[doc = $wire]
                $v,
            )*
        }

        impl CauseId {
            /// Every cause, in declaration order.
            pub const ALL: &'static [CauseId] = &[$(CauseId::$v,)*];

            /// The stable wire name (`cert_expired`).
            pub const fn wire(self) -> &'static str {
                match self { $(CauseId::$v => $wire,)* }
            }
        }
    };
}

causes! {
    NameUnresolvable = "name_unresolvable";
    NamePointsElsewhere = "name_points_elsewhere";
    PortClosed = "port_closed";
    PortFilteredOrHostDown = "port_filtered_or_host_down";
    NotAnRdpServer = "not_an_rdp_server";
    NlaRequiredButOff = "nla_required_but_off";
    NlaNotOffered = "nla_not_offered";
    SecurityLayerMismatch = "security_layer_mismatch";
    ServerCertificateUnusable = "server_certificate_unusable";
    TlsVersionMismatch = "tls_version_mismatch";
    TlsFailed = "tls_failed";
    CertExpired = "cert_expired";
    CertChanged = "cert_changed";
    CertWrongName = "cert_wrong_name";
    CertUntrusted = "cert_untrusted";
    CertSelfSigned = "cert_self_signed";
    CertWeak = "cert_weak";
    CertNoServerAuth = "cert_no_server_auth";
    CertExpiringSoon = "cert_expiring_soon";
    GatewayName = "gateway_name";
    GatewayUnreachable = "gateway_unreachable";
    GatewayTlsOrCertificate = "gateway_tls_or_certificate";
    GatewayNotRdg = "gateway_not_rdg";
    GatewayRejected = "gateway_rejected";
    StaleCredentials = "stale_credentials";
    WrongPassword = "wrong_password";
    AccountProblem = "account_problem";
    RemoteLogonDenied = "remote_logon_denied";
    ServerDenied = "server_denied";
    ServerDeniedConnection = "server_denied_connection";
    CertNotYetValid = "cert_not_yet_valid";
    Licensing = "licensing";
    GatewayCredentials = "gateway_credentials";
    GatewayPolicy = "gateway_policy";
    SessionFailed = "session_failed";
    TlsFailedInClient = "tls_failed_in_client";
    ClientExit = "client_exit";
}

impl Serialize for CauseId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.wire())
    }
}

/// One likely cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cause {
    /// Stable id, e.g. `cert_expired`.
    pub id: CauseId,
    /// What is wrong, for this connection.
    pub title: String,
    /// The findings that point here (`id: message`).
    pub evidence: Vec<String>,
    /// What rdpl changes by itself for the next connect (or what you change in the profile).
    pub client_fix: Option<String>,
    /// What must be done on the server (never applied by rdpl).
    pub server_steps: Vec<String>,
    /// How serious the strongest evidence is.
    pub severity: Severity,
}

struct Rule {
    id: CauseId,
    stage: u8,
    /// A state many RDP hosts are normally in (self-signed certificate, no NLA): worth fixing, but ranked
    /// below actual problems of the same severity.
    hygiene: bool,
    /// The findings that point to this cause.
    findings: &'static [FindingId],
    server_steps: &'static [&'static str],
}

const RULES: &[Rule] = &[
    Rule {
        id: CauseId::NameUnresolvable,
        stage: 1,
        hygiene: false,
        findings: &[
            FindingId::DnsNxdomain,
            FindingId::DnsTimeout,
            FindingId::DnsServfail,
            FindingId::DnsError,
        ],
        server_steps: &[
            "Create or correct the host's A/AAAA record on the DNS server (DNS Manager, or `Add-DnsServerResourceRecordA`).",
            "If the name is short, check the DNS suffix search list of this computer and of the VPN.",
        ],
    },
    Rule {
        id: CauseId::NamePointsElsewhere,
        stage: 1,
        hygiene: false,
        findings: &[FindingId::DnsMismatch],
        server_steps: &[
            "Update the host's DNS record to the address that answers (and check for a stale entry in the hosts file or a DNS cache).",
        ],
    },
    Rule {
        id: CauseId::PortClosed,
        stage: 2,
        hygiene: false,
        findings: &[FindingId::TcpRefused],
        server_steps: &[
            "Enable Remote Desktop: System Properties > Remote > Allow remote connections (or `Set-ItemProperty 'HKLM:\\System\\CurrentControlSet\\Control\\Terminal Server' fDenyTSConnections 0`).",
            "Check that the Remote Desktop Services service (TermService) is running.",
            "Check the listener port: HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\WinStations\\RDP-Tcp\\PortNumber.",
        ],
    },
    Rule {
        id: CauseId::PortFilteredOrHostDown,
        stage: 2,
        hygiene: false,
        findings: &[
            FindingId::TcpTimeout,
            FindingId::TcpUnreachable,
            FindingId::TcpError,
        ],
        server_steps: &[
            "Check that the host is running and on the network.",
            "Allow the RDP port in Windows Defender Firewall (rule group \"Remote Desktop\", TCP-In) and in any network firewall or security group on the way.",
        ],
    },
    Rule {
        id: CauseId::NotAnRdpServer,
        stage: 3,
        hygiene: false,
        findings: &[
            FindingId::X224Garbage,
            FindingId::X224Closed,
            FindingId::X224Silent,
        ],
        server_steps: &[
            "Check which service listens on that port (`netstat -abno` on the server).",
            "If it is RDP, look at the RemoteDesktopServices-RdpCoreTS event log at the time of the attempt; restart TermService if it hangs.",
        ],
    },
    Rule {
        id: CauseId::NlaRequiredButOff,
        stage: 4,
        hygiene: false,
        findings: &[FindingId::NegoHybridRequired],
        server_steps: &[],
    },
    Rule {
        id: CauseId::NlaNotOffered,
        stage: 4,
        hygiene: true,
        findings: &[FindingId::NegoNlaUnavailable, FindingId::AuthNotVerified],
        server_steps: &[
            "Turn NLA on: System Properties > Remote > \"Allow connections only from computers running Remote Desktop with Network Level Authentication\" (Group Policy: Require user authentication for remote connections by using NLA).",
        ],
    },
    Rule {
        id: CauseId::SecurityLayerMismatch,
        stage: 4,
        hygiene: false,
        findings: &[
            FindingId::NegoSslRequired,
            FindingId::NegoSslNotAllowed,
            FindingId::NegoInconsistentFlags,
            FindingId::NegoSslWithUserAuthRequired,
            FindingId::NegoEntraAuthRequired,
            FindingId::NegoUnknownFailure,
            FindingId::X224LegacyOnly,
        ],
        server_steps: &[
            "Set the security layer to Negotiate or SSL: Group Policy > Remote Desktop Session Host > Security > \"Require use of specific security layer for remote (RDP) connections\".",
        ],
    },
    Rule {
        id: CauseId::ServerCertificateUnusable,
        stage: 5,
        hygiene: false,
        findings: &[FindingId::NegoSslCertNotOnServer],
        server_steps: &[
            "Check that NETWORK SERVICE can read the certificate's private key: C:\\ProgramData\\Microsoft\\Crypto\\RSA\\MachineKeys\\f686aace6942fb7f7ceb231212eef4a4_* (the MachineKeys permission case).",
            "Or delete the certificate from the \"Remote Desktop\" store (certlm.msc) and restart TermService so Windows creates a new one.",
        ],
    },
    Rule {
        id: CauseId::TlsVersionMismatch,
        stage: 5,
        hygiene: false,
        findings: &[FindingId::TlsLegacyVersion],
        server_steps: &[
            "Enable TLS 1.2 on the server (Windows Server 2008 R2 / 2012: install KB3080079, set the SCHANNEL\\Protocols\\TLS 1.2 Server keys, reboot).",
        ],
    },
    Rule {
        id: CauseId::TlsFailed,
        stage: 5,
        hygiene: false,
        findings: &[FindingId::TlsHandshakeFailed],
        server_steps: &["Read the server's System event log for Schannel errors at the time of the attempt."],
    },
    Rule {
        id: CauseId::CertExpired,
        stage: 6,
        hygiene: false,
        findings: &[FindingId::CertExpired],
        server_steps: &[
            "Open certlm.msc > Remote Desktop > Certificates and delete the expired self-signed certificate.",
            "Restart the Remote Desktop Services service (`Restart-Service TermService -Force`): Windows creates a new self-signed certificate.",
            "If the certificate comes from your CA or an RDS deployment, renew it there instead (Server Manager > Remote Desktop Services > Deployment Properties > Certificates).",
        ],
    },
    Rule {
        id: CauseId::CertNotYetValid,
        stage: 6,
        hygiene: false,
        findings: &[FindingId::CertNotYetValid],
        server_steps: &[
            "Check the server's clock and time zone (`w32tm /query /status`; resync with `w32tm /resync`): a certificate made while the clock was ahead starts in the future.",
            "If the clock is right, the certificate was issued with a future start date: renew it (certlm.msc > Remote Desktop > Certificates; delete a self-signed one and restart TermService).",
        ],
    },
    Rule {
        id: CauseId::CertChanged,
        stage: 6,
        hygiene: false,
        findings: &[FindingId::CertPinChanged],
        server_steps: &[
            "On the server, compare the thumbprint: `Get-ChildItem 'Cert:\\LocalMachine\\Remote Desktop'` (and the listener's SSLCertificateSHA1Hash), with the new fingerprint rdpl shows.",
        ],
    },
    Rule {
        id: CauseId::CertWrongName,
        stage: 7,
        hygiene: false,
        findings: &[FindingId::CertNameMismatch],
        server_steps: &[
            "Issue the server a certificate whose subject alternative names include the name (and IP) clients use.",
        ],
    },
    Rule {
        id: CauseId::CertExpiringSoon,
        stage: 8,
        hygiene: false,
        findings: &[FindingId::CertExpiringSoon],
        server_steps: &[
            "Renew the certificate before it expires (certlm.msc > Remote Desktop > Certificates; a CA-issued one at its CA, or by auto-enrollment with the \"Server authentication certificate template\" policy).",
        ],
    },
    Rule {
        id: CauseId::CertWeak,
        stage: 8,
        hygiene: false,
        findings: &[FindingId::CertWeakKey, FindingId::CertWeakSignature],
        server_steps: &[
            "Replace the certificate with one that has an RSA key of at least 2048 bits (or ECDSA P-256) and a SHA-256 signature; delete a weak self-signed one (certlm.msc > Remote Desktop > Certificates) and restart TermService so Windows makes a new one.",
        ],
    },
    Rule {
        id: CauseId::CertNoServerAuth,
        stage: 8,
        hygiene: false,
        findings: &[FindingId::CertNoServerAuth],
        server_steps: &[
            "Issue a certificate whose Extended Key Usage includes Server Authentication (1.3.6.1.5.5.7.3.1), e.g. from the \"Remote Desktop Authentication\" or a Web Server template, and bind it to the listener (SSLCertificateSHA1Hash).",
        ],
    },
    Rule {
        id: CauseId::CertSelfSigned,
        stage: 8,
        hygiene: true,
        findings: &[FindingId::CertSelfSigned],
        server_steps: &[
            "Give the server a certificate from a CA the clients trust (Group Policy: Remote Desktop Session Host > Security > \"Server authentication certificate template\"); until then every client must pin or accept the self-signed one.",
        ],
    },
    Rule {
        id: CauseId::CertUntrusted,
        stage: 8,
        hygiene: true,
        findings: &[FindingId::CertUntrusted],
        server_steps: &[
            "Deploy the issuing CA's certificate to the clients' trusted root store (Group Policy: Public Key Policies > Trusted Root Certification Authorities), or give the server a certificate from a CA they already trust.",
        ],
    },
    Rule {
        id: CauseId::GatewayName,
        stage: 9,
        hygiene: false,
        findings: &[FindingId::GatewayDns],
        server_steps: &["Create or correct the RD Gateway's DNS record."],
    },
    Rule {
        id: CauseId::GatewayUnreachable,
        stage: 9,
        hygiene: false,
        findings: &[FindingId::GatewayUnreachable],
        server_steps: &[
            "Allow TCP 443 to the RD Gateway; check that the RD Gateway service (TSGateway) and IIS are running.",
        ],
    },
    Rule {
        id: CauseId::GatewayTlsOrCertificate,
        stage: 9,
        hygiene: false,
        findings: &[
            FindingId::GatewayTlsHandshakeFailed,
            FindingId::GatewayTlsLegacyVersion,
            FindingId::GatewayCertMissing,
            FindingId::GatewayCertUnparsable,
            FindingId::GatewayCertExpired,
            FindingId::GatewayCertNotYetValid,
            FindingId::GatewayCertExpiringSoon,
            FindingId::GatewayCertSelfSigned,
            FindingId::GatewayCertUntrusted,
            FindingId::GatewayCertNameMismatch,
            FindingId::GatewayCertNoServerAuth,
            FindingId::GatewayCertWeakKey,
            FindingId::GatewayCertWeakSignature,
        ],
        server_steps: &[
            "Renew or replace the RD Gateway's certificate (RD Gateway Manager > Properties > SSL Certificate) with one clients trust.",
        ],
    },
    Rule {
        id: CauseId::GatewayNotRdg,
        stage: 9,
        hygiene: false,
        findings: &[FindingId::GatewayNotRdg],
        server_steps: &[
            "Check the gateway name: an RD Gateway answers RDG_OUT_DATA /remoteDesktopGateway/ with 401; make sure the RD Gateway role is installed there.",
        ],
    },
    Rule {
        id: CauseId::GatewayRejected,
        stage: 9,
        hygiene: false,
        findings: &[FindingId::GatewayRejected],
        server_steps: &[
            "Allow RDG_OUT_DATA and WebSocket upgrades to /remoteDesktopGateway/ on any reverse proxy or WAF in front of the gateway.",
        ],
    },
    // From the login check (`doctor --login`): what the server said about the credentials and the session.
    Rule {
        id: CauseId::StaleCredentials,
        stage: 10,
        hygiene: false,
        findings: &[FindingId::CredsRejected],
        server_steps: &[],
    },
    Rule {
        id: CauseId::WrongPassword,
        stage: 10,
        hygiene: false,
        findings: &[FindingId::AuthFailed],
        server_steps: &[
            "If the password is right: the server's Security event log has event 4625 with the reason (Status/SubStatus: 0xC000006A wrong password, 0xC0000064 unknown user, 0xC0000234 locked out).",
        ],
    },
    Rule {
        id: CauseId::AccountProblem,
        stage: 10,
        hygiene: false,
        findings: &[
            FindingId::AuthPasswordExpired,
            FindingId::AuthPasswordMustChange,
            FindingId::AuthAccountLocked,
            FindingId::AuthAccountDisabled,
            FindingId::AuthAccountExpired,
            FindingId::AuthAccountRestriction,
            FindingId::AuthLogonHours,
        ],
        server_steps: &[
            "In Active Directory Users and Computers (or `net user NAME` on a standalone server): unlock, enable or extend the account, or reset the password.",
        ],
    },
    Rule {
        id: CauseId::RemoteLogonDenied,
        stage: 10,
        hygiene: false,
        findings: &[FindingId::AuthAccessDenied],
        server_steps: &[
            "Add the user to the \"Remote Desktop Users\" group (or grant \"Allow log on through Remote Desktop Services\" in the local security policy), and check that \"Deny log on through Remote Desktop Services\" does not name the user.",
        ],
    },
    Rule {
        id: CauseId::ServerDenied,
        stage: 11,
        hygiene: false,
        findings: &[FindingId::ServerDenied],
        server_steps: &[
            "Check the connection limits: Group Policy > Remote Desktop Session Host > Connections > \"Limit number of connections\" and \"Restrict Remote Desktop Services users to a single Remote Desktop Services session\"; on a client Windows only one session is allowed.",
            "Check the RD Session Host's licensing mode and the RemoteDesktopServices-RdpCoreTS and TerminalServices-LocalSessionManager event logs at the time of the attempt.",
        ],
    },
    Rule {
        id: CauseId::ServerDeniedConnection,
        stage: 11,
        hygiene: false,
        // Only the code the user saw names it (doctor --code): no pre-flight finding can.
        findings: &[],
        server_steps: &[
            "Check that the server accepts remote connections: System Properties > Remote > \"Allow remote connections to this computer\" (or fDenyTSConnections = 0 under HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server), and the \"Allow users to connect remotely by using Remote Desktop Services\" policy.",
            "Check the connection limits: Group Policy > Remote Desktop Session Host > Connections > \"Limit number of connections\" and \"Restrict Remote Desktop Services users to a single Remote Desktop Services session\"; on a client edition of Windows only one session is allowed.",
            "Check the RD Session Host's listener (RDP-Tcp: enabled, the right network adapter, its security layer) and, in an RDS deployment, that the user is in the collection's user group.",
            "Read the RemoteDesktopServices-RdpCoreTS/Operational and TerminalServices-LocalSessionManager/Operational event logs at the time of the attempt: they name the refusal.",
        ],
    },
    Rule {
        id: CauseId::Licensing,
        stage: 11,
        hygiene: false,
        findings: &[FindingId::ServerLicensing],
        server_steps: &[
            "Check RD Licensing: the license server is reachable from the RD Session Host, the licensing mode (Per User/Per Device) matches the installed CALs, and the grace period has not run out (RD Licensing Diagnoser).",
        ],
    },
    Rule {
        id: CauseId::GatewayCredentials,
        stage: 9,
        hygiene: false,
        findings: &[FindingId::GatewayAuthFailed],
        server_steps: &[
            "Check the account in the RD Gateway's connection authorization policy (RD CAP) and the gateway's Security event log.",
        ],
    },
    Rule {
        id: CauseId::GatewayPolicy,
        stage: 9,
        hygiene: false,
        findings: &[
            FindingId::GatewayDenied,
            FindingId::GatewayRefused,
            FindingId::GatewayHttp,
            FindingId::GatewayFailed,
        ],
        server_steps: &[
            "RD Gateway Manager > Policies: the user must be in a group named by an RD CAP, and the target computer in an RD RAP's computer group (by the name the client uses).",
        ],
    },
    Rule {
        id: CauseId::SessionFailed,
        stage: 12,
        hygiene: false,
        findings: &[
            FindingId::LoginCertRejected,
            FindingId::LoginNegotiation,
            FindingId::LoginUnreachable,
            FindingId::LoginTimeout,
            FindingId::LoginDisconnected,
            FindingId::LoginRedirected,
            FindingId::LoginFailed,
        ],
        server_steps: &[
            "Look at the RemoteDesktopServices-RdpCoreTS and TerminalServices-* event logs on the server at the time of the attempt.",
        ],
    },
];

fn matches(rule: &Rule, id: FindingId) -> bool {
    rule.findings.contains(&id)
}

fn title(id: CauseId, p: &Profile, r: &Facts) -> String {
    let host = &p.host;
    let port = p.port;
    match id {
        CauseId::NameUnresolvable => format!("The name {host} does not resolve"),
        CauseId::NamePointsElsewhere => format!("DNS sends {host} to an address where no RDP server answers"),
        CauseId::PortClosed => {
            format!("Nothing listens on port {port} (Remote Desktop off, or another port)")
        }
        CauseId::PortFilteredOrHostDown => {
            format!("Port {port} is filtered by a firewall, or the host is down")
        }
        CauseId::NotAnRdpServer => "What answers on that port is not a working RDP server".into(),
        CauseId::NlaRequiredButOff => "The server requires NLA, but the profile turns NLA off".into(),
        CauseId::NlaNotOffered => "The server does not offer NLA (CredSSP)".into(),
        CauseId::SecurityLayerMismatch => {
            "The server refuses the security protocol the client asks for".into()
        }
        CauseId::ServerCertificateUnusable => "The server has no usable TLS certificate".into(),
        CauseId::TlsVersionMismatch => "TLS version mismatch: the server speaks only TLS 1.0/1.1".into(),
        CauseId::TlsFailed => "The TLS handshake fails".into(),
        CauseId::CertExpired => {
            let when = r
                .certificate
                .as_ref()
                .map(|c| c.not_after.clone())
                .unwrap_or_default();
            format!("The server's certificate expired ({when})")
        }
        CauseId::CertNotYetValid => {
            let when = r
                .certificate
                .as_ref()
                .map(|c| c.not_before.clone())
                .unwrap_or_default();
            format!(
                "The server's certificate is not valid yet (from {when}): this computer's clock or the server's is wrong"
            )
        }
        CauseId::CertChanged => "The server's certificate changed since it was pinned".into(),
        CauseId::CertWrongName => format!("The server's certificate is for another name than {host}"),
        CauseId::CertUntrusted => "The server's certificate is issued by a CA this computer does not trust".into(),
        CauseId::CertSelfSigned => "The server's certificate is self-signed (no CA vouches for it)".into(),
        CauseId::CertWeak => "The server's certificate has a weak key or signature".into(),
        CauseId::CertNoServerAuth => {
            "The server's certificate is not for server authentication (its Extended Key Usage lacks serverAuth)".into()
        }
        CauseId::CertExpiringSoon => {
            let when = r
                .certificate
                .as_ref()
                .map(|c| c.not_after.clone())
                .unwrap_or_default();
            format!("The server's certificate expires soon ({when})")
        }
        CauseId::GatewayName => "The RD Gateway's name does not resolve".into(),
        CauseId::GatewayUnreachable => "The RD Gateway does not accept connections".into(),
        CauseId::GatewayTlsOrCertificate => "The RD Gateway's TLS certificate is a problem".into(),
        CauseId::GatewayNotRdg => "The gateway address is an HTTPS server but not an RD Gateway".into(),
        CauseId::GatewayRejected => "The RD Gateway (or a proxy in front of it) rejects the request".into(),
        CauseId::StaleCredentials => "The password saved for this connection is out of date".into(),
        CauseId::WrongPassword => format!(
            "The server rejects the credentials of {}",
            p.user.as_deref().unwrap_or("the user")
        ),
        CauseId::AccountProblem => {
            "The account cannot log on as it is (expired, locked, disabled or restricted)".into()
        }
        CauseId::RemoteLogonDenied => "The password is right, but the user may not log on remotely".into(),
        CauseId::ServerDenied => {
            "The server denies the connection (ERRINFO 7: connection limits, licensing, RDS policy)".into()
        }
        CauseId::ServerDeniedConnection => {
            "The server refuses the connection itself (exDiscReasonServerDeniedConnection): \
             its own policy or configuration, not the network or the certificate"
                .into()
        }
        CauseId::Licensing => "RD Licensing fails on the server".into(),
        CauseId::GatewayCredentials => "The RD Gateway rejects the credentials".into(),
        CauseId::GatewayPolicy => "The RD Gateway refuses this user or this target (its policies)".into(),
        CauseId::SessionFailed => "The session fails after the pre-flight passed".into(),
        // After a handoff, diagnose_exit words these with the client's name and exit code.
        CauseId::TlsFailedInClient => {
            "The client's TLS handshake fails although the pre-flight's worked".into()
        }
        CauseId::ClientExit => "The client ends the connection with an error".into(),
    }
}

fn client_fix(id: CauseId, p: &Profile, r: &Facts) -> Option<String> {
    let fallback = r.address.substitute();
    match id {
        CauseId::NameUnresolvable | CauseId::NamePointsElsewhere => Some(match fallback {
            Some(a) => format!("rdpl connects to {a} automatically (it answered as a fallback)."),
            None => format!("Add the server's IP address as a fallback (`rdpl profile set {} fallback=IP`); rdpl then uses it automatically.", p.name),
        }),
        CauseId::NlaRequiredButOff => Some(format!("`rdpl profile set {} nla=auto`: rdpl then uses NLA whenever the server offers it.", p.name)),
        CauseId::NlaNotOffered if p.security.nla == Tri::On => {
            Some(format!("`rdpl profile set {} nla=auto` lets rdpl turn NLA off for this server automatically.", p.name))
        }
        CauseId::NlaNotOffered => Some("With nla=auto rdpl already turns NLA off for this server (and says so).".into()),
        CauseId::CertChanged => Some("After you confirmed the new fingerprint with the server's admin: `rdpl pin accept TARGET` (rdpl never updates a pin by itself).".into()),
        CauseId::CertUntrusted | CauseId::CertSelfSigned | CauseId::CertWrongName => Some("rdpl pins the certificate on first use and then trusts exactly that certificate (`rdpl pin accept TARGET` to do it now).".into()),
        CauseId::CertWeak | CauseId::CertNoServerAuth => Some("rdpl reports it but still connects to the pinned certificate; mstsc and FreeRDP may refuse such a certificate.".into()),
        CauseId::CertExpiringSoon => Some("Nothing yet: rdpl keeps connecting until it expires, then blocks it.".into()),
        CauseId::CertExpired => Some("Nothing automatic: rdpl blocks an expired certificate; `--accept-expired-cert` connects once anyway.".into()),
        CauseId::CertNotYetValid => Some("Check this computer's date, time and time zone first; rdpl blocks a certificate that is not valid yet (`--accept-expired-cert` connects once anyway).".into()),
        CauseId::TlsVersionMismatch => Some(format!("`rdpl profile set {} tls.legacy=allow` lets FreeRDP and mstsc connect with TLS 1.0/1.1 until the server is fixed (rdpl's own session can't).", p.name)),
        CauseId::StaleCredentials => Some("rdpl marked the saved password as rejected and clears it on the next connect; save the current one with `rdpl creds set TARGET`.".into()),
        CauseId::WrongPassword => Some("Check the user, domain and password; `rdpl creds set TARGET` saves the right one.".into()),
        _ => None,
    }
}

/// The ranked causes of what a pre-flight found. Empty when nothing worth a warning was found.
pub fn diagnose(p: &Profile, r: &Facts) -> Vec<Cause> {
    let connected = r.address.chosen.is_some();
    let mut ranked: Vec<(Severity, bool, u8, usize, Cause)> = Vec::new();
    for (i, rule) in RULES.iter().enumerate() {
        let evidence: Vec<_> = r
            .findings
            .iter()
            .filter(|f| matches(rule, f.id) && f.severity > Severity::Info)
            // Failed candidates are not a cause when another address worked.
            .filter(|f| !(connected && f.id.family() == Family::Tcp))
            .collect();
        let Some(severity) = evidence.iter().map(|f| f.severity).max() else {
            continue;
        };
        ranked.push((
            severity,
            rule.hygiene,
            rule.stage,
            i,
            Cause {
                id: rule.id,
                title: title(rule.id, p, r),
                evidence: evidence
                    .iter()
                    .map(|f| format!("{}: {}", f.id, f.message))
                    .collect(),
                client_fix: client_fix(rule.id, p, r),
                server_steps: rule.server_steps.iter().map(|s| (*s).to_owned()).collect(),
                severity,
            },
        ));
    }
    ranked.sort_by_key(|(sev, hygiene, stage, i, _)| (std::cmp::Reverse(*sev), *hygiene, *stage, *i));
    ranked.into_iter().map(|(_, _, _, _, c)| c).collect()
}

/// [`diagnose`] with the code the user saw as more evidence (`doctor --code`). Each cause the code names
/// gets a `code: …` evidence line and ranks above others of the same severity; a cause it names that the
/// pre-flight could not see (a server-side refusal) is added; a cause it contradicts gets a `code: …` line and
/// ranks last. The pre-flight's severity still comes first: a code never hides an error the pre-flight found.
pub fn diagnose_with_code(p: &Profile, r: &Facts, code: &code::Code) -> Vec<Cause> {
    let reading = code::read(code);
    let mut causes: Vec<(bool, bool, Cause)> = diagnose(p, r)
        .into_iter()
        .map(|mut c| {
            let named = reading.rules_in.contains(&c.id);
            let contradicted = reading.rules_out.contains(&c.id);
            if named {
                c.evidence.push(format!("code: {} points here", reading.label));
            } else if contradicted {
                c.evidence.push(format!("code: {} rules this out", reading.label));
            }
            (named, contradicted, c)
        })
        .collect();
    for id in &reading.rules_in {
        if causes.iter().any(|(_, _, c)| c.id == *id) {
            continue;
        }
        let Some(rule) = RULES.iter().find(|r| r.id == *id) else {
            continue;
        };
        causes.push((
            true,
            false,
            Cause {
                id: *id,
                title: title(*id, p, r),
                evidence: vec![format!(
                    "code: {} points here; the pre-flight cannot see this from outside",
                    reading.label
                )],
                client_fix: client_fix(*id, p, r),
                server_steps: rule.server_steps.iter().map(|s| (*s).to_owned()).collect(),
                severity: Severity::Error,
            },
        ));
    }
    let rank = |id: CauseId| {
        let i = RULES.iter().position(|r| r.id == id).unwrap_or(usize::MAX);
        let (hygiene, stage) = RULES.get(i).map_or((false, u8::MAX), |r| (r.hygiene, r.stage));
        (hygiene, stage, i)
    };
    // A contradicted cause goes last; then the pre-flight's severity; then what the code names, in the order it
    // names them (most specific first).
    causes.sort_by_key(|(named, contradicted, c)| {
        let (hygiene, stage, i) = rank(c.id);
        let named_at = reading
            .rules_in
            .iter()
            .position(|id| *id == c.id)
            .unwrap_or(usize::MAX);
        (
            *contradicted,
            std::cmp::Reverse(c.severity),
            !*named,
            named_at,
            hygiene,
            stage,
            i,
        )
    });
    causes.into_iter().map(|(_, _, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Source;
    use crate::finding::Finding;
    use rdpl_profiles::name::Host;

    fn report(chosen: Option<&str>, via: Option<Source>, findings: Vec<Finding>) -> Facts {
        let mut f = Facts::empty("web01");
        f.address.chosen = chosen.map(|a| a.parse().expect("addr"));
        f.address.via = via;
        f.findings = findings;
        f
    }

    fn profile() -> Profile {
        Profile::new(
            "web01".parse().expect("name"),
            Host::Name("web01.corp.test".into()),
        )
    }

    fn mstsc(code: u32, extended: Option<u32>) -> code::Code {
        code::Code {
            client: code::Client::Mstsc,
            code,
            extended,
        }
    }

    #[test]
    fn a_code_ranks_what_the_preflight_cannot_see_but_never_hides_a_finding() {
        // A clean pre-flight (only hygiene) and 0x904/0x7: the server's own refusal comes first.
        let clean = report(
            Some("10.0.0.5:3389"),
            Some(Source::Dns),
            vec![Finding::new(FindingId::CertSelfSigned, "self-signed").severity(Severity::Warning)],
        );
        let causes = diagnose_with_code(&profile(), &clean, &mstsc(0x904, Some(7)));
        assert_eq!(causes[0].id, CauseId::ServerDeniedConnection, "{causes:#?}");
        assert!(
            causes[0].evidence[0].starts_with("code: mstsc 0x904"),
            "{:?}",
            causes[0].evidence
        );
        assert!(causes[0].server_steps.iter().any(|s| s.contains("RdpCoreTS")));
        // An expired certificate with 0x904: the certificate stays first.
        let expired = report(
            Some("10.0.0.5:3389"),
            Some(Source::Dns),
            vec![Finding::new(FindingId::CertExpired, "expired").severity(Severity::Error)],
        );
        let causes = diagnose_with_code(&profile(), &expired, &mstsc(0x904, None));
        assert_eq!(causes[0].id, CauseId::CertExpired);
        // A code that says the server was never reached puts a certificate finding last.
        let causes = diagnose_with_code(&profile(), &expired, &mstsc(0x204, None));
        assert_eq!(
            causes.last().map(|c| c.id),
            Some(CauseId::CertExpired),
            "{causes:#?}"
        );
        assert!(
            causes
                .last()
                .is_some_and(|c| c.evidence.iter().any(|e| e.contains("rules this out")))
        );
        assert_eq!(causes[0].id, CauseId::PortClosed);
    }

    #[test]
    fn each_certificate_problem_is_a_cause_of_its_own() {
        for (finding, cause) in [
            (FindingId::CertExpired, CauseId::CertExpired),
            (FindingId::CertNotYetValid, CauseId::CertNotYetValid),
            (FindingId::CertNameMismatch, CauseId::CertWrongName),
            (FindingId::CertUntrusted, CauseId::CertUntrusted),
            (FindingId::CertSelfSigned, CauseId::CertSelfSigned),
            (FindingId::CertWeakKey, CauseId::CertWeak),
            (FindingId::CertWeakSignature, CauseId::CertWeak),
            (FindingId::CertNoServerAuth, CauseId::CertNoServerAuth),
            (FindingId::CertExpiringSoon, CauseId::CertExpiringSoon),
        ] {
            let r = report(
                Some("10.0.0.5:3389"),
                Some(Source::Dns),
                vec![Finding::new(finding, "x").severity(Severity::Warning)],
            );
            let causes = diagnose(&profile(), &r);
            assert_eq!(
                causes.iter().map(|c| c.id).collect::<Vec<_>>(),
                [cause],
                "{finding:?}"
            );
            assert!(
                !causes[0].server_steps.is_empty() && causes[0].client_fix.is_some(),
                "{cause:?}"
            );
        }
    }

    #[test]
    fn a_certificate_from_the_future_is_not_called_expired() {
        let r = report(
            Some("10.0.0.5:3389"),
            Some(Source::Dns),
            vec![Finding::new(FindingId::CertNotYetValid, "not yet").severity(Severity::Error)],
        );
        let causes = diagnose(&profile(), &r);
        assert_eq!(causes[0].id, CauseId::CertNotYetValid);
        assert!(causes[0].title.contains("not valid yet") && !causes[0].title.contains("expired"));
        assert!(
            causes[0]
                .client_fix
                .as_deref()
                .is_some_and(|f| f.contains("clock") || f.contains("date"))
        );
    }

    #[test]
    fn blocking_causes_come_first_then_the_most_fundamental() {
        let r = report(
            Some("10.0.0.5:3389"),
            Some(Source::Fallback),
            vec![
                Finding::new(FindingId::CertSelfSigned, "self-signed").severity(Severity::Warning),
                Finding::new(FindingId::DnsNxdomain, "nxdomain").severity(Severity::Warning),
                Finding::new(FindingId::CertExpired, "expired").severity(Severity::Error),
                Finding::new(FindingId::TcpTimeout, "10.0.0.9 timed out").severity(Severity::Info),
            ],
        );
        let causes = diagnose(&profile(), &r);
        let ids: Vec<_> = causes.iter().map(|c| c.id).collect();
        assert_eq!(
            ids,
            vec![
                CauseId::CertExpired,
                CauseId::NameUnresolvable,
                CauseId::CertSelfSigned
            ]
        );
        assert!(causes[0].server_steps.iter().any(|s| s.contains("TermService")));
        assert!(
            causes[1]
                .client_fix
                .as_deref()
                .is_some_and(|f| f.contains("10.0.0.5:3389"))
        );
    }

    #[test]
    fn login_findings_rank_the_credentials_above_certificate_hygiene() {
        let login = |extra: Vec<Finding>| {
            let mut f = vec![
                Finding::new(FindingId::CertSelfSigned, "self-signed").severity(Severity::Warning),
                Finding::new(FindingId::AuthFailed, "rejected").severity(Severity::Error),
            ];
            f.extend(extra);
            report(Some("10.0.0.9:3389"), Some(Source::Dns), f)
        };
        let ids = |r: &Facts| diagnose(&profile(), r).iter().map(|c| c.id).collect::<Vec<_>>();
        assert_eq!(
            ids(&login(vec![])),
            vec![CauseId::WrongPassword, CauseId::CertSelfSigned]
        );
        let saved = login(vec![
            Finding::new(FindingId::CredsRejected, "saved one rejected").severity(Severity::Error),
        ]);
        assert_eq!(
            ids(&saved),
            vec![
                CauseId::StaleCredentials,
                CauseId::WrongPassword,
                CauseId::CertSelfSigned
            ]
        );
        let denied = report(
            Some("10.0.0.9:3389"),
            Some(Source::Dns),
            vec![Finding::new(FindingId::ServerDenied, "ERRINFO 7").severity(Severity::Error)],
        );
        let causes = diagnose(&profile(), &denied);
        assert_eq!(causes[0].id, CauseId::ServerDenied);
        assert!(
            causes[0]
                .server_steps
                .iter()
                .any(|s| s.contains("Limit number of connections"))
        );
        let not_verified = report(
            Some("10.0.0.9:3389"),
            Some(Source::Dns),
            vec![Finding::new(FindingId::AuthNotVerified, "no NLA").severity(Severity::Warning)],
        );
        assert_eq!(ids(&not_verified), vec![CauseId::NlaNotOffered]);
    }

    #[test]
    fn normal_rdp_states_rank_below_actual_problems() {
        let r = report(
            Some("10.0.0.9:3389"),
            Some(Source::Dns),
            vec![
                Finding::new(FindingId::NegoNlaUnavailable, "no NLA").severity(Severity::Warning),
                Finding::new(FindingId::CertSelfSigned, "self-signed").severity(Severity::Warning),
                Finding::new(FindingId::CertNameMismatch, "wrong name").severity(Severity::Warning),
            ],
        );
        let ids: Vec<_> = diagnose(&profile(), &r).iter().map(|c| c.id).collect();
        assert_eq!(
            ids,
            vec![
                CauseId::CertWrongName,
                CauseId::NlaNotOffered,
                CauseId::CertSelfSigned
            ]
        );
    }

    #[test]
    fn every_rule_has_a_title_and_nothing_unmatched_is_invented() {
        for rule in RULES {
            assert!(
                !title(rule.id, &profile(), &report(None, None, vec![])).is_empty(),
                "{}",
                rule.id.wire()
            );
        }
        for id in CauseId::ALL {
            let names = CauseId::ALL.iter().filter(|c| c.wire() == id.wire()).count();
            assert_eq!(names, 1, "{} twice", id.wire());
        }
        assert!(
            diagnose(
                &profile(),
                &report(
                    Some("10.0.0.9:3389"),
                    Some(Source::Dns),
                    vec![Finding::new(FindingId::CertPinNew, "new").severity(Severity::Info)]
                )
            )
            .is_empty()
        );
    }
}

/// Where the password a client got came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordSource {
    /// rdpl gave none; the client asked for it itself.
    None,
    /// rdpl's keyring entry.
    Keyring,
    /// `--password-stdin`.
    Stdin,
    /// The profile's `password.command` (a vault).
    Command,
}

/// xfreerdp exit codes that mean the server rejected the credentials (XF_EXIT_AUTH_FAILURE,
/// XF_EXIT_LOGON_FAILURE, XF_EXIT_CONNECT_WRONG_PASSWORD).
pub const XFREERDP_AUTH_FAILED: [i32; 3] = [132, 134, 154];

/// FreeRDP's exit codes for an account the server refused although the password may be right: locked out
/// (135), password expired or to be changed (148, 149, 152), disabled (151), restricted (156), expired (157),
/// logon type not granted (158), no or missing credentials (159). With [`XFREERDP_AUTH_FAILED`] they make
/// `rdpl connect` exit with 3 (authentication failed).
pub const XFREERDP_ACCOUNT: [i32; 9] = [135, 148, 149, 151, 152, 156, 157, 158, 159];

/// The causes of a failed handoff: what the client's exit code says about this connection first, then
/// whatever the pre-flight found. `nla` is whether the plan used NLA.
pub fn diagnose_exit(
    p: &Profile,
    r: &Facts,
    client: &str,
    code: i32,
    nla: bool,
    password: PasswordSource,
) -> Vec<Cause> {
    let account = p.user.as_deref().map(|u| match &p.domain {
        Some(d) => format!("{d}\\{u}"),
        None => u.to_owned(),
    });
    let who = account.clone().unwrap_or_else(|| "the user".to_owned());
    let evidence = vec![format!("{client} exited with {code}{}", meaning(client, code))];
    let mut causes = Vec::new();
    let rejected = client == "xfreerdp" && XFREERDP_AUTH_FAILED.contains(&code);
    // FreeRDP's own servers and some Windows policies drop the connection inside CredSSP instead of sending a
    // logon failure; with NLA and a password given, a transport failure there is most often the password.
    let dropped_in_nla = client == "xfreerdp" && code == 147 && nla && password != PasswordSource::None;
    if rejected || dropped_in_nla {
        let how = if rejected {
            "rejected"
        } else {
            "most likely rejected (the server dropped the connection during NLA)"
        };
        let (id, title, fix) = match password {
            PasswordSource::Keyring => (
                CauseId::StaleCredentials,
                format!("the saved password of {who} was {how}"),
                format!(
                    "rdpl marked the saved password as rejected; the next `rdpl connect` clears it, and `rdpl creds set {}` saves the right one",
                    p.name
                ),
            ),
            PasswordSource::Command => (
                CauseId::WrongPassword,
                format!(
                    "the password from `{}` was {how}",
                    p.password_command.as_ref().map_or("password.command", |c| c.line())
                ),
                "check the vault entry the command reads (and the user name and domain); rdpl saved nothing".to_owned(),
            ),
            _ => (
                CauseId::WrongPassword,
                format!("the user name or password of {who} was {how}"),
                "check the user name, domain and password (`rdpl profile set NAME user=… domain=…`); nothing was saved".to_owned(),
            ),
        };
        causes.push(Cause {
            id,
            title,
            evidence: evidence.clone(),
            client_fix: Some(fix),
            server_steps: vec![
                "if the password is right: check that the account is not locked out or expired, and that it is \
                 in the Remote Desktop Users group (or the \"Allow log on through Remote Desktop Services\" right)"
                    .into(),
            ],
            severity: Severity::Error,
        });
    } else if client == "xfreerdp" && code == 143 {
        causes.push(Cause {
            id: CauseId::TlsFailedInClient,
            title: "the client's TLS handshake failed although the pre-flight's worked".into(),
            evidence: evidence.clone(),
            client_fix: Some(
                "rdpl pins the certificate the pre-flight saw (/cert:deny,fingerprint:…): the server presented \
                 another one in between (load balancer, certificate renewal, or an interception); `rdpl check` \
                 again shows which"
                    .into(),
            ),
            server_steps: vec![],
            severity: Severity::Error,
        });
    } else if let Some(named) = (client == "xfreerdp")
        .then(|| u32::try_from(code).ok())
        .flatten()
        .map(|code| code::Code {
            client: code::Client::Xfreerdp,
            code,
            extended: None,
        })
        .filter(|c| !code::read(c).rules_in.is_empty())
    {
        // An exit status that names causes (a refused connection, a server-side refusal, licensing): the
        // doctor ranks them with the pre-flight, as `doctor --code STATUS --client xfreerdp` does.
        let mut ranked = diagnose_with_code(p, r, &named);
        if let Some(top) = ranked.first_mut() {
            top.evidence.splice(0..0, evidence);
        }
        return ranked;
    } else {
        causes.push(Cause {
            id: CauseId::ClientExit,
            title: format!("{client} ended the connection with exit code {code}"),
            evidence: evidence.clone(),
            client_fix: Some(format!("`rdpl explain {code}` tells what the code means")),
            server_steps: vec![],
            severity: Severity::Error,
        });
    }
    causes.extend(diagnose(p, r));
    causes
}

/// Whether a client's exit status itself says authentication failed (FreeRDP 2 and 3: XF_EXIT_AUTH_FAILURE,
/// XF_EXIT_LOGON_FAILURE, XF_EXIT_CONNECT_WRONG_PASSWORD, account locked out/expired/disabled, password
/// expired or to be changed).
pub fn is_auth_failure(client: &str, code: i32) -> bool {
    client == "xfreerdp" && (XFREERDP_AUTH_FAILED.contains(&code) || XFREERDP_ACCOUNT.contains(&code))
}

/// Whether a cause is about the credentials or the account (a handoff that ends with it exits 3).
pub fn is_auth_cause(id: CauseId) -> bool {
    matches!(
        id,
        CauseId::WrongPassword | CauseId::StaleCredentials | CauseId::AccountProblem
    )
}

/// ` (NAME: meaning)` from the explain tables, for FreeRDP's exit codes (2 and 3 share them).
pub fn exit_meaning(client: &str, code: i32) -> String {
    meaning(client, code)
}

/// ` (NAME: meaning)` from the explain tables, for xfreerdp's exit codes.
fn meaning(client: &str, code: i32) -> String {
    if client != "xfreerdp" {
        return String::new();
    }
    let Ok(c) = u32::try_from(code) else {
        return String::new();
    };
    crate::explain::lookup(c)
        .into_iter()
        .find(|e| e.entry.family == crate::explain::Family::XfreerdpExit && e.via.is_none())
        .map(|e| format!(" ({}: {})", e.entry.name, e.entry.meaning))
        .unwrap_or_default()
}

//! The finding catalogue: the one place a finding id is spelled.
//!
//! Each row of [`catalogue!`] is one id: its variant, its wire name (the stable `check --json` vocabulary),
//! its default severity, whether [`crate::plan::plan`] resolves it by itself (so it does not block on its own),
//! one line of meaning (docs/json.md's table is generated from it), and the default fix. Probes, the native
//! session, `plan()` and `doctor` name ids by [`FindingId`]; a rule for an id that does not exist does not
//! compile. Adding a finding is one row here; its message is written where the fact is found.

use std::fmt;

use serde::{Serialize, Serializer};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// The connection can work, but something is off.
    Warning,
    /// The connection will fail or must not be made as it is.
    Error,
}

impl Severity {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// The overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// No warning or error.
    Ok,
    /// Warnings only.
    Warn,
    /// At least one error: the connection is blocked.
    Blocked,
}

impl Verdict {
    /// The verdict a set of findings implies.
    pub fn of(findings: &[Finding]) -> Verdict {
        match findings.iter().map(|f| f.severity).max() {
            Some(Severity::Error) => Verdict::Blocked,
            Some(Severity::Warning) => Verdict::Warn,
            _ => Verdict::Ok,
        }
    }
}

/// Where in the connection a finding belongs: the part of its wire name before the first dot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// Name resolution of the host.
    Dns,
    /// TCP connections to the candidates.
    Tcp,
    /// Which address was used.
    Address,
    /// The check itself (its time budget).
    Check,
    /// The X.224 answer.
    X224,
    /// The security-protocol negotiation.
    Nego,
    /// The host's TLS handshake.
    Tls,
    /// The host's certificate.
    Cert,
    /// The RD Gateway (its name, TLS, certificate, answers and refusals).
    Gateway,
    /// Saved credentials.
    Creds,
    /// What the server said about the credentials.
    Auth,
    /// rdpl's own session, after the pre-flight.
    Login,
    /// The server ended the session.
    Server,
    /// rdpl's window.
    Window,
    /// This computer's mstsc and its policies (Windows).
    Mstsc,
}

macro_rules! catalogue {
    ($( $v:ident = $wire:literal, $sev:ident, $plan:tt, $family:ident, $meaning:literal, $fix:expr; )*) => {
        /// A finding id. Its wire name, severity, meaning and fix are in the catalogue (this file).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum FindingId {
            $(
                #[doc = $meaning]
                $v,
            )*
        }

        impl FindingId {
            /// Every id, in catalogue order.
            pub const ALL: &'static [FindingId] = &[$(FindingId::$v,)*];

            /// The stable wire name (`cert.expired`).
            pub const fn wire(self) -> &'static str {
                match self { $(FindingId::$v => $wire,)* }
            }

            /// The severity it has unless the situation says otherwise.
            pub const fn severity(self) -> Severity {
                match self { $(FindingId::$v => Severity::$sev,)* }
            }

            /// Whether `plan()` resolves it by itself (falls back, turns NLA off, asks for an override), so it
            /// does not block the connection on its own.
            pub const fn handled_by_plan(self) -> bool {
                match self { $(FindingId::$v => catalogue!(@plan $plan),)* }
            }

            /// Where in the connection it belongs.
            pub const fn family(self) -> Family {
                match self { $(FindingId::$v => Family::$family,)* }
            }

            /// One line: what it means.
            pub const fn meaning(self) -> &'static str {
                match self { $(FindingId::$v => $meaning,)* }
            }

            /// The fix it gets unless the place that finds it knows a better one.
            pub const fn fix(self) -> Option<&'static str> {
                match self { $(FindingId::$v => $fix,)* }
            }
        }
    };
    (@plan plan) => { true };
    (@plan -) => { false };
}

// Columns: variant = wire name, default severity, handled by plan (`plan`) or not (`-`), family, meaning, fix.
catalogue! {
    DnsNxdomain = "dns.nxdomain", Error, plan, Dns, "The host name does not exist in DNS (warning when another address answered).", Some("Check the spelling and the DNS suffix, or add the server's IP as a fallback: `rdpl profile set NAME fallback=IP`.");
    DnsTimeout = "dns.timeout", Error, plan, Dns, "The DNS server did not answer for the host name in time (warning when another address answered).", Some("Check the DNS servers of this computer (VPN connected?), or pass --dns-server.");
    DnsServfail = "dns.servfail", Error, plan, Dns, "The DNS server failed to resolve the host name (warning when another address answered).", Some("The DNS server could not reach the zone's servers; try again, or use another DNS server.");
    DnsError = "dns.error", Error, plan, Dns, "The host name could not be resolved for another reason, or no resolver is available.", None;
    DnsUnusableAddress = "dns.unusable_address", Error, -, Dns, "DNS answered with an address nothing can connect to (0.0.0.0, ::, broadcast, multicast); it is not tried (warning when another address answered).", Some("Fix the DNS record (a blocked or sinkholed name answers 0.0.0.0), or add the server's IP as a fallback: `rdpl profile set NAME fallback=IP`.");
    DnsMismatch = "dns.mismatch", Warning, -, Dns, "The name resolves, but the server answered at another (fallback or cached) address.", Some("Update the DNS record (or a stale hosts-file entry) to the server's current address.");
    AddressFallbackUsed = "address.fallback_used", Warning, -, Address, "Connected to a fallback, the alternate or the cached address instead of the host.", Some("rdpl uses this address automatically; fix the name or the primary address when you can.");
    TcpRefused = "tcp.refused", Error, plan, Tcp, "A candidate refused the connection (error when none connected, info otherwise).", Some("Make sure Remote Desktop is enabled on the server and listens on this port (TermService running, PortNumber in the registry).");
    TcpTimeout = "tcp.timeout", Error, plan, Tcp, "A candidate did not answer: host down or port filtered (error when none connected, info otherwise).", Some("Check that the host is up and that firewalls (Windows Defender Firewall, network ACLs, VPN) allow TCP to this port.");
    TcpUnreachable = "tcp.unreachable", Error, plan, Tcp, "A candidate is unreachable: no route (error when none connected, info otherwise).", Some("Check routing and the VPN connection to that network.");
    TcpError = "tcp.error", Error, plan, Tcp, "A candidate failed otherwise, or there was no address to connect to.", Some("Check routing and the VPN connection to that network.");
    CheckAborted = "check.aborted", Error, -, Check, "The check of this target stopped before it ended (an internal error of rdpl); nothing it learned is reported.", Some("Run the check again; if it happens again, report it with `rdpl check TARGET -vv`.");
    CheckTimeout = "check.timeout", Warning, plan, Check, "The whole --timeout budget was used; later steps were cut short.", Some("Run it again with a longer --timeout.");
    X224Silent = "x224.silent", Error, -, X224, "The server accepted TCP but never (fully) answered the RDP connection request.", Some("A hung TermService, or a proxy or load balancer that accepts connections without an RDP server behind it.");
    X224Closed = "x224.closed", Error, -, X224, "The server accepted TCP and closed the connection without answering the RDP request.", Some("The RDP service may be overloaded or restricted to some clients (RDP-Tcp listener, firewall with IPS); check the server's event log.");
    X224Garbage = "x224.garbage", Error, -, X224, "The answer to the RDP connection request is not RDP.", Some("Something other than an RDP server listens on this port (a web server, SSH, a proxy); check the port.");
    X224LegacyOnly = "x224.legacy_only", Warning, -, X224, "A Connection Confirm without negotiation data: only legacy Standard RDP Security (no TLS, no NLA).", Some("Enable TLS/NLA on the server (Remote Desktop Session Host security layer: Negotiate or SSL).");
    NegoSslRequired = "nego.ssl_required", Error, -, Nego, "RDP_NEG_FAILURE 1: the server requires TLS (SSL_REQUIRED_BY_SERVER).", Some("Allow TLS on the client (negotiate security layer).");
    NegoSslNotAllowed = "nego.ssl_not_allowed", Error, -, Nego, "The server allows only Standard RDP Security: RDP_NEG_FAILURE 2 (SSL_NOT_ALLOWED_BY_SERVER), or a warning when only the RDP-only request was accepted.", Some("Set the server's security layer to Negotiate or SSL (TLS).");
    NegoSslCertNotOnServer = "nego.ssl_cert_not_on_server", Error, -, Nego, "RDP_NEG_FAILURE 3: the server has no usable TLS certificate (SSL_CERT_NOT_ON_SERVER).", Some("On the server: check the RDP certificate (the \"Remote Desktop\" store, or the listener's SSLCertificateSHA1Hash) and the private key's permissions in MachineKeys; then restart TermService.");
    NegoInconsistentFlags = "nego.inconsistent_flags", Error, -, Nego, "RDP_NEG_FAILURE 4: the server says the requested protocols are inconsistent (INCONSISTENT_FLAGS).", Some("Update the client; this happens with the Direct Approach only.");
    NegoHybridRequired = "nego.hybrid_required", Error, plan, Nego, "The server requires NLA: RDP_NEG_FAILURE 5 (HYBRID_REQUIRED_BY_SERVER); info when NLA is allowed, error when the profile has nla=off.", Some("Turn NLA on for this profile (nla=auto or on).");
    NegoSslWithUserAuthRequired = "nego.ssl_with_user_auth_required", Error, -, Nego, "RDP_NEG_FAILURE 6: the server requires TLS with client certificate authentication (SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER).", Some("Use a client that supports certificate-based client authentication (smart card).");
    NegoEntraAuthRequired = "nego.entra_auth_required", Error, -, Nego, "RDP_NEG_FAILURE 7: the server requires Microsoft Entra ID authentication (ENTRA_AUTH_REQUIRED_BY_SERVER).", Some("Connect with Entra ID authentication (enablerdsaadauth:i:1) from mstsc or the Windows App.");
    NegoUnknownFailure = "nego.unknown_failure", Error, -, Nego, "The server refused the negotiation with an unknown RDP_NEG_FAILURE code.", Some("Check the server's event log.");
    NegoUnexpectedSelection = "nego.unexpected_selection", Error, -, Nego, "The server selected a security protocol that was not requested (or two, or an unknown one), which MS-RDPBCGR forbids; nothing is built on its answer.", Some("A broken or hostile server, or a proxy that rewrites the negotiation: connect to the server directly and check its RDP listener (or what sits in front of it).");
    NegoNlaUnavailable = "nego.nla_unavailable", Warning, plan, Nego, "The server offers no NLA (CredSSP) (error when the profile has nla=on).", Some("On the server: System Properties > Remote > \"Allow connections only from computers running Remote Desktop with Network Level Authentication\".");
    TlsHandshakeFailed = "tls.handshake_failed", Error, -, Tls, "The TLS handshake with the server failed or did not finish in time.", Some("Check the server's certificate configuration and its event log (Schannel errors).");
    TlsLegacyVersion = "tls.legacy_version", Error, -, Tls, "The server speaks only TLS 1.0 or 1.1, and the profile does not allow that (tls.legacy=deny, the default).", Some("Enable TLS 1.2 on the server (Windows Server 2008 R2/2012 need KB3080079 and the TLS 1.2 registry keys); until then `rdpl profile set NAME tls.legacy=allow` lets FreeRDP and mstsc connect with TLS 1.0/1.1.");
    TlsLegacyOnly = "tls.legacy_only", Warning, plan, Tls, "The server speaks only TLS 1.0 or 1.1 and the profile allows it (tls.legacy=allow): the client is told to accept the old version (FreeRDP: /tls:seclevel:0 /tls:enforce:1.0); rdpl's own session can't.", Some("Enable TLS 1.2 on the server (Windows Server 2008 R2/2012 need KB3080079 and the TLS 1.2 registry keys), then set tls.legacy=deny again.");
    CertMissing = "cert.missing", Error, -, Cert, "The server sent no certificate.", None;
    CertUnparsable = "cert.unparsable", Error, -, Cert, "The server's certificate can't be parsed.", None;
    CertExpired = "cert.expired", Error, plan, Cert, "The server's certificate expired.", Some("On the server: delete the expired certificate from the \"Remote Desktop\" certificate store (certlm.msc) and restart the Remote Desktop Services service (TermService); Windows creates a new self-signed one. Deployments with their own certificate must renew it.");
    CertNotYetValid = "cert.not_yet_valid", Error, plan, Cert, "The server's certificate is not valid yet.", Some("Check the clocks of this computer and the server; then the certificate's dates.");
    CertExpiringSoon = "cert.expiring_soon", Warning, -, Cert, "The server's certificate expires within 14 days.", Some("Renew it before it expires, or connections will be refused or warned about.");
    CertSelfSigned = "cert.self_signed", Warning, -, Cert, "The server's certificate is self-signed (info when the pin matches).", Some("Compare its SHA-256 fingerprint with the server's, then `rdpl pin accept TARGET`; or give the server a certificate from a CA this computer trusts.");
    CertUntrusted = "cert.untrusted", Warning, -, Cert, "The server's certificate chain is not trusted by this computer (info when the pin matches).", Some("Install the issuing CA in the trusted root store, or pin this certificate with `rdpl pin accept`.");
    CertNameMismatch = "cert.name_mismatch", Warning, -, Cert, "The server's certificate is for another name than the one used (info when the pin matches).", Some("Connect with the name the certificate is for, or reissue the certificate with this name.");
    CertNoServerAuth = "cert.no_server_auth", Warning, -, Cert, "The certificate's extended key usage does not allow TLS server authentication.", Some("Reissue it with the Server Authentication EKU (1.3.6.1.5.5.7.3.1).");
    CertWeakKey = "cert.weak_key", Warning, -, Cert, "The certificate's key is weak (RSA below 2048 bits, EC below 256).", Some("Reissue it with an RSA key of at least 2048 bits or an EC key of at least 256 bits.");
    CertWeakSignature = "cert.weak_signature", Warning, -, Cert, "The certificate is signed with a broken hash (MD5 or SHA-1).", Some("Reissue it signed with SHA-256 or better.");
    CertPinNew = "cert.pin_new", Info, -, Cert, "The first time rdpl sees this certificate for this host.", Some("`rdpl pin accept TARGET` pins it; later changes will then be reported.");
    CertPinChanged = "cert.pin_changed", Error, plan, Cert, "The certificate changed since it was pinned.", Some("If the server's certificate was renewed on purpose, check the new fingerprint with its admin and run `rdpl pin accept TARGET`. Otherwise someone may be intercepting the connection.");
    GatewayDns = "gateway.dns", Error, -, Gateway, "The RD Gateway's name does not resolve.", Some("Check the gateway name in the profile (`rdpl profile set NAME gateway=HOST`) and this computer's DNS.");
    GatewayUnreachable = "gateway.unreachable", Error, -, Gateway, "The RD Gateway does not accept TCP connections.", Some("Check that the gateway is up and that port 443 (TCP) is open to it from this network.");
    GatewayTlsHandshakeFailed = "gateway.tls.handshake_failed", Error, -, Gateway, "The TLS handshake with the RD Gateway failed or did not finish in time.", Some("Check the server's certificate configuration and its event log (Schannel errors).");
    GatewayTlsLegacyVersion = "gateway.tls.legacy_version", Error, -, Gateway, "The RD Gateway speaks only TLS 1.0 or 1.1.", Some("Enable TLS 1.2 on the server (Windows Server 2008 R2/2012 need KB3080079 and the TLS 1.2 registry keys).");
    GatewayCertMissing = "gateway.cert.missing", Error, -, Gateway, "The RD Gateway sent no certificate.", None;
    GatewayCertUnparsable = "gateway.cert.unparsable", Error, -, Gateway, "The RD Gateway's certificate can't be parsed.", None;
    GatewayCertExpired = "gateway.cert.expired", Error, -, Gateway, "The RD Gateway's certificate expired.", Some("Renew the RD Gateway's certificate (RD Gateway Manager > Properties > SSL Certificate).");
    GatewayCertNotYetValid = "gateway.cert.not_yet_valid", Error, -, Gateway, "The RD Gateway's certificate is not valid yet.", Some("Check the clocks of this computer and the server; then the certificate's dates.");
    GatewayCertExpiringSoon = "gateway.cert.expiring_soon", Warning, -, Gateway, "The RD Gateway's certificate expires within 14 days.", Some("Renew it before it expires, or connections will be refused or warned about.");
    GatewayCertSelfSigned = "gateway.cert.self_signed", Warning, -, Gateway, "The RD Gateway's certificate is self-signed.", Some("Compare its SHA-256 fingerprint with the server's, then `rdpl pin accept TARGET`; or give the server a certificate from a CA this computer trusts.");
    GatewayCertUntrusted = "gateway.cert.untrusted", Warning, -, Gateway, "The RD Gateway's certificate chain is not trusted by this computer.", Some("Install the issuing CA in the trusted root store, or pin this certificate with `rdpl pin accept`.");
    GatewayCertNameMismatch = "gateway.cert.name_mismatch", Warning, -, Gateway, "The RD Gateway's certificate is for another name than the gateway's.", Some("Connect with the name the certificate is for, or reissue the certificate with this name.");
    GatewayCertNoServerAuth = "gateway.cert.no_server_auth", Warning, -, Gateway, "The RD Gateway certificate's extended key usage does not allow TLS server authentication.", Some("Reissue it with the Server Authentication EKU (1.3.6.1.5.5.7.3.1).");
    GatewayCertWeakKey = "gateway.cert.weak_key", Warning, -, Gateway, "The RD Gateway certificate's key is weak.", Some("Reissue it with an RSA key of at least 2048 bits or an EC key of at least 256 bits.");
    GatewayCertWeakSignature = "gateway.cert.weak_signature", Warning, -, Gateway, "The RD Gateway certificate is signed with a broken hash (MD5 or SHA-1).", Some("Reissue it signed with SHA-256 or better.");
    GatewayNotRdg = "gateway.not_rdg", Error, -, Gateway, "The gateway answers HTTPS but is not an HTTP RD Gateway.", Some("Check the gateway name; an RD Gateway answers RDG_OUT_DATA /remoteDesktopGateway/ with 401. Older gateways that only speak RPC over HTTP need mstsc's RPC transport.");
    GatewayRejected = "gateway.rejected", Error, -, Gateway, "The gateway gave no HTTP answer to the RD Gateway request: it closed the connection, stayed silent or answered something that is not HTTP.", Some("A reverse proxy or WAF in front of the gateway may block RDG_OUT_DATA or WebSocket upgrades; allow them.");
    GatewayAuthFailed = "gateway.auth_failed", Error, -, Gateway, "(--login through a gateway) the RD Gateway rejected the gateway credentials (HTTP 401).", Some("check the gateway user and password (`rdpl profile set NAME gateway.user=...`)");
    GatewayDenied = "gateway.denied", Error, -, Gateway, "(--login through a gateway) the RD Gateway forbids this connection: HTTP 403 or an E_PROXY_* access-denied code.", None;
    GatewayRefused = "gateway.refused", Error, -, Gateway, "(--login through a gateway) the RD Gateway refused with another E_PROXY_* code.", None;
    GatewayHttp = "gateway.http", Error, -, Gateway, "(--login through a gateway) the RD Gateway answered an unexpected HTTP status.", None;
    GatewayFailed = "gateway.failed", Error, -, Gateway, "(--login through a gateway) the RD Gateway tunnel failed otherwise.", None;
    CredsCommandFailed = "creds.command_failed", Error, -, Creds, "The profile's password.command (a vault) gave no password: it failed, timed out or printed nothing; its stderr is in the message, never its output.", Some("Run the command by hand (unlock the vault, check the entry's name), or change it: `rdpl profile set NAME password.command=...`");
    CredsRejected = "creds.rejected", Error, -, Creds, "(doctor --login) the password saved in the keyring was rejected by the server.", Some("`rdpl creds set TARGET` with the current password");
    AuthFailed = "auth.failed", Error, -, Auth, "(--login) the server rejected the credentials: an NTSTATUS in CredSSP, or a hang-up during CredSSP as FreeRDP does for a wrong password or an unknown user.", Some("check the user name, domain and password; save the right one with `rdpl creds set TARGET`");
    AuthPasswordExpired = "auth.password_expired", Error, -, Auth, "(--login) the password has expired (STATUS_PASSWORD_EXPIRED).", Some("change the password (another machine, or the server's console), then `rdpl creds set TARGET`");
    AuthPasswordMustChange = "auth.password_must_change", Error, -, Auth, "(--login) the password must be changed at the next logon (STATUS_PASSWORD_MUST_CHANGE).", Some("change it elsewhere first, or connect once with NLA off if the server allows it");
    AuthAccountLocked = "auth.account_locked", Error, -, Auth, "(--login) the account is locked out (STATUS_ACCOUNT_LOCKED_OUT).", Some("wait for the lockout to end or ask an administrator to unlock it; stale saved passwords are a common cause: `rdpl creds clear TARGET --mstsc`");
    AuthAccountDisabled = "auth.account_disabled", Error, -, Auth, "(--login) the account is disabled (STATUS_ACCOUNT_DISABLED).", Some("server-side: enable the account");
    AuthAccountExpired = "auth.account_expired", Error, -, Auth, "(--login) the account has expired (STATUS_ACCOUNT_EXPIRED).", Some("server-side: extend the account's expiry");
    AuthAccountRestriction = "auth.account_restriction", Error, -, Auth, "(--login) an account restriction prevents this logon (STATUS_ACCOUNT_RESTRICTION).", Some("server-side: check the account's restrictions");
    AuthLogonHours = "auth.logon_hours", Error, -, Auth, "(--login) the account may not log on at this time (STATUS_INVALID_LOGON_HOURS).", Some("server-side: check the account's logon hours");
    AuthAccessDenied = "auth.access_denied", Error, -, Auth, "(--login) the credentials are right but the user may not log on remotely (early user authorization, STATUS_LOGON_TYPE_NOT_GRANTED, ERRINFO 9/10).", Some("server-side: add the user to \"Remote Desktop Users\" or grant \"Allow log on through Remote Desktop Services\"");
    AuthNotVerified = "auth.not_verified", Warning, -, Auth, "(--login) the session came up without NLA, so the handshake checked no credentials.", Some("turn on NLA on the server (\"Allow connections only from computers running Remote Desktop with Network Level Authentication\") to have credentials checked before a session starts");
    LoginCertRejected = "login.cert_rejected", Error, -, Login, "(--login) the TLS handshake met a certificate other than the one pre-flight assessed; nothing was sent.", Some("run `rdpl check TARGET` to see the certificate, then `rdpl pin accept TARGET` if it is right");
    LoginNegotiation = "login.negotiation", Error, -, Login, "(--login) the server refused the security protocol of the session.", Some("`rdpl doctor TARGET` shows which protocol the server wants; `rdpl profile set NAME nla=auto`");
    LoginUnreachable = "login.unreachable", Error, -, Login, "(--login) the session could not reach the server.", None;
    LoginTimeout = "login.timeout", Error, -, Login, "(--login) the session stalled at `login.stage`.", Some("a slow or overloaded server: try again with a longer --timeout");
    LoginDisconnected = "login.disconnected", Error, -, Login, "(--login) the server closed the connection at `login.stage`.", Some("`rdpl doctor TARGET` looks for the cause");
    LoginRedirected = "login.redirected", Error, -, Login, "(--login) the server sent the session to another host.", Some("connect with mstsc or xfreerdp, which follow redirections (`--with`)");
    LoginFailed = "login.failed", Error, -, Login, "(--login) the session failed for another reason, at `login.stage`.", None;
    ServerDenied = "server.denied", Error, -, Server, "(--login) the server ended the session with ERRINFO 7 (denied: connection limits, licensing, policy).", None;
    ServerLicensing = "server.licensing", Error, -, Server, "(--login) the server ended the session with a licensing ERRINFO (0x100-0x10B).", None;
    WindowUnavailable = "window.unavailable", Error, -, Window, "(connect --with native) no window could be opened (no display).", Some("run rdpl in a graphical session (DISPLAY or WAYLAND_DISPLAY set), or use `--with xfreerdp`");
    MstscPublisherUntrusted = "mstsc.publisher_untrusted", Warning, -, Mstsc, "(Windows, mstsc) rdpl's .rdp publisher is not in the \"trusted .rdp publishers\" policy (TrustedCertThumbprints): since the April 2026 update mstsc shows a security dialog for each file rdpl hands it and starts it with every redirection off.", Some("`rdpl integrate --trust-publisher` (it prints the command for an administrator when the policy needs one)");
    MstscSignedFilesBlocked = "mstsc.signed_files_blocked", Warning, -, Mstsc, "(Windows, mstsc) the policy \"Allow .rdp files from valid publishers and user's default .rdp settings\" (AllowSignedFiles) is disabled: mstsc refuses the signed files rdpl hands it.", Some("ask the administrator to enable that policy, or connect with `--with native`");
}

impl FindingId {
    /// The id with this wire name.
    pub fn from_wire(s: &str) -> Option<FindingId> {
        FindingId::ALL.iter().copied().find(|id| id.wire() == s)
    }

    /// The markdown table of every id (docs/json.md holds it between its generated-table markers).
    pub fn markdown_table() -> String {
        let mut s = String::from("| id | severity | meaning |\n|---|---|---|\n");
        for id in FindingId::ALL {
            s.push_str(&format!(
                "| `{}` | {} | {} |\n",
                id.wire(),
                id.severity().as_str(),
                id.meaning().replace('|', "\\|")
            ));
        }
        s
    }
}

impl fmt::Display for FindingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.wire())
    }
}

impl Serialize for FindingId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.wire())
    }
}

/// One finding: an id from the catalogue, how serious it is here, a plain-language message about this
/// connection, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The id (serialized as its wire name).
    pub id: FindingId,
    /// How serious it is.
    pub severity: Severity,
    /// What it means for this connection.
    pub message: String,
    /// What to do about it.
    pub fix: Option<String>,
}

impl Finding {
    /// A finding with the catalogue's severity and fix.
    pub fn new(id: FindingId, message: impl Into<String>) -> Finding {
        Finding {
            id,
            severity: id.severity(),
            message: message.into(),
            fix: id.fix().map(str::to_owned),
        }
    }

    /// Another severity than the catalogue's, for this situation.
    pub fn severity(mut self, severity: Severity) -> Finding {
        self.severity = severity;
        self
    }

    /// Another fix than the catalogue's, for this situation.
    pub fn fix(mut self, fix: impl Into<String>) -> Finding {
        self.fix = Some(fix.into());
        self
    }

    /// No fix line here (the catalogue's does not fit this situation).
    pub fn no_fix(mut self) -> Finding {
        self.fix = None;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn wire_names_are_unique_lowercase_and_in_their_family() {
        let mut seen = HashSet::new();
        for id in FindingId::ALL {
            let w = id.wire();
            assert!(seen.insert(w), "{w} twice");
            assert!(
                w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_'),
                "{w}"
            );
            assert_eq!(FindingId::from_wire(w), Some(*id));
            let family = match w.split('.').next() {
                Some("dns") => Family::Dns,
                Some("tcp") => Family::Tcp,
                Some("address") => Family::Address,
                Some("check") => Family::Check,
                Some("x224") => Family::X224,
                Some("nego") => Family::Nego,
                Some("tls") => Family::Tls,
                Some("cert") => Family::Cert,
                Some("gateway") => Family::Gateway,
                Some("creds") => Family::Creds,
                Some("auth") => Family::Auth,
                Some("login") => Family::Login,
                Some("server") => Family::Server,
                Some("window") => Family::Window,
                Some("mstsc") => Family::Mstsc,
                other => panic!("{w}: unknown family {other:?}"),
            };
            assert_eq!(id.family(), family, "{w}");
            assert!(
                id.meaning().ends_with('.') || id.meaning().ends_with(')'),
                "{w}: {}",
                id.meaning()
            );
        }
    }

    #[test]
    fn a_finding_takes_the_catalogue_defaults_and_serializes_the_wire_name() {
        let f = Finding::new(FindingId::CertExpired, "expired");
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(f.fix.as_deref(), FindingId::CertExpired.fix());
        let v = serde_json::to_value(&f).expect("json");
        assert_eq!(v["id"], "cert.expired");
        assert_eq!(v["severity"], "error");
        let f = Finding::new(FindingId::CertSelfSigned, "x")
            .severity(Severity::Info)
            .no_fix();
        assert_eq!((f.severity, f.fix), (Severity::Info, None));
    }

    /// docs/json.md's table of finding ids is generated from the catalogue.
    #[test]
    #[allow(clippy::disallowed_methods)] // the test reads (and, when asked, rewrites) the doc
    fn json_doc_lists_every_finding_id() {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/json.md");
        let doc = std::fs::read_to_string(&path).expect("docs/json.md");
        let (begin, end) = ("<!-- finding-ids:begin -->\n", "<!-- finding-ids:end -->");
        let a = doc.find(begin).expect("begin marker") + begin.len();
        let b = doc.find(end).expect("end marker");
        let table = FindingId::markdown_table();
        if std::env::var_os("RDPL_UPDATE_DOCS").is_some() {
            std::fs::write(&path, format!("{}{table}{}", &doc[..a], &doc[b..])).expect("write docs/json.md");
            return;
        }
        assert!(
            doc[a..b] == table,
            "docs/json.md's finding ids are stale: run RDPL_UPDATE_DOCS=1 cargo test -p rdpl-core --lib json_doc"
        );
    }

    #[test]
    fn verdicts() {
        let f = |id| Finding::new(id, "x");
        assert_eq!(Verdict::of(&[]), Verdict::Ok);
        assert_eq!(Verdict::of(&[f(FindingId::CertPinNew)]), Verdict::Ok);
        assert_eq!(Verdict::of(&[f(FindingId::CertSelfSigned)]), Verdict::Warn);
        assert_eq!(
            Verdict::of(&[f(FindingId::CertSelfSigned), f(FindingId::CertExpired)]),
            Verdict::Blocked
        );
    }
}

//! `plan()`: the one decision function. `(Profile, Facts, Inventory, Overrides) -> Plan`, pure: no I/O, no clock, no
//! environment; everything it needs is in its arguments, so it is table-tested over the situations that
//! matter (tests at the bottom of this file).
//!
//! It decides which address to write, NLA/CredSSP on or off (and the security layer), UDP on or off, whether
//! the certificate allows the connection (pins, expiry, trust), whether a new pin is to be recorded, which
//! saved credentials are stale (over an [`Inventory`] gathered before), which client takes the connection,
//! and what to warn about; and it produces the .rdp document that says so.

use rdpl_profiles::convert;
use rdpl_profiles::name::{Host, TargetAddr};
use rdpl_profiles::profile::{Backend, Link, Profile, Tri};
use rdpl_profiles::rdp::Value;
use rdpl_profiles::rdp::render::{RdpDocument, RenderError};
use serde::Serialize;

use crate::facts::{CertFacts, DnsStatus, Facts, PinState, Source};
use crate::finding::{Family, FindingId, Severity};
use crate::stale::{self, Inventory, Seen, Stale};

/// Explicit, per-run choices: overrides of what would block, and the client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Overrides {
    /// The client (`--with`); `None` or `Auto`: the profile's, else the platform's.
    pub with: Option<Backend>,
    /// Connect although the pinned certificate changed (`--accept-changed-cert`).
    pub changed_pin: bool,
    /// Connect although the certificate expired or is not yet valid (`--accept-expired-cert`).
    pub expired: bool,
    /// Ask before trusting a certificate seen for the first time, i.e. block on a new pin (`--strict-pin`).
    pub strict_pin: bool,
}

/// What rdpl will do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// `full address` to write.
    pub address: String,
    /// Why this address.
    pub address_reason: String,
    /// NLA (CredSSP) on or off.
    pub nla: bool,
    /// Why, when it is not simply the profile's setting.
    pub nla_reason: Option<String>,
    /// The security layer the client is to use.
    pub layer: Layer,
    /// Whether `disableudptransport:i:1` is written.
    pub udp_off: bool,
    /// Why UDP is off, when it is.
    pub udp_reason: Option<String>,
    /// The RD Gateway, `host:port (usage)`, when the profile has one.
    pub gateway: Option<String>,
    /// SHA-256 of the certificate pre-flight saw (lowercase hex), for clients that can pin it.
    pub cert_sha256: Option<String>,
    /// Whether the client must accept TLS 1.0/1.1 (the server speaks nothing newer and the profile allows it).
    pub tls_legacy: bool,
    /// Saved credentials to clear before the handoff.
    pub clear: Vec<Stale>,
    /// The client that takes the connection.
    pub backend: Backend,
    /// Record the certificate as this target's pin before connecting.
    pub record_pin: bool,
    /// Reasons the connection must not be made (empty: go).
    pub blocked: Vec<String>,
    /// What the user should know.
    pub warnings: Vec<String>,
    /// The .rdp properties that say all this.
    #[serde(skip)]
    pub document: RdpDocument,
}

impl Plan {
    /// Whether the connection may go ahead.
    pub fn go(&self) -> bool {
        self.blocked.is_empty()
    }
}

/// The security layer of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// TLS with CredSSP (NLA).
    Nla,
    /// TLS; the user logs on in the session.
    Tls,
    /// Standard RDP Security: no server authentication at all.
    Rdp,
}

/// Decides. Errors only when the profile itself can't be written as .rdp (a control character in a field).
pub fn plan(
    profile: &Profile,
    facts: &Facts,
    inventory: &Inventory,
    o: Overrides,
) -> Result<Plan, RenderError> {
    let mut blocked = Vec::new();
    let mut warnings = Vec::new();

    // Address: the candidate pre-flight connected to. The profile's own name when DNS gave it (mstsc then
    // resolves it again, and the certificate and saved credentials are named after it); the IP otherwise.
    let (address, address_reason) = match (facts.address.chosen, facts.address.via) {
        (Some(chosen), Some(Source::Dns | Source::Literal)) => {
            let a = TargetAddr {
                host: profile.host.clone(),
                port: (profile.port.get() != 3389).then_some(profile.port),
            };
            (a.to_string(), format!("{} answered at {chosen}", profile.host))
        }
        (Some(chosen), Some(via)) => {
            let why = match facts.dns.status {
                DnsStatus::Ok | DnsStatus::Skipped => {
                    format!("{}:{} did not answer", profile.host, profile.port)
                }
                s => format!("{} did not resolve ({s:?})", profile.host).to_lowercase(),
            };
            let label = match via {
                Source::Fallback => "fallback",
                Source::Alternate => "alternate address",
                Source::Cache => "last address that worked",
                _ => "address",
            };
            warnings.push(format!("{why}; connecting to the {label} {chosen} instead"));
            (chosen.to_string(), format!("{why}; {label} {chosen} answered"))
        }
        _ => {
            let reason = facts
                .findings
                .iter()
                .find(|f| f.severity == Severity::Error && matches!(f.id.family(), Family::Tcp | Family::Dns))
                .map_or_else(|| "no address answered".to_owned(), |f| f.message.clone());
            blocked.push(format!("no address answered: {reason}"));
            (profile.target().to_string(), "nothing answered".to_owned())
        }
    };

    // NLA / CredSSP.
    let sec = facts.security.as_ref();
    // Nothing offered = the negotiation never completed (a silent or broken server): unknown, not "no NLA".
    let offers_nla = sec.and_then(|s| s.offers_nla());
    let requires_nla = sec.and_then(|s| s.nla_required) == Some(true);
    let (nla, nla_reason) = match (profile.security.nla, offers_nla) {
        (Tri::Auto, Some(false)) => {
            warnings.push("the server offers no NLA (CredSSP): NLA is turned off for this connection".into());
            (false, Some("the server offers no NLA".to_owned()))
        }
        (Tri::Auto, _) => (true, None),
        (Tri::On, Some(false)) => {
            blocked.push("the profile requires NLA (nla=on) but the server does not offer it".into());
            (true, None)
        }
        (Tri::On, _) => (true, None),
        (Tri::Off, _) if requires_nla => {
            blocked
                .push("the server requires NLA but the profile turns it off (nla=off); set nla=auto".into());
            (false, None)
        }
        (Tri::Off, _) => (false, Some("the profile turns NLA off (nla=off)".to_owned())),
    };

    // The layer: NLA, else TLS when the server offers it (or pre-flight could not tell), else Standard RDP
    // Security, which authenticates nobody.
    let only_rdp = sec.is_some_and(|s| s.only_rdp());
    let layer = if nla {
        Layer::Nla
    } else if only_rdp {
        warnings.push(
            "the server offers only Standard RDP Security: the connection is encrypted, but the server's identity \
             can't be checked; configure TLS on the server (security layer: SSL)"
                .into(),
        );
        Layer::Rdp
    } else {
        Layer::Tls
    };

    // UDP: off when the profile says so, or on a VPN or flaky link unless the profile insists.
    let (udp_off, udp_reason) = match (profile.security.udp, profile.security.link) {
        (Tri::Off, _) => (true, Some("the profile turns UDP off (udp=off)".to_owned())),
        (Tri::Auto, l @ (Link::Vpn | Link::Flaky)) => (
            true,
            Some(format!(
                "the link is marked {l} (link={l}); RDP over TCP only is steadier there"
            )),
        ),
        _ => (false, None),
    };

    // Certificate.
    let mut record_pin = false;
    if let Some(c) = &facts.certificate {
        judge_certificate(profile, facts, c, o, &mut blocked, &mut warnings, &mut record_pin);
    }

    // Everything else the pre-flight found blocking.
    for f in &facts.findings {
        if f.severity == Severity::Error && !f.id.handled_by_plan() {
            blocked.push(format!("{}: {}", f.id, f.message));
        }
    }

    // Stale credentials, over every spelling of this host.
    let observed: Vec<String> = (facts.dns.addresses.iter().map(ToString::to_string))
        .chain(facts.address.chosen.map(|a| a.to_string()))
        .collect();
    let spellings = Seen::spellings(profile, observed.iter().map(String::as_str));
    let seen = Seen {
        spellings,
        cert_sha1: facts
            .certificate
            .as_ref()
            .map(|c| c.sha1.clone())
            .filter(|s| !s.is_empty()),
    };
    let clear = stale::find(profile, &seen, inventory);

    let backend = choose(o.with, profile);

    // TLS 1.0/1.1 only, allowed by the profile: the handoff clients can be told to accept it; rdpl's own
    // session (rustls) cannot speak it.
    let tls_legacy = facts.findings.iter().any(|f| f.id == FindingId::TlsLegacyOnly);
    if tls_legacy {
        if backend == Backend::Native {
            blocked.push(
                "tls.legacy_only: the server speaks only TLS 1.0/1.1, which rdpl's own session can't; use --with \
                 xfreerdp or mstsc"
                    .into(),
            );
        } else {
            warnings.push(
                "the server speaks only TLS 1.0/1.1 (allowed by tls.legacy=allow): the client accepts it for this \
                 connection; the certificate was not checked by rdpl"
                    .into(),
            );
        }
    }

    let mut document = convert::to_document(profile)?;
    document.set("full address", Value::Str(address.clone()))?;
    document.set("enablecredsspsupport", Value::Int(i64::from(nla)))?;
    // 2: warn when the server can't be authenticated (rdpl checked and pinned it already); 0 for Standard RDP
    // Security, where there is nothing to authenticate and mstsc would otherwise refuse.
    document.set(
        "authentication level",
        Value::Int(if layer == Layer::Rdp { 0 } else { 2 }),
    )?;
    document.set("negotiate security layer", Value::Int(1))?;
    if udp_off {
        document.set("disableudptransport", Value::Int(1))?;
    }
    let gateway = profile
        .gateway
        .as_ref()
        .map(|g| format!("{}:{} ({})", g.host, g.port, g.usage));
    Ok(Plan {
        address,
        address_reason,
        nla,
        nla_reason,
        layer,
        udp_off,
        udp_reason,
        gateway,
        cert_sha256: facts.certificate.as_ref().map(|c| c.sha256.clone()),
        tls_legacy,
        clear,
        backend,
        record_pin,
        blocked,
        warnings,
        document,
    })
}

/// The client that takes the connection: `--with`, else the profile's, else the platform's.
pub fn choose(with: Option<Backend>, profile: &Profile) -> Backend {
    match with.unwrap_or(profile.backend) {
        Backend::Auto => platform_default(),
        b => b,
    }
}

/// The platform's client: mstsc on Windows, the Windows App on macOS, xfreerdp elsewhere.
pub fn platform_default() -> Backend {
    if cfg!(windows) {
        Backend::Mstsc
    } else if cfg!(target_os = "macos") {
        Backend::Macos
    } else {
        Backend::Xfreerdp
    }
}

fn judge_certificate(
    profile: &Profile,
    facts: &Facts,
    c: &CertFacts,
    o: Overrides,
    blocked: &mut Vec<String>,
    warnings: &mut Vec<String>,
    record_pin: &mut bool,
) {
    match c.pin {
        PinState::Changed if o.changed_pin => {
            warnings.push("the certificate changed since it was pinned; connecting anyway (explicit override)".into())
        }
        PinState::Changed => blocked.push(format!(
            "the certificate changed since it was pinned (now SHA-256 {}); check it, then `rdpl pin accept {}`, or pass --accept-changed-cert for this run",
            c.sha256, profile.name
        )),
        PinState::New if o.strict_pin => blocked.push(format!(
            "first connection: the certificate (SHA-256 {}) is not pinned yet and --strict-pin asks first; `rdpl pin accept {}` pins it",
            c.sha256, profile.name
        )),
        PinState::New => {
            *record_pin = true;
            if !c.trusted {
                warnings.push(format!(
                    "first connection: trusting and pinning this certificate (SHA-256 {}, {})",
                    c.sha256, c.subject
                ));
            }
        }
        _ => {}
    }
    if c.expired || c.not_yet_valid {
        let what = if c.expired {
            format!("expired on {}", c.not_after)
        } else {
            format!("is not valid before {}", c.not_before)
        };
        if o.expired {
            warnings.push(format!(
                "the certificate {what}; connecting anyway (explicit override)"
            ));
        } else {
            blocked.push(format!(
                "the certificate {what}; pass --accept-expired-cert to connect anyway for this run"
            ));
        }
    }
    if !c.name_matches {
        let by_ip = facts.address.chosen.is_some() && !matches!(facts.address.via, Some(Source::Dns))
            || matches!(profile.host, Host::Ip(_));
        let names = if c.sans.is_empty() {
            c.subject.clone()
        } else {
            c.sans.join(", ")
        };
        if by_ip && c.pin == PinState::Match {
            warnings.push(format!(
                "the certificate is for {names}, not for the IP address used; it is the pinned certificate, so this is the same server"
            ));
        } else {
            warnings.push(format!(
                "the certificate is for {names}, not for {}",
                profile.host
            ));
        }
    }
}

#[cfg(test)]
// The table test takes one argument per column of its table.
#[allow(clippy::too_many_arguments)]
mod tests {
    use super::*;
    use crate::facts::{
        AddressFacts, Candidate, CandidateAddr, DnsFacts, DnsStatus, Outcome, Protocols, SecurityFacts,
    };
    use crate::finding::{Finding, FindingId};
    use rstest::rstest;
    use std::time::Duration;

    fn profile(nla: Tri) -> Profile {
        let mut p = Profile::new(
            "web01".parse().expect("name"),
            Host::Name("web01.corp.test".into()),
        );
        p.security.nla = nla;
        p.fallbacks = vec!["10.0.0.5".parse().expect("addr")];
        p
    }

    fn cert(pin: PinState) -> CertFacts {
        CertFacts {
            subject: "CN=web01.corp.test".into(),
            issuer: "CN=web01.corp.test".into(),
            sans: vec!["DNS:web01.corp.test".into()],
            sha256: "ab".repeat(32),
            self_signed: true,
            name_matches: true,
            pin,
            not_after: "2027-01-01T00:00:00Z".into(),
            ..CertFacts::default()
        }
    }

    /// Facts: connected via `via` (None = nothing answered), offering `offered`, with `cert`.
    pub(super) fn report(
        via: Option<Source>,
        offered: &[Protocols],
        nla_required: bool,
        cert: Option<CertFacts>,
    ) -> Facts {
        let chosen = via.map(|v| {
            if v == Source::Dns {
                "10.0.0.9:3389".parse().expect("addr")
            } else {
                "10.0.0.5:3389".parse().expect("addr")
            }
        });
        Facts {
            target: "web01".into(),
            address: AddressFacts {
                chosen,
                via,
                candidates: vec![Candidate {
                    address: CandidateAddr::Ip("10.0.0.9:3389".parse().expect("addr")),
                    source: Source::Dns,
                    result: if via == Some(Source::Dns) {
                        Outcome::Connected
                    } else {
                        Outcome::Timeout
                    },
                    took: Some(Duration::from_millis(1)),
                    started: Some(Duration::ZERO),
                    error: None,
                }],
            },
            dns: DnsFacts {
                name: "web01.corp.test".into(),
                status: if via == Some(Source::Fallback) {
                    DnsStatus::Nxdomain
                } else {
                    DnsStatus::Ok
                },
                addresses: vec![],
                unusable: vec![],
                error: None,
                took: Some(Duration::from_millis(1)),
            },
            security: via.map(|_| SecurityFacts {
                offered: offered.iter().fold(Protocols::empty(), |a, p| a | *p),
                selected: offered.first().copied(),
                nla_required: Some(nla_required),
                failure: None,
                took: Some(Duration::from_millis(1)),
            }),
            tls: None,
            certificate: cert,
            gateway: None,
            login: None,
            findings: if via.is_none() {
                vec![Finding::new(
                    FindingId::TcpTimeout,
                    "10.0.0.9:3389 did not answer",
                )]
            } else {
                vec![]
            },
            took: Duration::from_millis(10),
        }
    }

    #[rstest]
    // Address
    #[case::dns_answer_keeps_the_name(Tri::Auto, Some(Source::Dns), &[Protocols::SSL, Protocols::HYBRID], false, Some(PinState::Match), "web01.corp.test", true, false, 0)]
    #[case::dead_name_falls_back_to_the_ip(Tri::Auto, Some(Source::Fallback), &[Protocols::SSL, Protocols::HYBRID], false, Some(PinState::Match), "10.0.0.5:3389", true, false, 1)]
    #[case::nothing_answers(Tri::Auto, None, &[], false, None, "web01.corp.test:3389", true, true, 0)]
    // NLA
    #[case::auto_keeps_nla_when_offered(Tri::Auto, Some(Source::Dns), &[Protocols::HYBRID], true, Some(PinState::Match), "web01.corp.test", true, false, 0)]
    #[case::auto_turns_nla_off_when_not_offered(Tri::Auto, Some(Source::Dns), &[Protocols::SSL, Protocols::RDP], false, Some(PinState::Match), "web01.corp.test", false, false, 1)]
    #[case::on_blocks_a_server_without_nla(Tri::On, Some(Source::Dns), &[Protocols::SSL], false, Some(PinState::Match), "web01.corp.test", true, true, 0)]
    #[case::off_blocks_a_server_that_requires_nla(Tri::Off, Some(Source::Dns), &[Protocols::HYBRID], true, Some(PinState::Match), "web01.corp.test", false, true, 0)]
    #[case::off_is_respected_when_allowed(Tri::Off, Some(Source::Dns), &[Protocols::SSL, Protocols::HYBRID], false, Some(PinState::Match), "web01.corp.test", false, false, 0)]
    // Certificate
    #[case::new_pin_proceeds_and_records(Tri::Auto, Some(Source::Dns), &[Protocols::HYBRID], true, Some(PinState::New), "web01.corp.test", true, false, 1)]
    #[case::changed_pin_blocks(Tri::Auto, Some(Source::Dns), &[Protocols::HYBRID], true, Some(PinState::Changed), "web01.corp.test", true, true, 0)]
    fn decides(
        #[case] nla: Tri,
        #[case] via: Option<Source>,
        #[case] offered: &[Protocols],
        #[case] nla_required: bool,
        #[case] pin: Option<PinState>,
        #[case] address: &str,
        #[case] want_nla: bool,
        #[case] want_blocked: bool,
        #[case] want_warnings: usize,
    ) {
        let p = plan(
            &profile(nla),
            &report(via, offered, nla_required, pin.map(cert)),
            &Inventory::default(),
            Overrides::default(),
        )
        .expect("plans");
        assert_eq!(p.address, address);
        assert_eq!(p.nla, want_nla, "{p:?}");
        assert_eq!(!p.go(), want_blocked, "{p:?}");
        assert_eq!(p.warnings.len(), want_warnings, "{:?}", p.warnings);
        assert_eq!(
            p.document.get("full address"),
            Some(&Value::Str(address.to_owned()))
        );
        assert_eq!(
            p.document.get("enablecredsspsupport"),
            Some(&Value::Int(i64::from(want_nla)))
        );
        assert_eq!(p.record_pin, pin == Some(PinState::New));
    }

    #[test]
    fn expired_certificates_block_unless_overridden() {
        let mut c = cert(PinState::Match);
        c.expired = true;
        let r = report(Some(Source::Dns), &[Protocols::HYBRID], true, Some(c));
        let p = plan(
            &profile(Tri::Auto),
            &r,
            &Inventory::default(),
            Overrides::default(),
        )
        .expect("plans");
        assert!(p.blocked.iter().any(|b| b.contains("expired")), "{:?}", p.blocked);
        let p = plan(
            &profile(Tri::Auto),
            &r,
            &Inventory::default(),
            Overrides {
                expired: true,
                ..Overrides::default()
            },
        )
        .expect("plans");
        assert!(p.go() && p.warnings.iter().any(|w| w.contains("explicit override")));
    }

    #[test]
    fn changed_pin_can_be_overridden_and_strict_pin_blocks_new_ones() {
        let r = report(
            Some(Source::Dns),
            &[Protocols::HYBRID],
            true,
            Some(cert(PinState::Changed)),
        );
        assert!(
            plan(
                &profile(Tri::Auto),
                &r,
                &Inventory::default(),
                Overrides {
                    changed_pin: true,
                    ..Overrides::default()
                }
            )
            .expect("plans")
            .go()
        );
        let r = report(
            Some(Source::Dns),
            &[Protocols::HYBRID],
            true,
            Some(cert(PinState::New)),
        );
        let p = plan(
            &profile(Tri::Auto),
            &r,
            &Inventory::default(),
            Overrides {
                strict_pin: true,
                ..Overrides::default()
            },
        )
        .expect("plans");
        assert!(!p.go() && !p.record_pin);
    }

    #[test]
    fn a_name_mismatch_from_connecting_by_ip_is_explained_when_the_pin_matches() {
        let mut c = cert(PinState::Match);
        c.name_matches = false;
        let r = report(Some(Source::Fallback), &[Protocols::HYBRID], true, Some(c));
        let p = plan(
            &profile(Tri::Auto),
            &r,
            &Inventory::default(),
            Overrides::default(),
        )
        .expect("plans");
        assert!(p.go());
        assert!(
            p.warnings.iter().any(|w| w.contains("same server")),
            "{:?}",
            p.warnings
        );
    }

    #[test]
    fn udp_off_is_written() {
        let mut pr = profile(Tri::Auto);
        pr.security.udp = Tri::Off;
        let p = plan(
            &pr,
            &report(
                Some(Source::Dns),
                &[Protocols::HYBRID],
                true,
                Some(cert(PinState::Match)),
            ),
            &Inventory::default(),
            Overrides::default(),
        )
        .expect("plans");
        assert!(p.udp_off);
        assert_eq!(p.document.get("disableudptransport"), Some(&Value::Int(1)));
    }

    #[test]
    fn other_blocking_findings_block() {
        let mut r = report(
            Some(Source::Dns),
            &[Protocols::HYBRID],
            true,
            Some(cert(PinState::Match)),
        );
        r.findings
            .push(Finding::new(FindingId::TlsLegacyVersion, "TLS 1.0 only"));
        let p = plan(
            &profile(Tri::Auto),
            &r,
            &Inventory::default(),
            Overrides::default(),
        )
        .expect("plans");
        assert_eq!(p.blocked, vec!["tls.legacy_version: TLS 1.0 only".to_owned()]);
    }
}

#[cfg(test)]
mod more_tests {
    use super::*;
    use crate::facts::Protocols as P;
    use crate::stale::{StaleItem, TermsrvCred, TermsrvKind};
    use rdpl_profiles::creds::{CredKey, CredRecord, StoreKind};
    use rdpl_profiles::profile::{Gateway, GatewayUsage};
    use rstest::rstest;

    fn profile() -> Profile {
        let mut p = Profile::new(
            "web01".parse().expect("name"),
            Host::Name("web01.corp.test".into()),
        );
        p.user = Some("alice".into());
        p
    }

    /// Reached by DNS (10.0.0.9), which also answered that address; `offered` security protocols.
    fn report(offered: &[P]) -> Facts {
        let mut r = super::tests::report(Some(Source::Dns), offered, false, None);
        r.dns.addresses = vec!["10.0.0.9".parse().expect("ip")];
        r
    }

    #[rstest]
    #[case::nla(Tri::Auto, &[P::SSL, P::HYBRID], Layer::Nla, 2)]
    #[case::tls_when_no_nla(Tri::Auto, &[P::SSL, P::RDP], Layer::Tls, 2)]
    #[case::tls_when_nla_off(Tri::Off, &[P::SSL, P::HYBRID], Layer::Tls, 2)]
    #[case::standard_rdp_security_only(Tri::Auto, &[P::RDP], Layer::Rdp, 0)]
    fn security_layer_and_authentication_level(
        #[case] nla: Tri,
        #[case] offered: &[P],
        #[case] layer: Layer,
        #[case] auth_level: i64,
    ) {
        let mut p = profile();
        p.security.nla = nla;
        let plan = plan(&p, &report(offered), &Inventory::default(), Overrides::default()).expect("plans");
        assert_eq!(plan.layer, layer);
        assert_eq!(
            plan.document.get("authentication level"),
            Some(&Value::Int(auth_level))
        );
        assert_eq!(
            plan.document.get("negotiate security layer"),
            Some(&Value::Int(1))
        );
        assert_eq!(
            plan.warnings.iter().any(|w| w.contains("Standard RDP Security")),
            layer == Layer::Rdp
        );
    }

    #[rstest]
    #[case::auto_normal(Tri::Auto, Link::Normal, false)]
    #[case::auto_vpn(Tri::Auto, Link::Vpn, true)]
    #[case::auto_flaky(Tri::Auto, Link::Flaky, true)]
    #[case::on_wins_over_a_vpn(Tri::On, Link::Vpn, false)]
    #[case::off(Tri::Off, Link::Normal, true)]
    fn udp_decision(#[case] udp: Tri, #[case] link: Link, #[case] off: bool) {
        let mut p = profile();
        p.security.udp = udp;
        p.security.link = link;
        let plan = plan(
            &p,
            &report(&[P::HYBRID]),
            &Inventory::default(),
            Overrides::default(),
        )
        .expect("plans");
        assert_eq!(plan.udp_off, off);
        assert_eq!(plan.udp_reason.is_some(), off);
        assert_eq!(
            plan.document.get("disableudptransport"),
            off.then_some(&Value::Int(1))
        );
    }

    #[test]
    fn gateway_properties_are_written() {
        let mut p = profile();
        p.gateway = Some(Gateway {
            usage: GatewayUsage::Detect,
            ..Gateway::new(
                Host::Name("gw.corp.test".into()),
                rdpl_profiles::name::Port::HTTPS,
            )
        });
        let plan = plan(
            &p,
            &report(&[P::HYBRID]),
            &Inventory::default(),
            Overrides::default(),
        )
        .expect("plans");
        assert_eq!(plan.gateway.as_deref(), Some("gw.corp.test:443 (detect)"));
        for (k, v) in [
            ("gatewayhostname", Value::Str("gw.corp.test".into())),
            ("gatewayusagemethod", Value::Int(2)),
            ("gatewayprofileusagemethod", Value::Int(1)),
            ("gatewaycredentialssource", Value::Int(4)),
        ] {
            assert_eq!(plan.document.get(k), Some(&v), "{k}");
        }
    }

    #[rstest]
    #[case::flag_wins(Some(Backend::Macos), Backend::Native, Backend::Macos)]
    #[case::profile_next(None, Backend::Mstsc, Backend::Mstsc)]
    #[case::platform_last(None, Backend::Auto, platform_default())]
    fn backend_choice(#[case] with: Option<Backend>, #[case] profile_choice: Backend, #[case] want: Backend) {
        let mut p = profile();
        p.backend = profile_choice;
        let o = Overrides {
            with,
            ..Overrides::default()
        };
        let plan = plan(&p, &report(&[P::HYBRID]), &Inventory::default(), o).expect("plans");
        assert_eq!(plan.backend, want);
    }

    #[test]
    fn stale_credentials_over_every_spelling_are_in_the_plan() {
        let inv = Inventory {
            rdpl: vec![CredRecord {
                key: CredKey::new("web01.corp.test", "bob", None),
                profile: Some("web01".into()),
                store: StoreKind::Keyutils,
                saved: "2026-11-01T00:00:00Z".into(),
                failed: None,
                failed_reason: None,
            }],
            termsrv: vec![TermsrvCred {
                target: "TERMSRV/10.0.0.9".into(),
                kind: TermsrvKind::Generic,
                user: Some("bob".into()),
            }],
            mstsc_servers: vec![],
        };
        let plan = plan(&profile(), &report(&[P::HYBRID]), &inv, Overrides::default()).expect("plans");
        let items: Vec<&StaleItem> = plan.clear.iter().map(|s| &s.item).collect();
        assert_eq!(
            items,
            vec![
                &StaleItem::Rdpl {
                    key: CredKey::new("web01.corp.test", "bob", None)
                },
                &StaleItem::Termsrv {
                    target: "TERMSRV/10.0.0.9".into(),
                    cred_type: TermsrvKind::Generic
                },
            ],
            "the DNS answer 10.0.0.9 is a spelling of this host"
        );
    }
}

//! Which saved credentials are stale for a connection: a pure function over an [`Inventory`] of what the
//! keyring and (on Windows) mstsc hold, the profile, and what the pre-flight saw.
//!
//! Stale means:
//! - an rdpl entry of this profile for a host spelling, user or domain the profile no longer uses;
//! - any entry of this profile a server rejected (marked failed);
//! - an mstsc `TERMSRV/<spelling>` credential for a spelling of this host (name, FQDN, IP) whose account is
//!   not the profile's, or when rdpl's own entry for the host was rejected;
//! - mstsc's remembered certificate hash of a spelling of this host when the server now presents another
//!   certificate.

use rdpl_profiles::creds::{CredKey, CredRecord};
use rdpl_profiles::profile::Profile;
use serde::Serialize;

/// Which kind of Windows credential (`CRED_TYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TermsrvKind {
    /// `CRED_TYPE_DOMAIN_PASSWORD` (2), what mstsc writes for "Remember me".
    DomainPassword,
    /// `CRED_TYPE_GENERIC` (1), written by `cmdkey /generic:` and some tools.
    Generic,
}

/// A credential mstsc uses: `TERMSRV/<host>` in the Windows Credential Manager.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TermsrvCred {
    /// The full target name, e.g. `TERMSRV/web01.corp.test`.
    pub target: String,
    /// Its type.
    pub kind: TermsrvKind,
    /// The user name stored with it (`DOMAIN\user`), if any.
    pub user: Option<String>,
}

impl TermsrvCred {
    /// The host part of the target name.
    pub fn host(&self) -> &str {
        self.target
            .split_once('/')
            .map_or(self.target.as_str(), |(_, h)| h)
    }
}

/// mstsc's memory of a server: `HKCU\Software\Microsoft\Terminal Server Client\Servers\<host>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MstscServer {
    /// The host as mstsc saw it typed.
    pub host: String,
    /// `CertHash`: SHA-1 of the certificate the user accepted, if any.
    #[serde(serialize_with = "hex_opt")]
    pub cert_hash: Option<Vec<u8>>,
    /// `UsernameHint`, if any.
    pub username_hint: Option<String>,
}

fn hex_opt<S: serde::Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(b) => s.serialize_some(&hex::encode(b)),
        None => s.serialize_none(),
    }
}

/// What is saved, gathered by I/O before planning.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    /// rdpl's own entries (from its index).
    pub rdpl: Vec<CredRecord>,
    /// mstsc's `TERMSRV/*` credentials (Windows only; empty elsewhere).
    pub termsrv: Vec<TermsrvCred>,
    /// mstsc's per-server registry keys (Windows only; empty elsewhere).
    pub mstsc_servers: Vec<MstscServer>,
}

/// Something to clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StaleItem {
    /// An rdpl keyring entry.
    Rdpl {
        /// Which.
        key: CredKey,
    },
    /// An mstsc credential.
    Termsrv {
        /// `TERMSRV/<host>`.
        target: String,
        /// Its type.
        cred_type: TermsrvKind,
    },
    /// mstsc's remembered certificate hash of a server.
    CertHash {
        /// The registry key name.
        host: String,
    },
}

impl std::fmt::Display for StaleItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StaleItem::Rdpl { key } => write!(f, "rdpl keyring entry for {key}"),
            StaleItem::Termsrv { target, cred_type } => {
                let t = match cred_type {
                    TermsrvKind::DomainPassword => "domain password",
                    TermsrvKind::Generic => "generic",
                };
                write!(f, "mstsc credential {target} ({t})")
            }
            StaleItem::CertHash { host } => write!(f, "mstsc's remembered certificate of {host}"),
        }
    }
}

/// A stale item and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stale {
    /// What.
    #[serde(flatten)]
    pub item: StaleItem,
    /// Why it is stale.
    pub reason: String,
}

/// What the connection will use, as far as credentials care.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    /// Every spelling of the host: the profile's host, the DNS answers, fallbacks, the alternate, the address
    /// connected to (IPs without port), all lowercase.
    pub spellings: Vec<String>,
    /// SHA-1 of the certificate the server presents now (lowercase hex), when pre-flight saw one.
    pub cert_sha1: Option<String>,
}

impl Seen {
    /// The spellings of the profile's host: its host, fallbacks and alternate, plus `observed` addresses
    /// (`ip:port` counts as the IP), lowercase, sorted, without repeats.
    pub fn spellings<'a>(profile: &Profile, observed: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let named = std::iter::once(profile.host.to_string())
            .chain(profile.fallbacks.iter().map(|f| f.host.to_string()))
            .chain(profile.alternate.iter().map(|a| a.host.to_string()));
        let mut v: Vec<String> = named
            .chain(observed.into_iter().map(host_part))
            .map(|h| h.to_ascii_lowercase())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Whether `host` is one of the spellings.
    pub fn is_spelling(&self, host: &str) -> bool {
        self.spellings.iter().any(|s| s.eq_ignore_ascii_case(host))
    }
}

/// `10.0.0.5:3389` -> `10.0.0.5`, `[::1]:3389` -> `::1`, anything else as it is.
fn host_part(a: &str) -> String {
    a.parse::<std::net::SocketAddr>()
        .map_or_else(|_| a.to_owned(), |s| s.ip().to_string())
}

/// The profile's account, `DOMAIN\user` or `user`.
pub fn account(profile: &Profile) -> Option<String> {
    let user = profile.user.as_deref()?;
    Some(CredKey::new("", user, profile.domain.as_deref()).account())
}

/// The key rdpl saves the profile's password under.
pub fn profile_key(profile: &Profile) -> Option<CredKey> {
    let user = profile.user.as_deref()?;
    Some(CredKey::new(
        &profile.host.to_string(),
        user,
        profile.domain.as_deref(),
    ))
}

/// The key rdpl saves the RD Gateway's own password under, when the gateway has its own account
/// (`gateway.user`): that account on the gateway's host.
pub fn gateway_key(profile: &Profile) -> Option<CredKey> {
    let g = profile.gateway.as_ref()?;
    let user = g.user.as_deref()?;
    Some(CredKey::new(&g.host.to_string(), user, g.domain.as_deref()))
}

/// Finds the stale items.
pub fn find(profile: &Profile, seen: &Seen, inv: &Inventory) -> Vec<Stale> {
    let mut out = Vec::new();
    let current = profile_key(profile);
    let name = profile.name.as_str();
    let is_spelling = |h: &str| seen.is_spelling(h);
    let mut own_failed = false;

    for r in &inv.rdpl {
        let mine = r.profile.as_deref() == Some(name) || is_spelling(&r.key.host);
        if !mine {
            continue;
        }
        let stale = |reason: String| Stale {
            item: StaleItem::Rdpl { key: r.key.clone() },
            reason,
        };
        if let Some(when) = &r.failed {
            if Some(&r.key) == current.as_ref() {
                own_failed = true;
            }
            let why = r.failed_reason.as_deref().unwrap_or("the server rejected it");
            out.push(stale(format!("{why} ({when})")));
            continue;
        }
        // Only entries saved for this profile can be outdated by a change to it.
        if r.profile.as_deref() != Some(name) {
            continue;
        }
        // The gateway's own account: outdated only by a change of that account.
        let gateway = gateway_key(profile);
        if Some(&r.key) == gateway.as_ref() {
            continue;
        }
        if let Some(g) = profile
            .gateway
            .as_ref()
            // An entry for the gateway's host (not also the target's) is an old gateway account.
            .filter(|g| {
                g.host.to_string().eq_ignore_ascii_case(&r.key.host)
                    && current.as_ref().is_none_or(|k| k.host != r.key.host)
            })
        {
            out.push(stale(match &gateway {
                Some(k) => format!(
                    "the gateway {} account is now {}, not {}",
                    g.host,
                    k.account(),
                    r.key.account()
                ),
                None => format!(
                    "the profile no longer names an account for the gateway {}",
                    g.host
                ),
            }));
            continue;
        }
        match &current {
            None => out.push(stale("the profile no longer names a user".into())),
            Some(k) if k.host != r.key.host => out.push(stale(format!(
                "the profile now connects to {}, not {}",
                k.host, r.key.host
            ))),
            Some(k) if !k.user.eq_ignore_ascii_case(&r.key.user) => out.push(stale(format!(
                "the profile's user is now {}, not {}",
                k.user, r.key.user
            ))),
            Some(k)
                if k.domain.as_deref().map(str::to_ascii_lowercase)
                    != r.key.domain.as_deref().map(str::to_ascii_lowercase) =>
            {
                out.push(stale(format!(
                    "the profile's domain is now {}, not {}",
                    k.domain.as_deref().unwrap_or("(none)"),
                    r.key.domain.as_deref().unwrap_or("(none)")
                )))
            }
            Some(_) => {}
        }
    }

    let account = account(profile);
    for t in &inv.termsrv {
        if !is_spelling(t.host()) {
            continue;
        }
        let reason = if own_failed {
            Some(
                "rdpl's saved password for this host was rejected; mstsc would offer its own copy".to_owned(),
            )
        } else {
            match (&account, &t.user) {
                (Some(a), Some(u)) if !same_account(a, u) => {
                    Some(format!("saved for {u}, but the profile connects as {a}"))
                }
                _ => None,
            }
        };
        if let Some(reason) = reason {
            out.push(Stale {
                item: StaleItem::Termsrv {
                    target: t.target.clone(),
                    cred_type: t.kind,
                },
                reason,
            });
        }
    }

    if let Some(now) = &seen.cert_sha1 {
        for s in &inv.mstsc_servers {
            let Some(old) = &s.cert_hash else { continue };
            if is_spelling(&s.host) && !hex::encode(old).eq_ignore_ascii_case(now) {
                out.push(Stale {
                    item: StaleItem::CertHash { host: s.host.clone() },
                    reason: format!(
                        "mstsc remembers certificate SHA-1 {}, the server now presents {now}",
                        hex::encode(old)
                    ),
                });
            }
        }
    }
    out
}

/// `CORP\alice` vs `alice@corp` vs `corp\Alice`: the same account?
fn same_account(a: &str, b: &str) -> bool {
    fn norm(s: &str) -> (Option<String>, String) {
        let s = s.to_ascii_lowercase();
        if let Some((d, u)) = s.split_once('\\') {
            return (Some(d.to_owned()), u.to_owned());
        }
        if let Some((u, d)) = s.split_once('@') {
            return (Some(d.split('.').next().unwrap_or(d).to_owned()), u.to_owned());
        }
        (None, s)
    }
    let ((da, ua), (db, ub)) = (norm(a), norm(b));
    ua == ub && (da.is_none() || db.is_none() || da == db)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdpl_profiles::creds::StoreKind;
    use rdpl_profiles::name::Host;
    use rstest::rstest;

    fn profile() -> Profile {
        let mut p = Profile::new(
            "web01".parse().expect("name"),
            Host::Name("web01.corp.test".into()),
        );
        p.user = Some("alice".into());
        p.domain = Some("CORP".into());
        p
    }

    fn rec(host: &str, user: &str, domain: Option<&str>, profile: Option<&str>, failed: bool) -> CredRecord {
        CredRecord {
            key: CredKey::new(host, user, domain),
            profile: profile.map(str::to_owned),
            store: StoreKind::Keyutils,
            saved: "2026-11-01T00:00:00Z".into(),
            failed: failed.then(|| "2026-11-20T00:00:00Z".to_owned()),
            failed_reason: failed.then(|| "the server rejected it".to_owned()),
        }
    }

    fn seen() -> Seen {
        Seen {
            spellings: vec!["web01.corp.test".into(), "10.0.0.9".into(), "web01".into()],
            cert_sha1: Some("aa".repeat(20)),
        }
    }

    fn termsrv(host: &str, user: Option<&str>) -> TermsrvCred {
        TermsrvCred {
            target: format!("TERMSRV/{host}"),
            kind: TermsrvKind::DomainPassword,
            user: user.map(str::to_owned),
        }
    }

    #[rstest]
    #[case::current_entry_is_kept(rec("web01.corp.test", "alice", Some("CORP"), Some("web01"), false), None)]
    #[case::old_host_spelling(
        rec("web01-old.corp.test", "alice", Some("CORP"), Some("web01"), false),
        Some("now connects to web01.corp.test")
    )]
    #[case::old_user(
        rec("web01.corp.test", "bob", Some("CORP"), Some("web01"), false),
        Some("user is now alice")
    )]
    #[case::old_domain(
        rec("web01.corp.test", "alice", Some("OLD"), Some("web01"), false),
        Some("domain is now CORP")
    )]
    #[case::no_domain_before(
        rec("web01.corp.test", "alice", None, Some("web01"), false),
        Some("domain is now CORP")
    )]
    #[case::rejected(
        rec("web01.corp.test", "alice", Some("CORP"), Some("web01"), true),
        Some("rejected")
    )]
    #[case::rejected_ip_spelling_without_profile(
        rec("10.0.0.9", "alice", Some("CORP"), None, true),
        Some("rejected")
    )]
    #[case::other_profiles_are_not_touched(rec("db01.corp.test", "bob", None, Some("db01"), false), None)]
    #[case::ad_hoc_entry_for_a_spelling_is_kept(rec("10.0.0.9", "carol", None, None, false), None)]
    fn rdpl_entries(#[case] r: CredRecord, #[case] want: Option<&str>) {
        let inv = Inventory {
            rdpl: vec![r.clone()],
            ..Inventory::default()
        };
        let got = find(&profile(), &seen(), &inv);
        match want {
            None => assert!(got.is_empty(), "{got:?}"),
            Some(why) => {
                assert_eq!(got.len(), 1, "{got:?}");
                assert_eq!(got[0].item, StaleItem::Rdpl { key: r.key });
                assert!(got[0].reason.contains(why), "{}", got[0].reason);
            }
        }
    }

    #[test]
    fn the_gateways_own_account_is_kept_and_an_old_one_is_stale() {
        let mut p = profile();
        let mut g = rdpl_profiles::profile::Gateway::new(
            rdpl_profiles::name::Host::Name("gw.corp.test".into()),
            rdpl_profiles::name::Port::HTTPS,
        );
        g.user = Some("gwadmin".into());
        g.domain = Some("GW".into());
        p.gateway = Some(g);
        assert_eq!(
            gateway_key(&p).map(|k| k.keyring_user()),
            Some("GW\\gwadmin@gw.corp.test".to_owned())
        );
        let own = rec("gw.corp.test", "gwadmin", Some("GW"), Some("web01"), false);
        let old = rec("gw.corp.test", "olduser", Some("GW"), Some("web01"), false);
        let inv = Inventory {
            rdpl: vec![own, old.clone()],
            ..Inventory::default()
        };
        let got = find(&p, &seen(), &inv);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].item, StaleItem::Rdpl { key: old.key });
        assert!(
            got[0]
                .reason
                .contains("gateway gw.corp.test account is now GW\\gwadmin"),
            "{}",
            got[0].reason
        );
    }

    #[test]
    fn a_profile_without_a_user_makes_its_entries_stale() {
        let mut p = profile();
        p.user = None;
        let inv = Inventory {
            rdpl: vec![rec(
                "web01.corp.test",
                "alice",
                Some("CORP"),
                Some("web01"),
                false,
            )],
            ..Inventory::default()
        };
        let got = find(&p, &seen(), &inv);
        assert!(got[0].reason.contains("no longer names a user"), "{got:?}");
    }

    #[rstest]
    #[case::same_account(termsrv("web01.corp.test", Some("CORP\\alice")), false, false)]
    #[case::same_account_upn_and_case(termsrv("10.0.0.9", Some("Alice@corp.test")), false, false)]
    #[case::other_account(termsrv("web01", Some("CORP\\bob")), false, true)]
    #[case::other_host_untouched(termsrv("db01.corp.test", Some("CORP\\bob")), false, false)]
    #[case::no_user_kept(termsrv("web01.corp.test", None), false, false)]
    #[case::rdpl_password_rejected(termsrv("web01.corp.test", Some("CORP\\alice")), true, true)]
    fn mstsc_credentials(#[case] t: TermsrvCred, #[case] own_failed: bool, #[case] want_stale: bool) {
        let inv = Inventory {
            rdpl: vec![rec(
                "web01.corp.test",
                "alice",
                Some("CORP"),
                Some("web01"),
                own_failed,
            )],
            termsrv: vec![t.clone()],
            ..Inventory::default()
        };
        let got = find(&profile(), &seen(), &inv);
        let termsrv_stale = got
            .iter()
            .any(|s| matches!(&s.item, StaleItem::Termsrv { target, .. } if target == &t.target));
        assert_eq!(termsrv_stale, want_stale, "{got:?}");
    }

    #[rstest]
    #[case::same_certificate(Some("aa"), "web01.corp.test", false)]
    #[case::changed_certificate(Some("bb"), "web01.corp.test", true)]
    #[case::changed_on_the_ip_spelling(Some("bb"), "10.0.0.9", true)]
    #[case::other_server(Some("bb"), "db01", false)]
    #[case::no_hash_remembered(None, "web01.corp.test", false)]
    fn mstsc_cert_hashes(#[case] byte: Option<&str>, #[case] host: &str, #[case] want_stale: bool) {
        let inv = Inventory {
            mstsc_servers: vec![MstscServer {
                host: host.into(),
                cert_hash: byte.map(|b| hex::decode(b.repeat(20)).expect("hex")),
                username_hint: Some("CORP\\alice".into()),
            }],
            ..Inventory::default()
        };
        let got = find(&profile(), &seen(), &inv);
        assert_eq!(
            got.iter()
                .any(|s| s.item == StaleItem::CertHash { host: host.into() }),
            want_stale,
            "{got:?}"
        );
    }

    #[test]
    fn no_certificate_seen_means_no_hash_is_judged() {
        let inv = Inventory {
            mstsc_servers: vec![MstscServer {
                host: "web01.corp.test".into(),
                cert_hash: Some(vec![0xbb; 20]),
                username_hint: None,
            }],
            ..Inventory::default()
        };
        let s = Seen {
            cert_sha1: None,
            ..seen()
        };
        assert!(find(&profile(), &s, &inv).is_empty());
    }
}

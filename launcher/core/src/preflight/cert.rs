//! Certificate assessment: a pure function of the chain the server sent, the name or IP rdpl used, the time,
//! the platform verifier's verdict and the pin.
//!
//! It checks the validity window (expired, not yet valid, expiring within 14 days), self-signature, name/SAN
//! match (DNS names with one-label wildcards, IP SANs, the subject CN when there are no DNS SANs, as mstsc
//! accepts), the serverAuth EKU, key strength, and computes the SHA-256 fingerprint.

use std::net::IpAddr;

use ::time::OffsetDateTime;
use ::time::format_description::well_known::Rfc3339;
use rdpl_profiles::name::Host;
use rdpl_profiles::pins::{Pin, PinStatus};
use x509_parser::prelude::*;

use crate::facts::{CertFacts, PinState};
use crate::finding::{Finding, FindingId, Severity};

/// How soon an expiry is worth a warning.
pub const EXPIRY_WARNING_DAYS: i64 = 14;

/// The chain trust verdict of the platform verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// The chain leads to a trusted root (the name is judged separately).
    Trusted,
    /// Not trusted, with the verifier's reason.
    Untrusted(String),
}

/// The facts about a leaf certificate, before trust and pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    pub report: CertFacts,
    /// Key size in bits (RSA modulus, EC field size), when known.
    pub key_bits: Option<usize>,
    /// Key algorithm: `RSA`, `EC`, `Ed25519`, ...
    pub key_alg: String,
    /// The signature's hash, when it is one that can be forged or collided (`MD5`, `SHA-1`, `MD2`).
    pub weak_signature: Option<&'static str>,
}

/// The weak hash of a certificate signature algorithm (by OID), if it has one.
pub fn weak_signature_hash(oid: &str) -> Option<&'static str> {
    match oid {
        "1.2.840.113549.1.1.2" => Some("MD2"),
        "1.2.840.113549.1.1.4" => Some("MD5"),
        "1.2.840.113549.1.1.5" | "1.2.840.10045.4.1" | "1.2.840.10040.4.3" | "1.3.14.3.2.29" => Some("SHA-1"),
        _ => None,
    }
}

/// Why rdpl's TLS library cannot check a handshake with this key at all, when that is so: ring verifies RSA
/// signatures for keys of 2048 to 8192 bits only, so any other RSA key ends the handshake with
/// "BadSignature" before the certificate can be trusted or pinned.
pub fn unverifiable_key(key_alg: &str, bits: Option<usize>) -> Option<String> {
    match (key_alg, bits) {
        ("RSA", Some(b)) if !(2048..=8192).contains(&b) => Some(format!(
            "the server's key is RSA {b}, and rdpl (like current clients) checks RSA signatures for keys of 2048 to 8192 bits only"
        )),
        _ => None,
    }
}

/// SHA-256 of DER bytes, lowercase hex.
pub fn sha256_hex(der: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, der))
}

/// SHA-1 of DER bytes, lowercase hex: the thumbprint Windows shows and mstsc keeps as `CertHash` (an
/// identifier there, not a security decision; rdpl pins SHA-256).
pub fn sha1_hex(der: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, der))
}

fn rfc3339(t: ASN1Time) -> String {
    t.to_datetime().format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// Whether a DNS SAN pattern matches a host name (case-insensitive; `*` only as the whole leftmost label).
pub fn dns_matches(pattern: &str, host: &str) -> bool {
    let p = pattern.trim_end_matches('.').to_ascii_lowercase();
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    match p.strip_prefix("*.") {
        // A wildcard covers one label under a name of at least two labels: `*.test` (a bare TLD) matches
        // nothing (RFC 6125 6.4.3; browsers refuse it too).
        Some(rest) if !rest.contains('.') => false,
        Some(rest) => h
            .split_once('.')
            .is_some_and(|(first, tail)| !first.is_empty() && tail == rest),
        None => p == h,
    }
}

/// Parses the leaf and computes everything that depends only on it, the name used and the time.
pub fn inspect(der: &[u8], chain_len: usize, name_used: &Host, now: OffsetDateTime) -> Result<Leaf, String> {
    let (_, cert) =
        X509Certificate::from_der(der).map_err(|e| format!("the certificate does not parse: {e}"))?;
    let subject = cert.subject().to_string();
    let issuer = cert.issuer().to_string();
    let mut sans = Vec::new();
    let mut dns_sans = Vec::new();
    let mut ip_sans = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for n in &ext.value.general_names {
            match n {
                GeneralName::DNSName(d) => {
                    sans.push(format!("DNS:{d}"));
                    dns_sans.push((*d).to_owned());
                }
                GeneralName::IPAddress(b) => {
                    let ip = match b.len() {
                        4 => <[u8; 4]>::try_from(*b).ok().map(IpAddr::from),
                        16 => <[u8; 16]>::try_from(*b).ok().map(IpAddr::from),
                        _ => None,
                    };
                    if let Some(ip) = ip {
                        sans.push(format!("IP:{ip}"));
                        ip_sans.push(ip);
                    }
                }
                _ => {}
            }
        }
    }
    let cns: Vec<String> = cert
        .subject()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok().map(str::to_owned))
        .collect();
    let name_matches = match name_used {
        Host::Ip(ip) => ip_sans.contains(ip),
        Host::Name(n) if !dns_sans.is_empty() => dns_sans.iter().any(|p| dns_matches(p, n)),
        Host::Name(n) => cns.iter().any(|cn| dns_matches(cn, n)),
    };
    let validity = cert.validity();
    let nb = validity.not_before.to_datetime();
    let na = validity.not_after.to_datetime();
    let weak_signature = weak_signature_hash(&cert.signature_algorithm.algorithm.to_id_string());
    // Self-signed: issued by itself and signed by its own key. A signature with a broken hash (MD5) can't be
    // checked here, and it must not make a self-signed certificate look CA-issued.
    let self_signed =
        cert.subject() == cert.issuer() && (cert.verify_signature(None).is_ok() || weak_signature.is_some());
    let server_auth = match cert.extended_key_usage() {
        Ok(Some(eku)) => Some(eku.value.server_auth || eku.value.any),
        _ => None,
    };
    let spki = cert.public_key();
    let (key_alg, key_bits) = match spki.parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => ("RSA".to_owned(), Some(rsa.key_size())),
        Ok(x509_parser::public_key::PublicKey::EC(ec)) => ("EC".to_owned(), Some(ec.key_size())),
        Ok(_) => (spki.algorithm.algorithm.to_id_string(), None),
        Err(_) => ("unknown".to_owned(), None),
    };
    let key = match key_bits {
        Some(b) => format!("{key_alg} {b}"),
        None => key_alg.clone(),
    };
    Ok(Leaf {
        report: CertFacts {
            subject,
            issuer,
            sans,
            not_before: rfc3339(validity.not_before),
            not_after: rfc3339(validity.not_after),
            sha256: sha256_hex(der),
            sha1: sha1_hex(der),
            expired: now > na,
            not_yet_valid: now < nb,
            self_signed,
            name_matches,
            trusted: false,
            pin: PinState::None,
            key,
            server_auth,
            chain_len,
        },
        key_bits,
        key_alg,
        weak_signature,
    })
}

/// The pin record for a leaf seen now.
pub fn pin_of(c: &CertFacts, now: OffsetDateTime) -> Pin {
    let now = now.format(&Rfc3339).unwrap_or_default();
    Pin {
        sha256: c.sha256.clone(),
        subject: c.subject.clone(),
        issuer: c.issuer.clone(),
        not_before: c.not_before.clone(),
        not_after: c.not_after.clone(),
        first_seen: now.clone(),
        last_seen: now,
    }
}

/// Whose certificate is assessed: the host's or the RD Gateway's (their findings have ids of their own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The RDP server's.
    Host,
    /// The RD Gateway's.
    Gateway,
}

/// What an assessment can find about a certificate, whoever's it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issue {
    /// No certificate at all.
    Missing,
    /// It does not parse.
    Unparsable,
    /// Past its validity.
    Expired,
    /// Before its validity.
    NotYetValid,
    /// Within [`EXPIRY_WARNING_DAYS`] of its end.
    ExpiringSoon,
    /// Self-signed.
    SelfSigned,
    /// Not trusted by the platform.
    Untrusted,
    /// Not for the name used.
    NameMismatch,
    /// No serverAuth EKU.
    NoServerAuth,
    /// A weak key.
    WeakKey,
    /// A signature with a broken hash (MD5, SHA-1).
    WeakSignature,
}

impl Scope {
    /// The finding id of an issue in this scope.
    pub fn id(self, issue: Issue) -> FindingId {
        use FindingId as F;
        match (self, issue) {
            (Scope::Host, Issue::Missing) => F::CertMissing,
            (Scope::Host, Issue::Unparsable) => F::CertUnparsable,
            (Scope::Host, Issue::Expired) => F::CertExpired,
            (Scope::Host, Issue::NotYetValid) => F::CertNotYetValid,
            (Scope::Host, Issue::ExpiringSoon) => F::CertExpiringSoon,
            (Scope::Host, Issue::SelfSigned) => F::CertSelfSigned,
            (Scope::Host, Issue::Untrusted) => F::CertUntrusted,
            (Scope::Host, Issue::NameMismatch) => F::CertNameMismatch,
            (Scope::Host, Issue::NoServerAuth) => F::CertNoServerAuth,
            (Scope::Host, Issue::WeakKey) => F::CertWeakKey,
            (Scope::Host, Issue::WeakSignature) => F::CertWeakSignature,
            (Scope::Gateway, Issue::Missing) => F::GatewayCertMissing,
            (Scope::Gateway, Issue::Unparsable) => F::GatewayCertUnparsable,
            (Scope::Gateway, Issue::Expired) => F::GatewayCertExpired,
            (Scope::Gateway, Issue::NotYetValid) => F::GatewayCertNotYetValid,
            (Scope::Gateway, Issue::ExpiringSoon) => F::GatewayCertExpiringSoon,
            (Scope::Gateway, Issue::SelfSigned) => F::GatewayCertSelfSigned,
            (Scope::Gateway, Issue::Untrusted) => F::GatewayCertUntrusted,
            (Scope::Gateway, Issue::NameMismatch) => F::GatewayCertNameMismatch,
            (Scope::Gateway, Issue::NoServerAuth) => F::GatewayCertNoServerAuth,
            (Scope::Gateway, Issue::WeakKey) => F::GatewayCertWeakKey,
            (Scope::Gateway, Issue::WeakSignature) => F::GatewayCertWeakSignature,
        }
    }
}

/// Judges a leaf: fills in trust and pin, and returns the findings.
pub fn assess(
    mut leaf: Leaf,
    trust: &Trust,
    pin: Option<&PinStatus>,
    name_used: &Host,
    now: OffsetDateTime,
    scope: Scope,
) -> (CertFacts, Vec<Finding>) {
    let mut f = Vec::new();
    let id = |issue| scope.id(issue);
    let c = &mut leaf.report;
    c.trusted = matches!(trust, Trust::Trusted);
    c.pin = match pin {
        None => PinState::None,
        Some(PinStatus::New) => PinState::New,
        Some(PinStatus::Match) => PinState::Match,
        Some(PinStatus::Changed { .. }) => PinState::Changed,
    };
    let pinned = matches!(pin, Some(PinStatus::Match));
    let what = match scope {
        Scope::Host => "The server",
        Scope::Gateway => "The RD Gateway",
    };
    if c.expired {
        f.push(Finding::new(
            id(Issue::Expired),
            format!("{what}'s certificate expired on {}.", c.not_after),
        ));
    } else if c.not_yet_valid {
        f.push(Finding::new(
            id(Issue::NotYetValid),
            format!("{what}'s certificate is not valid before {}.", c.not_before),
        ));
    } else if let Ok(na) = OffsetDateTime::parse(&c.not_after, &Rfc3339)
        && (na - now).whole_days() < EXPIRY_WARNING_DAYS
    {
        f.push(Finding::new(
            id(Issue::ExpiringSoon),
            format!(
                "{what}'s certificate expires on {} (in {} days).",
                c.not_after,
                (na - now).whole_days()
            ),
        ));
    }
    // What the pin vouches for is worth knowing, not a warning.
    let vouched = |f: Finding| if pinned { f.severity(Severity::Info) } else { f };
    if c.self_signed {
        let found = vouched(Finding::new(
            id(Issue::SelfSigned),
            format!("{what}'s certificate is self-signed ({}).", c.subject),
        ));
        f.push(if pinned {
            found.fix("It matches the certificate you pinned earlier, so it is the same server.")
        } else {
            found
        });
    } else if let Trust::Untrusted(why) = trust {
        f.push(vouched(Finding::new(
            id(Issue::Untrusted),
            format!("{what}'s certificate chain is not trusted by this computer: {why}."),
        )));
    }
    if !c.name_matches {
        let ip_only = matches!(name_used, Host::Ip(_));
        let names = if c.sans.is_empty() {
            c.subject.clone()
        } else {
            c.sans.join(", ")
        };
        let msg = if ip_only && pinned {
            format!(
                "The certificate names {names}, not the IP address {name_used} rdpl connected to; it is the pinned \
                 certificate, so this is the same server reached by IP."
            )
        } else {
            format!("{what}'s certificate is for {names}, not for {name_used}.")
        };
        let found = vouched(Finding::new(id(Issue::NameMismatch), msg));
        f.push(if ip_only {
            found.fix("Connect by the name in the certificate, or add the IP address to its subject alternative names.")
        } else {
            found
        });
    }
    if c.server_auth == Some(false) {
        f.push(Finding::new(
            id(Issue::NoServerAuth),
            "The certificate's extended key usage does not allow TLS server authentication.",
        ));
    }
    let weak = match (leaf.key_alg.as_str(), leaf.key_bits) {
        ("RSA", Some(b)) => b < 2048,
        ("EC", Some(b)) => b < 256,
        _ => false,
    };
    if weak {
        f.push(Finding::new(
            id(Issue::WeakKey),
            format!("The certificate's key is weak ({}).", c.key),
        ));
    }
    if let Some(hash) = leaf.weak_signature {
        f.push(Finding::new(
            id(Issue::WeakSignature),
            format!("The certificate is signed with {hash}, a hash that can be forged."),
        ));
    }
    match pin {
        Some(PinStatus::New) => f.push(Finding::new(
            FindingId::CertPinNew,
            format!("First time rdpl sees this certificate for this host (SHA-256 {}).", c.sha256),
        )),
        Some(PinStatus::Changed { old }) => f.push(Finding::new(
            FindingId::CertPinChanged,
            format!(
                "The certificate changed since it was pinned. Pinned: {} issued by {}, valid {} to {}, SHA-256 \
                 {} (first seen {}). Now: {} issued by {}, valid {} to {}, SHA-256 {}.",
                old.subject,
                old.issuer,
                old.not_before,
                old.not_after,
                old.sha256,
                old.first_seen,
                c.subject,
                c.issuer,
                c.not_before,
                c.not_after,
                c.sha256
            ),
        )),
        _ => {}
    }
    (leaf.report, f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("web01.corp.test", "web01.corp.test", true)]
    #[case("WEB01.corp.test.", "web01.CORP.test", true)]
    #[case("*.corp.test", "web01.corp.test", true)]
    #[case("*.corp.test", "corp.test", false)]
    #[case("*.corp.test", "a.b.corp.test", false)]
    #[case("web01.corp.test", "web02.corp.test", false)]
    #[case("*.test", "corp.test", false)]
    #[case("*.", "test.", false)]
    #[case("*.corp.test", "xn--bcher-kva.corp.test", true)]
    #[case("xn--bcher-kva.corp.test", "XN--BCHER-KVA.corp.test", true)]
    fn dns_name_matching(#[case] pattern: &str, #[case] host: &str, #[case] want: bool) {
        assert_eq!(dns_matches(pattern, host), want);
    }

    #[test]
    fn broken_hashes_and_unverifiable_keys_are_named() {
        assert_eq!(weak_signature_hash("1.2.840.113549.1.1.4"), Some("MD5"));
        assert_eq!(weak_signature_hash("1.2.840.113549.1.1.5"), Some("SHA-1"));
        assert_eq!(
            weak_signature_hash("1.2.840.113549.1.1.11"),
            None,
            "SHA-256 with RSA"
        );
        for bits in [512, 1024, 2047, 9216] {
            assert!(unverifiable_key("RSA", Some(bits)).is_some_and(|w| w.contains(&format!("RSA {bits}"))));
        }
        assert_eq!(unverifiable_key("RSA", Some(2048)), None);
        assert_eq!(unverifiable_key("RSA", Some(8192)), None);
        assert_eq!(unverifiable_key("EC", Some(256)), None);
    }

    #[test]
    fn sha256_of_empty_input() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}

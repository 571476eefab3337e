//! Test certificates made with rcgen: self-signed, signed by a test CA, expired, not yet valid, wrong name.
//!
//! Each [`TestCert`] owns a temp dir holding `cert.pem` and `key.pem` (for servers) and keeps the DER bytes
//! (for comparing with what a server sent). Names given as IP addresses become IP SANs, the others DNS SANs.
//!
//! Keys are RSA-2048 by default, because the FreeRDP shadow server only loads RSA keys ("unable to load RSA
//! key") and real RDP servers use RSA. ring (rcgen's backend here) cannot generate RSA keys, so they come from
//! `openssl genpkey` (~0.25 s each): all leaf certificates share one key per test run, all CAs another, unless
//! [`CertBuilder::fresh_key`] asks for a key of its own. [`CertBuilder::ecdsa`] gives a P-256 key instead.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SerialNumber,
};
use time::{Duration, OffsetDateTime};

/// `openssl` makes the RSA keys: tests that make certificates need it (see [`super::require_all`]).
pub(crate) const NEEDS: &[&str] = &["openssl"];

/// Which key a certificate gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyChoice {
    /// The run-wide RSA key (one for leaves, another for CAs).
    Shared,
    /// A new RSA-2048 key for this certificate only.
    FreshRsa,
    /// A new ECDSA P-256 key.
    Ecdsa,
}

/// How to build one certificate; start with [`cert`].
#[derive(Debug, Clone)]
pub(crate) struct CertBuilder {
    names: Vec<String>,
    common_name: Option<String>,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    key: KeyChoice,
}

/// A certificate valid for `names` (DNS names and IP addresses) from yesterday to 30 days from now.
pub(crate) fn cert(names: &[&str]) -> CertBuilder {
    let now = OffsetDateTime::now_utc();
    CertBuilder {
        names: names.iter().map(|s| (*s).to_owned()).collect(),
        common_name: None,
        not_before: now - Duration::days(1),
        not_after: now + Duration::days(30),
        key: KeyChoice::Shared,
    }
}

/// A self-signed certificate for `names`, valid now.
pub(crate) fn self_signed(names: &[&str]) -> TestCert {
    cert(names).self_signed()
}

/// A fresh test CA and a certificate for `names` that it signed (both valid now).
pub(crate) fn ca_signed(names: &[&str]) -> (TestCa, TestCert) {
    let ca = TestCa::new("rdpl Test CA");
    let leaf = cert(names).signed_by(&ca);
    (ca, leaf)
}

/// A self-signed certificate for `names` that expired yesterday (valid from 30 days ago until 1 day ago).
pub(crate) fn expired(names: &[&str]) -> TestCert {
    cert(names).expired().self_signed()
}

/// A self-signed certificate for `names` that becomes valid tomorrow.
pub(crate) fn not_yet_valid(names: &[&str]) -> TestCert {
    cert(names).not_yet_valid().self_signed()
}

/// The name in [`wrong_name`] certificates.
pub(crate) const WRONG_NAME: &str = "wrong-name.invalid";

/// A self-signed certificate valid now but only for [`WRONG_NAME`] (so it matches no host a test uses).
pub(crate) fn wrong_name() -> TestCert {
    cert(&[WRONG_NAME]).self_signed()
}

impl CertBuilder {
    /// The subject CN (default: the first name, or "rdpl test" when there is none).
    pub(crate) fn common_name(mut self, cn: &str) -> Self {
        self.common_name = Some(cn.to_owned());
        self
    }

    /// Valid from 30 days ago until yesterday.
    pub(crate) fn expired(self) -> Self {
        let now = OffsetDateTime::now_utc();
        self.valid_between(now - Duration::days(30), now - Duration::days(1))
    }

    /// Valid from tomorrow for 30 days.
    pub(crate) fn not_yet_valid(self) -> Self {
        let now = OffsetDateTime::now_utc();
        self.valid_between(now + Duration::days(1), now + Duration::days(31))
    }

    /// Any validity window (see `rcgen::date_time_ymd` for fixed dates).
    pub(crate) fn valid_between(mut self, not_before: OffsetDateTime, not_after: OffsetDateTime) -> Self {
        self.not_before = not_before;
        self.not_after = not_after;
        self
    }

    /// A new RSA key for this certificate alone (two certificates then never share a public key).
    pub(crate) fn fresh_key(mut self) -> Self {
        self.key = KeyChoice::FreshRsa;
        self
    }

    /// An ECDSA P-256 key (fast; xrdp serves it, the shadow server can't use it).
    pub(crate) fn ecdsa(mut self) -> Self {
        self.key = KeyChoice::Ecdsa;
        self
    }

    /// Signs the certificate with its own key.
    pub(crate) fn self_signed(self) -> TestCert {
        let key = key_pair(self.key, SharedKey::Leaf);
        let params = self.params();
        let cert = params
            .self_signed(&key)
            .expect("rcgen signs a self-signed certificate");
        TestCert::write(cert.pem(), cert.der().to_vec(), &key)
    }

    /// Has `ca` sign the certificate.
    pub(crate) fn signed_by(self, ca: &TestCa) -> TestCert {
        let key = key_pair(self.key, SharedKey::Leaf);
        let mut params = self.params();
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        let cert = params
            .signed_by(&key, &ca.issuer)
            .expect("rcgen signs with the test CA");
        TestCert::write(cert.pem(), cert.der().to_vec(), &key)
    }

    fn params(&self) -> CertificateParams {
        let mut params = CertificateParams::new(self.names.clone()).expect("valid SAN names");
        let cn = self
            .common_name
            .clone()
            .or_else(|| self.names.first().cloned())
            .unwrap_or_else(|| "rdpl test".to_owned());
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.not_before = self.not_before;
        params.not_after = self.not_after;
        params.serial_number = Some(unique_serial());
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params
    }
}

/// A certificate and its private key, as PEM files in a temp dir of their own (removed on drop) and in memory.
#[derive(Debug)]
pub(crate) struct TestCert {
    dir: tempfile::TempDir,
    cert_pem: String,
    key_pem: String,
    der: Vec<u8>,
}

impl TestCert {
    fn write(cert_pem: String, der: Vec<u8>, key: &KeyPair) -> TestCert {
        let dir = tempfile::Builder::new()
            .prefix("rdpl-cert-")
            .tempdir()
            .expect("tempdir");
        let key_pem = key.serialize_pem();
        std::fs::write(dir.path().join("cert.pem"), &cert_pem).expect("write cert.pem");
        std::fs::write(dir.path().join("key.pem"), &key_pem).expect("write key.pem");
        TestCert {
            dir,
            cert_pem,
            key_pem,
            der,
        }
    }

    /// `cert.pem`: the certificate, PEM.
    pub(crate) fn cert_path(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    /// `key.pem`: the unencrypted PKCS#8 private key, PEM.
    pub(crate) fn key_path(&self) -> PathBuf {
        self.dir.path().join("key.pem")
    }

    /// The temp dir holding both files (a good place for a DER copy or a bundle).
    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The certificate, PEM.
    pub(crate) fn pem(&self) -> &str {
        &self.cert_pem
    }

    /// The private key, PEM.
    pub(crate) fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// The certificate, DER: the exact bytes a TLS server sends in its Certificate message.
    pub(crate) fn der(&self) -> &[u8] {
        &self.der
    }
}

/// A test certificate authority: its own certificate (PEM file and DER) and the key that signs leaves.
pub(crate) struct TestCa {
    cert: TestCert,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa")
            .field("cert", &self.cert)
            .finish_non_exhaustive()
    }
}

impl TestCa {
    /// A self-signed CA certificate with subject CN `cn`, valid from yesterday for a year.
    pub(crate) fn new(cn: &str) -> TestCa {
        let key = key_pair(KeyChoice::Shared, SharedKey::Ca);
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("no names");
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(365);
        params.serial_number = Some(unique_serial());
        let cert = params.self_signed(&key).expect("rcgen signs the CA certificate");
        let test_cert = TestCert::write(cert.pem(), cert.der().to_vec(), &key);
        TestCa {
            cert: test_cert,
            issuer: Issuer::new(params, key),
        }
    }

    /// The CA certificate as a [`TestCert`] (its `cert_path()` is the file to trust, e.g. `SSL_CERT_FILE`).
    pub(crate) fn cert(&self) -> &TestCert {
        &self.cert
    }

    /// The CA certificate PEM file.
    pub(crate) fn cert_path(&self) -> PathBuf {
        self.cert.cert_path()
    }

    /// The CA certificate, PEM.
    pub(crate) fn pem(&self) -> &str {
        self.cert.pem()
    }

    /// The CA certificate, DER.
    pub(crate) fn der(&self) -> &[u8] {
        self.cert.der()
    }
}

#[derive(Debug, Clone, Copy)]
enum SharedKey {
    Leaf,
    Ca,
}

fn key_pair(choice: KeyChoice, shared: SharedKey) -> KeyPair {
    static LEAF: OnceLock<String> = OnceLock::new();
    static CA: OnceLock<String> = OnceLock::new();
    let pem = match (choice, shared) {
        (KeyChoice::Ecdsa, _) => return KeyPair::generate().expect("ECDSA P-256 key"),
        (KeyChoice::FreshRsa, _) => new_rsa_pem(),
        (KeyChoice::Shared, SharedKey::Leaf) => LEAF.get_or_init(new_rsa_pem).clone(),
        (KeyChoice::Shared, SharedKey::Ca) => CA.get_or_init(new_rsa_pem).clone(),
    };
    KeyPair::from_pem(&pem).expect("rcgen loads the PKCS#8 RSA key")
}

/// A new RSA-2048 key, PKCS#8 PEM, from `openssl genpkey`.
fn new_rsa_pem() -> String {
    let out = Command::new(super::tool("openssl"))
        .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])
        .output()
        .expect("run openssl genpkey");
    assert!(
        out.status.success(),
        "openssl genpkey: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("PEM is ASCII")
}

/// A serial number unique in this run and across runs: 0x01, the time in ns, a counter (positive, 13 bytes).
fn unique_serial() -> SerialNumber {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
    let mut bytes = vec![0x01];
    bytes.extend_from_slice(&u64::try_from(nanos).unwrap_or_default().to_be_bytes());
    bytes.extend_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_be_bytes());
    SerialNumber::from_slice(&bytes)
}

/// Whether `name` would become an IP SAN (rcgen's rule) rather than a DNS SAN.
pub(crate) fn is_ip_name(name: &str) -> bool {
    name.parse::<IpAddr>().is_ok()
}

//! Signed .rdp files, the way Windows' `rdpsign.exe` signs them: pure functions from an [`RdpDocument`] and a
//! certificate with its private key to the `signscope` and `signature` properties. Reading PEM or PFX files is
//! the launcher's job; this module gets DER bytes.
//!
//! The format is not documented by Microsoft. What rdpl writes, and where each detail comes from:
//! - **Which properties are signed, and their `signscope` names**: [`SIGNED`], in that order. The list and the
//!   name mapping are rdpsign.exe's as reverse-engineered by Norbert Federa's `rdpsign`
//!   (github.com/nfedera/rdpsign, rdpsign.py `SECURE_SETTINGS`; the same list in andrewheberle/rdpsign
//!   rdpsign.go), plus `RedirectWebAuthn` and `EnableRdsAadAuth`, which current mstsc also requires to be
//!   signed when present (nfedera/rdpsign pull requests #2-#4, April 2026: "signatures were invalid for RDP
//!   files that included either of these settings"). A signed file made by rdpsign.exe quoted in
//!   mRemoteNG issue #1295 lists its scope in this same order (`Full Address,Alternate Full Address,Use
//!   Redirection Server Name,Negotiate Security Layer,...`), not in file order.
//! - **`alternate full address`**: when the file has a `full address` but no `alternate full address`, one
//!   with the same value is added and signed, so nobody can add an unsigned alternate address later
//!   (rdpsign.py `validateRDP`, "Prevent bypass attacks"; the quoted rdpsign.exe scope has it too).
//! - **The signed content**: the signed lines (`name:type:value`, as written in the file) each followed by
//!   CRLF, then the line `signscope:s:NAMES` followed by CRLF, then one NUL character, all encoded as
//!   UTF-16LE without a byte order mark (rdpsign.py `generateRDPSig` `msgtext`; rdpsign.go `msgText`).
//! - **The signature**: a detached CMS (PKCS #7) SignedData, SHA-256, the signer's certificate included, no
//!   signed attributes (rdpsign.py signs with `openssl smime -sign -binary -noattr -nosmimecap -outform DER`;
//!   rdpsign.go builds the same SignedData by hand with SHA-256 and rsaEncryption).
//! - **The `signature` value**: base64 (standard alphabet, padded, no line breaks) of a 12-byte header
//!   followed by the DER: the little-endian DWORDs `0x00010001`, `0x00000001` and the DER's length, i.e.
//!   `01 00 01 00 01 00 00 00 LL LL LL LL` (rdpsign.py and rdpsign.go; the meaning of the first two DWORDs
//!   is unknown to both).
//!
//! Randomness comes from the OS through ring's `SystemRandom` (RSA blinding, ECDSA nonces); key bytes live in
//! [`PrivateKeyDer`] (zeroized on drop, redacted in `Debug`) and ring's key pairs, and are never written.
//!
//! Keys: RSA (PKCS #1 v1.5 with SHA-256, what rdpsign.exe and every reimplementation use) and ECDSA P-256
//! with SHA-256 (valid CMS that OpenSSL verifies; whether mstsc accepts it is not known).

use base64::Engine as _;
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode as _, Encode as _};
use ring::rand::SystemRandom;
use ring::signature::{self as sig, KeyPair as _};
use x509_cert::Certificate;
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::parse::Value;
use super::render::RdpDocument;

/// The properties rdpsign.exe signs when they are in the file: (catalogue name, name in `signscope`), in
/// `signscope` order. Sources in the module documentation.
///
/// rdpsign.py writes `remoteapplicationexpandworkingdir` with type `s`; the property is an integer (Microsoft
/// Learn), so it is matched by name here, whatever its type.
pub const SIGNED: &[(&str, &str)] = &[
    ("full address", "Full Address"),
    ("alternate full address", "Alternate Full Address"),
    ("pcb", "PCB"),
    ("use redirection server name", "Use Redirection Server Name"),
    ("server port", "Server Port"),
    ("negotiate security layer", "Negotiate Security Layer"),
    ("enablecredsspsupport", "EnableCredSspSupport"),
    ("disableconnectionsharing", "DisableConnectionSharing"),
    ("autoreconnection enabled", "AutoReconnection Enabled"),
    ("gatewayhostname", "GatewayHostname"),
    ("gatewayusagemethod", "GatewayUsageMethod"),
    ("gatewayprofileusagemethod", "GatewayProfileUsageMethod"),
    ("gatewaycredentialssource", "GatewayCredentialsSource"),
    ("support url", "Support URL"),
    ("promptcredentialonce", "PromptCredentialOnce"),
    ("require pre-authentication", "Require pre-authentication"),
    (
        "pre-authentication server address",
        "Pre-authentication server address",
    ),
    ("alternate shell", "Alternate Shell"),
    ("shell working directory", "Shell Working Directory"),
    ("remoteapplicationprogram", "RemoteApplicationProgram"),
    (
        "remoteapplicationexpandworkingdir",
        "RemoteApplicationExpandWorkingdir",
    ),
    ("remoteapplicationmode", "RemoteApplicationMode"),
    ("remoteapplicationguid", "RemoteApplicationGuid"),
    ("remoteapplicationname", "RemoteApplicationName"),
    ("remoteapplicationicon", "RemoteApplicationIcon"),
    ("remoteapplicationfile", "RemoteApplicationFile"),
    (
        "remoteapplicationfileextensions",
        "RemoteApplicationFileExtensions",
    ),
    ("remoteapplicationcmdline", "RemoteApplicationCmdLine"),
    ("remoteapplicationexpandcmdline", "RemoteApplicationExpandCmdLine"),
    ("prompt for credentials", "Prompt For Credentials"),
    ("authentication level", "Authentication Level"),
    ("audiomode", "AudioMode"),
    ("redirectdrives", "RedirectDrives"),
    ("redirectprinters", "RedirectPrinters"),
    ("redirectcomports", "RedirectCOMPorts"),
    ("redirectsmartcards", "RedirectSmartCards"),
    ("redirectposdevices", "RedirectPOSDevices"),
    ("redirectclipboard", "RedirectClipboard"),
    ("devicestoredirect", "DevicesToRedirect"),
    ("drivestoredirect", "DrivesToRedirect"),
    ("loadbalanceinfo", "LoadBalanceInfo"),
    ("redirectdirectx", "RedirectDirectX"),
    ("rdgiskdcproxy", "RDGIsKDCProxy"),
    ("kdcproxyname", "KDCProxyName"),
    ("eventloguploadaddress", "EventLogUploadAddress"),
    ("enablerdsaadauth", "EnableRdsAadAuth"),
    ("redirectwebauthn", "RedirectWebAuthn"),
];

/// The first 8 bytes of the `signature` blob, before the DER length (meaning unknown; see the module docs).
pub const HEADER_MAGIC: [u8; 8] = [0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00];

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");

/// Why a document can't be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("the certificate can't be read: {0}")]
    Certificate(String),
    #[error("the private key can't be used: {0}")]
    Key(String),
    #[error("the private key does not belong to the certificate")]
    KeyMismatch,
    #[error("the certificate's key is {0}; rdpl signs with RSA or ECDSA P-256 keys")]
    UnsupportedKey(&'static str),
    #[error("the document has none of the properties a signature covers (no `full address`)")]
    NothingToSign,
    #[error("signing failed")]
    Signing,
    #[error("the signature can't be encoded: {0}")]
    Encoding(String),
}

/// A private key as DER, the way PEM files and PFX bags carry it.
#[derive(Clone, PartialEq, Eq)]
pub enum PrivateKeyDer {
    /// PKCS #8 `PrivateKeyInfo` (`BEGIN PRIVATE KEY`; what PFX files hold): RSA or EC P-256.
    Pkcs8(Vec<u8>),
    /// PKCS #1 `RSAPrivateKey` (`BEGIN RSA PRIVATE KEY`).
    Pkcs1(Vec<u8>),
}

impl Drop for PrivateKeyDer {
    fn drop(&mut self) {
        match self {
            PrivateKeyDer::Pkcs8(b) | PrivateKeyDer::Pkcs1(b) => zeroize::Zeroize::zeroize(b),
        }
    }
}

impl std::fmt::Debug for PrivateKeyDer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PrivateKeyDer::Pkcs8(_) => "PrivateKeyDer::Pkcs8(<redacted>)",
            PrivateKeyDer::Pkcs1(_) => "PrivateKeyDer::Pkcs1(<redacted>)",
        })
    }
}

enum Key {
    Rsa(sig::RsaKeyPair),
    EcP256(sig::EcdsaKeyPair),
}

/// A signing certificate with its private key, checked to belong together.
pub struct Signer {
    cert_der: Vec<u8>,
    cert: Certificate,
    key: Key,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("thumbprint", &self.thumbprint())
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// Pairs a DER certificate with its private key; errors when the key is not the certificate's, or is
    /// neither RSA nor ECDSA P-256.
    pub fn new(cert_der: &[u8], key: &PrivateKeyDer) -> Result<Signer, SignError> {
        let cert = Certificate::from_der(cert_der).map_err(|e| SignError::Certificate(e.to_string()))?;
        let spki = &cert.tbs_certificate().subject_public_key_info();
        let cert_public = spki.subject_public_key.raw_bytes();
        let rng = SystemRandom::new();
        let key = match (spki.algorithm.oid, key) {
            (RSA_ENCRYPTION, PrivateKeyDer::Pkcs8(der)) => {
                Key::Rsa(sig::RsaKeyPair::from_pkcs8(der).map_err(key_error)?)
            }
            (RSA_ENCRYPTION, PrivateKeyDer::Pkcs1(der)) => {
                Key::Rsa(sig::RsaKeyPair::from_der(der).map_err(|e| SignError::Key(e.to_string()))?)
            }
            (EC_PUBLIC_KEY, PrivateKeyDer::Pkcs8(der)) => Key::EcP256(
                sig::EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, der, &rng).map_err(
                    |e| match key_error(e) {
                        SignError::Key(e) => {
                            SignError::Key(format!("{e} (rdpl signs with P-256 EC keys only)"))
                        }
                        other => other,
                    },
                )?,
            ),
            (EC_PUBLIC_KEY, PrivateKeyDer::Pkcs1(_)) => return Err(SignError::KeyMismatch),
            (oid, _) => {
                return Err(SignError::UnsupportedKey(match oid.to_string().as_str() {
                    "1.3.101.112" => "Ed25519",
                    "1.2.840.10040.4.1" => "DSA",
                    _ => "of an unknown type",
                }));
            }
        };
        let key_public = match &key {
            Key::Rsa(k) => k.public_key().as_ref(),
            Key::EcP256(k) => k.public_key().as_ref(),
        };
        if key_public != cert_public {
            return Err(SignError::KeyMismatch);
        }
        Ok(Signer {
            cert_der: cert_der.to_vec(),
            cert,
            key,
        })
    }

    /// The certificate's SHA-1 thumbprint in upper-case hex: what the "Specify SHA1 thumbprints of
    /// certificates representing trusted .rdp publishers" policy lists.
    pub fn thumbprint(&self) -> String {
        thumbprint(&self.cert_der)
    }

    /// The certificate's subject, as text.
    pub fn subject(&self) -> String {
        self.cert.tbs_certificate().subject().to_string()
    }

    /// The certificate, DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    fn sign_raw(&self, content: &[u8]) -> Result<(ObjectIdentifier, Vec<u8>), SignError> {
        let rng = SystemRandom::new();
        match &self.key {
            Key::Rsa(k) => {
                let mut out = vec![0; k.public().modulus_len()];
                k.sign(&sig::RSA_PKCS1_SHA256, &rng, content, &mut out)
                    .map_err(|_| SignError::Signing)?;
                Ok((RSA_ENCRYPTION, out))
            }
            Key::EcP256(k) => {
                let s = k.sign(&rng, content).map_err(|_| SignError::Signing)?;
                Ok((ECDSA_WITH_SHA256, s.as_ref().to_vec()))
            }
        }
    }
}

/// A key of another algorithm than the certificate's is not its key.
fn key_error(e: ring::error::KeyRejected) -> SignError {
    if e.to_string() == "WrongAlgorithm" {
        SignError::KeyMismatch
    } else {
        SignError::Key(e.to_string())
    }
}

/// The SHA-1 thumbprint of a DER certificate, upper-case hex (as Windows shows and the policy expects).
pub fn thumbprint(cert_der: &[u8]) -> String {
    hex::encode_upper(ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        cert_der,
    ))
}

/// What a signature covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedContent {
    /// The `signscope` value: the signed properties' names, comma-separated, no spaces.
    pub scope: String,
    /// The bytes the CMS signature is computed over (UTF-16LE, see the module documentation).
    pub content: Vec<u8>,
}

/// The content a signature over `doc` covers, exactly as rdpsign.exe builds it. `doc` is taken as it will be
/// written: add the `alternate full address` first ([`prepare`]) when signing.
pub fn signed_content(doc: &RdpDocument) -> SignedContent {
    let mut names = Vec::new();
    let mut text = String::new();
    for (name, scope_name) in SIGNED {
        if let Some(value) = doc.get(name) {
            names.push(*scope_name);
            text.push_str(&super::render::line(name, value));
            text.push_str("\r\n");
        }
    }
    let scope = names.join(",");
    text.push_str("signscope:s:");
    text.push_str(&scope);
    text.push_str("\r\n\0");
    SignedContent {
        scope,
        content: text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
    }
}

/// The document as it is signed: without an earlier signature, and with `alternate full address` set to the
/// `full address` when it has none (see the module documentation).
pub fn prepare(doc: &RdpDocument) -> Result<RdpDocument, SignError> {
    let mut doc = doc.clone();
    doc.remove_signature();
    let full = doc.get("full address").cloned().ok_or(SignError::NothingToSign)?;
    if doc.get("alternate full address").is_none() {
        doc.set("alternate full address", full)
            .map_err(|e| SignError::Encoding(e.to_string()))?;
    }
    Ok(doc)
}

/// The `signature` blob around a DER SignedData: the 12-byte header, then the DER.
pub fn signature_blob(der: &[u8]) -> Vec<u8> {
    let mut blob = Vec::with_capacity(12 + der.len());
    blob.extend_from_slice(&HEADER_MAGIC);
    // A DER over 4 GiB can't happen: a document is at most 1 MiB.
    blob.extend_from_slice(&u32::try_from(der.len()).unwrap_or(u32::MAX).to_le_bytes());
    blob.extend_from_slice(der);
    blob
}

/// Takes a `signature` value apart: the DER SignedData inside, when the header is rdpsign's and the length
/// matches. Whitespace inside the value (rdpsign.exe may wrap it) is ignored.
pub fn signature_der(value: &str) -> Option<Vec<u8>> {
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    let blob = base64::engine::general_purpose::STANDARD.decode(compact).ok()?;
    let (header, der) = blob.split_at_checked(12)?;
    let len = u32::from_le_bytes(header[8..12].try_into().ok()?);
    (header[..8] == HEADER_MAGIC && usize::try_from(len).ok()? == der.len()).then(|| der.to_vec())
}

/// A detached CMS SignedData over `content`: SHA-256, the certificate included, no signed attributes.
pub fn cms_signature(signer: &Signer, content: &[u8]) -> Result<Vec<u8>, SignError> {
    let enc = |e: der::Error| SignError::Encoding(e.to_string());
    let (sig_alg, signature) = signer.sign_raw(content)?;
    // rsaEncryption and SHA-256 carry NULL parameters in CMS (RFC 3370 section 3.2, RFC 5754 section 2);
    // ecdsa-with-SHA256 has none (RFC 5758 section 3.2).
    let null = Some(Any::from(der::asn1::Null));
    let sha256 = AlgorithmIdentifierOwned {
        oid: ID_SHA256,
        parameters: null.clone(),
    };
    let signature_algorithm = AlgorithmIdentifierOwned {
        oid: sig_alg,
        parameters: if sig_alg == RSA_ENCRYPTION { null } else { None },
    };
    let tbs = signer.cert.tbs_certificate();
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        }),
        digest_alg: sha256.clone(),
        signed_attrs: None,
        signature_algorithm,
        signature: OctetString::new(signature).map_err(enc)?,
        unsigned_attrs: None,
    };
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![sha256]).map_err(enc)?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet(
            SetOfVec::try_from(vec![CertificateChoices::Certificate(signer.cert.clone())]).map_err(enc)?,
        )),
        crls: None,
        signer_infos: cms::signed_data::SignerInfos(SetOfVec::try_from(vec![signer_info]).map_err(enc)?),
    };
    let content_info = ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data).map_err(enc)?,
    };
    content_info.to_der().map_err(enc)
}

/// Signs a document: the result has `alternate full address` when it had none, then `signscope` and
/// `signature` over the signed properties. Any later change to the result drops the signature again.
pub fn sign(doc: &RdpDocument, signer: &Signer) -> Result<RdpDocument, SignError> {
    let mut doc = prepare(doc)?;
    let SignedContent { scope, content } = signed_content(&doc);
    let der = cms_signature(signer, &content)?;
    let value = base64::engine::general_purpose::STANDARD.encode(signature_blob(&der));
    doc.set_signature(scope, value);
    Ok(doc)
}

/// The `signscope` and `signature` values of a signed document.
pub fn signature_of(doc: &RdpDocument) -> Option<(&str, &str)> {
    match (doc.get("signscope"), doc.get("signature")) {
        (Some(Value::Str(scope)), Some(Value::Str(sig))) => Some((scope, sig)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdp::catalogue;

    fn doc(props: &[(&str, Value)]) -> RdpDocument {
        let mut d = RdpDocument::new();
        for (n, v) in props {
            d.set(n, v.clone()).expect("valid");
        }
        d
    }

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn every_signed_name_is_in_the_catalogue() {
        for (name, _) in SIGNED {
            assert_eq!(catalogue::lookup(name).map(|s| s.name), Some(*name), "{name}");
        }
    }

    #[test]
    fn content_is_the_signed_lines_in_scope_order_then_signscope_then_nul() {
        let d = doc(&[
            ("username", Value::Str("bob".into())),
            ("redirectclipboard", Value::Int(0)),
            ("full address", Value::Str("host.example:3390".into())),
            ("session bpp", Value::Int(32)),
            ("authentication level", Value::Int(2)),
        ]);
        let d = prepare(&d).expect("has full address");
        let c = signed_content(&d);
        assert_eq!(
            c.scope,
            "Full Address,Alternate Full Address,Authentication Level,RedirectClipboard"
        );
        // By hand: UTF-16LE, each code unit little-endian, the ASCII byte then 0x00.
        let expected = "full address:s:host.example:3390\r\nalternate full address:s:host.example:3390\r\n\
                        authentication level:i:2\r\nredirectclipboard:i:0\r\n\
                        signscope:s:Full Address,Alternate Full Address,Authentication Level,RedirectClipboard\r\n\0";
        assert_eq!(c.content, utf16(expected));
        assert_eq!(&c.content[..6], b"f\0u\0l\0");
        assert_eq!(&c.content[c.content.len() - 6..], b"\r\0\n\0\0\0");
        // Unsigned properties (user name, colour depth) are outside the content.
        assert!(
            !String::from_utf16_lossy(
                &c.content
                    .chunks(2)
                    .map(|b| u16::from_le_bytes([b[0], b[1]]))
                    .collect::<Vec<_>>()
            )
            .contains("username")
        );
    }

    #[test]
    fn an_existing_alternate_address_is_kept_and_a_document_without_address_refused() {
        let d = doc(&[
            ("full address", Value::Str("a".into())),
            ("alternate full address", Value::Str("b".into())),
        ]);
        assert_eq!(
            prepare(&d).expect("ok").get("alternate full address"),
            Some(&Value::Str("b".into()))
        );
        assert_eq!(prepare(&RdpDocument::new()), Err(SignError::NothingToSign));
    }

    #[test]
    fn blob_header_is_rdpsigns_and_round_trips() {
        let der = [0x30, 0x03, 0x02, 0x01, 0x05];
        let blob = signature_blob(&der);
        assert_eq!(&blob[..12], &[1, 0, 1, 0, 1, 0, 0, 0, 5, 0, 0, 0]);
        assert_eq!(&blob[12..], &der);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&blob);
        assert_eq!(signature_der(&b64).as_deref(), Some(&der[..]));
        // rdpsign.exe-style wrapping with spaces is tolerated; a wrong length is not.
        let wrapped = format!("{}  {}", &b64[..8], &b64[8..]);
        assert_eq!(signature_der(&wrapped).as_deref(), Some(&der[..]));
        let mut bad = blob.clone();
        bad[8] = 6;
        assert_eq!(
            signature_der(&base64::engine::general_purpose::STANDARD.encode(bad)),
            None
        );
    }

    #[test]
    fn signs_a_detached_cms_without_signed_attributes_over_the_content() {
        let key = rcgen::KeyPair::generate().expect("P-256 key");
        let cert = rcgen::CertificateParams::new(vec!["publisher.test".into()])
            .expect("params")
            .self_signed(&key)
            .expect("cert");
        let signer = Signer::new(cert.der(), &PrivateKeyDer::Pkcs8(key.serialize_der())).expect("pair");
        let d = doc(&[
            ("full address", Value::Str("h".into())),
            ("username", Value::Str("u".into())),
        ]);
        let signed = sign(&d, &signer).expect("signs");
        let (scope, value) = signature_of(&signed).expect("signed");
        assert_eq!(scope, "Full Address,Alternate Full Address");
        assert!(!value.contains(char::is_whitespace));
        // The rendered file ends with the two lines, after every other property.
        assert!(
            signed
                .to_text()
                .ends_with(&format!("signscope:s:{scope}\r\nsignature:s:{value}\r\n"))
        );
        let der = signature_der(value).expect("rdpsign blob");
        let ci = ContentInfo::from_der(&der).expect("ContentInfo");
        assert_eq!(ci.content_type, ID_SIGNED_DATA);
        let sd: SignedData = ci.content.decode_as().expect("SignedData");
        assert_eq!(sd.encap_content_info.econtent, None, "detached");
        let si = sd.signer_infos.0.get(0).expect("one signer");
        assert!(si.signed_attrs.is_none());
        assert_eq!(
            (si.digest_alg.oid, si.signature_algorithm.oid),
            (ID_SHA256, ECDSA_WITH_SHA256)
        );
        // The signature is over the content itself (no signed attributes), checked with the certificate's key.
        let content = signed_content(&prepare(&d).expect("prepare")).content;
        let public = sig::UnparsedPublicKey::new(&sig::ECDSA_P256_SHA256_ASN1, key.public_key_raw());
        public
            .verify(&content, si.signature.as_bytes())
            .expect("verifies");
        assert!(public.verify(b"other", si.signature.as_bytes()).is_err());
        // Any change drops the signature; a key of another certificate is refused.
        let mut changed = signed.clone();
        changed.set("username", Value::Str("v".into())).expect("valid");
        assert_eq!(signature_of(&changed), None);
        let other = rcgen::KeyPair::generate().expect("key");
        assert_eq!(
            Signer::new(cert.der(), &PrivateKeyDer::Pkcs8(other.serialize_der())).err(),
            Some(SignError::KeyMismatch)
        );
    }

    #[test]
    fn thumbprint_is_upper_hex_sha1() {
        assert_eq!(thumbprint(b"abc"), "A9993E364706816ABA3E25717850C26C9CD0D89D");
    }
}

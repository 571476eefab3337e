//! Loading a signing certificate and its private key for signed .rdp files (`rdpl rdp --sign`, a profile's
//! `sign.cert`): the file I/O and format detection around the pure signer in `rdpl_profiles::rdp::sign`.
//!
//! Accepted: a PEM file with the certificate and its private key (PKCS #8 `PRIVATE KEY` or PKCS #1
//! `RSA PRIVATE KEY`); a PEM certificate plus the key in its own PEM file; a PFX / PKCS #12 file with the key
//! (Windows' "Export with private key"; AES or legacy 3DES/RC2 encryption). A PFX password comes only from
//! standard input (`--pfx-password-stdin`) or `RDPL_PFX_PASSWORD`, never from the command line, where other
//! users could read it in the process list.

use std::path::Path;

use anyhow::anyhow;
use rdpl_profiles::profile::SignSettings;
use rdpl_profiles::rdp::render::RdpDocument;
use rdpl_profiles::rdp::sign::{self, PrivateKeyDer, Signer};
use rustls::pki_types::pem::{self, PemObject as _};
use rustls::pki_types::{CertificateDer, PrivateKeyDer as PemKey};
use secrecy::{ExposeSecret as _, SecretString};

use crate::config::Config;
use crate::exit::CliError;
use crate::ui::Ui;

/// Certificates and keys are a few KiB; a PFX with a long chain maybe 20. Anything far larger is not one.
const MAX_BYTES: u64 = 1024 * 1024;

/// Where the signing certificate and key are.
#[derive(Debug, Clone, Copy)]
pub struct SignSource<'a> {
    /// The certificate: PEM (with or without the key) or PFX.
    pub cert: &'a Path,
    /// The PEM private key, when the certificate file has none.
    pub key: Option<&'a Path>,
}

fn read(path: &Path, what: &str) -> Result<zeroize::Zeroizing<Vec<u8>>, CliError> {
    // A regular file of at most MAX_BYTES: a FIFO or a device would block or never end.
    let buf = zeroize::Zeroizing::new(
        rdpl_profiles::files::read_regular(path, MAX_BYTES)
            .map_err(|e| CliError::usage(anyhow!(e).context(format!("can't read the {what}"))))?,
    );
    if buf.len() as u64 > MAX_BYTES {
        return Err(CliError::usage(anyhow!(
            "{}: over {MAX_BYTES} bytes; not a certificate or key file",
            path.display()
        )));
    }
    Ok(buf)
}

fn is_pem(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

fn pem_key(bytes: &[u8], path: &Path) -> Result<Option<PrivateKeyDer>, CliError> {
    if bytes.windows(30).any(|w| w == b"-----BEGIN ENCRYPTED PRIVATE K") {
        return Err(CliError::usage(anyhow!(
            "{}: the private key is encrypted; rdpl reads unencrypted PEM keys or password-protected PFX files",
            path.display()
        ))
        .help("export a PFX instead, or decrypt the key: openssl pkcs8 -in KEY -out KEY.plain"));
    }
    match PemKey::from_pem_slice(bytes) {
        Ok(PemKey::Pkcs8(k)) => Ok(Some(PrivateKeyDer::Pkcs8(k.secret_pkcs8_der().to_vec()))),
        Ok(PemKey::Pkcs1(k)) => Ok(Some(PrivateKeyDer::Pkcs1(k.secret_pkcs1_der().to_vec()))),
        Ok(PemKey::Sec1(_)) => Err(CliError::usage(anyhow!(
            "{}: an `EC PRIVATE KEY` (SEC1) key; rdpl reads EC keys as PKCS #8",
            path.display()
        ))
        .help("convert it: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.p8")),
        Ok(_) => Err(CliError::usage(anyhow!(
            "{}: unsupported private key format",
            path.display()
        ))),
        Err(pem::Error::NoItemsFound) => Ok(None),
        Err(e) => Err(CliError::usage(anyhow!("{}: bad PEM: {e:?}", path.display()))),
    }
}

/// Loads the certificate and key and pairs them. `password` is the PFX password, if any was given.
pub fn load_signer(src: SignSource<'_>, password: Option<&SecretString>) -> Result<Signer, CliError> {
    let cert_bytes = read(src.cert, "certificate")?;
    let (cert_der, key) = if is_pem(&cert_bytes) {
        let cert = CertificateDer::pem_slice_iter(&cert_bytes)
            .next()
            .transpose()
            .map_err(|e| CliError::usage(anyhow!("{}: bad PEM: {e:?}", src.cert.display())))?
            .ok_or_else(|| {
                CliError::usage(anyhow!("{}: no `BEGIN CERTIFICATE` block", src.cert.display()))
            })?;
        let key = match src.key {
            Some(k) => pem_key(&read(k, "private key")?, k)?
                .ok_or_else(|| CliError::usage(anyhow!("{}: no private key in it", k.display())))?,
            None => pem_key(&cert_bytes, src.cert)?.ok_or_else(|| {
                CliError::usage(anyhow!(
                    "{}: a certificate without its private key",
                    src.cert.display()
                ))
                .help("pass the key file with --key KEY, or use a PFX file that holds both")
            })?,
        };
        (cert.to_vec(), key)
    } else {
        if src.key.is_some() {
            return Err(CliError::usage(anyhow!(
                "{}: a PFX file carries its own key; --key is for PEM certificates",
                src.cert.display()
            )));
        }
        let pw = password.map(|p| p.expose_secret()).unwrap_or("");
        let store =
            p12_keystore::KeyStore::from_pkcs12(&cert_bytes, pw, p12_keystore::Pkcs12ImportPolicy::Strict)
                .map_err(|e| {
                    let err = CliError::usage(anyhow!(
                        "{}: can't open it as PFX/PKCS#12 ({e})",
                        src.cert.display()
                    ));
                    if password.is_none() {
                        err.help(
                            "if it has a password, pass it with --pfx-password-stdin or in RDPL_PFX_PASSWORD",
                        )
                    } else {
                        err.help("check the password; a PEM file must contain `-----BEGIN CERTIFICATE-----`")
                    }
                })?;
        let (_, chain) = store.private_key_chain().ok_or_else(|| {
            CliError::usage(anyhow!(
                "{}: the PFX holds no private key with its certificate",
                src.cert.display()
            ))
            .help("export the certificate again with its private key")
        })?;
        let cert = chain.certs().first().ok_or_else(|| {
            CliError::usage(anyhow!("{}: the PFX key has no certificate", src.cert.display()))
        })?;
        (
            cert.as_der().to_vec(),
            PrivateKeyDer::Pkcs8(chain.key().as_der().to_vec()),
        )
    };
    Signer::new(&cert_der, &key).map_err(|e| CliError::usage(anyhow!("{}: {e}", src.cert.display())))
}

/// Reads a PFX password: one line from standard input.
pub fn password_from_stdin() -> Result<SecretString, CliError> {
    crate::credentials::read_secret_line().map_err(|e| {
        CliError::usage(anyhow!(e).context("could not read the PFX password from standard input"))
    })
}

/// Signs `doc` when a certificate is given on the command line (`explicit`) or named by the profile; returns
/// it unchanged otherwise. Tells the user which certificate signed and its thumbprint.
pub fn sign_if_asked(
    doc: RdpDocument,
    explicit: Option<SignSource<'_>>,
    profile: Option<&SignSettings>,
    password_stdin: bool,
    config: &Config,
    ui: &mut Ui,
) -> Result<RdpDocument, CliError> {
    let src = match (explicit, profile) {
        (Some(src), _) => src,
        (None, Some(s)) => SignSource {
            cert: &s.cert,
            key: s.key.as_deref(),
        },
        (None, None) if password_stdin => {
            return Err(
                CliError::usage(anyhow!("--pfx-password-stdin without a certificate to sign with")).help(
                    "pass --sign CERT, or set one in the profile: rdpl profile set NAME sign.cert=PATH",
                ),
            );
        }
        (None, None) => return Ok(doc),
    };
    let stdin_pw = if password_stdin {
        Some(password_from_stdin()?)
    } else {
        None
    };
    let signer = load_signer(src, stdin_pw.as_ref().or(config.pfx_password.as_ref()))?;
    let signed =
        sign::sign(&doc, &signer).map_err(|e| CliError::usage(anyhow!("can't sign the .rdp file: {e}")))?;
    tracing::debug!(thumbprint = %signer.thumbprint(), "signed the .rdp file");
    ui.note(format!(
        "signed by {} (SHA-1 thumbprint {}: list it in the \"trusted .rdp publishers\" policy)",
        signer.subject(),
        signer.thumbprint()
    ));
    Ok(signed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_with_key_and_pem_plus_key_file_load() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec!["publisher.example".into()])
            .expect("params")
            .self_signed(&key)
            .expect("cert");
        let both = dir.path().join("both.pem");
        std::fs::write(&both, format!("{}{}", cert.pem(), key.serialize_pem())).expect("write");
        let signer = load_signer(
            SignSource {
                cert: &both,
                key: None,
            },
            None,
        )
        .expect("loads");
        assert_eq!(signer.cert_der(), cert.der().as_ref());
        let c = dir.path().join("c.pem");
        let k = dir.path().join("k.pem");
        std::fs::write(&c, cert.pem()).expect("write");
        std::fs::write(&k, key.serialize_pem()).expect("write");
        assert!(
            load_signer(
                SignSource {
                    cert: &c,
                    key: Some(&k)
                },
                None
            )
            .is_ok()
        );
        let err = load_signer(SignSource { cert: &c, key: None }, None).expect_err("no key");
        assert!(
            err.error.to_string().contains("without its private key"),
            "{}",
            err.error
        );
        let other = rcgen::KeyPair::generate().expect("key");
        std::fs::write(&k, other.serialize_pem()).expect("write");
        let err = load_signer(
            SignSource {
                cert: &c,
                key: Some(&k),
            },
            None,
        )
        .expect_err("mismatch");
        assert!(err.error.to_string().contains("does not belong"), "{}", err.error);
    }
}

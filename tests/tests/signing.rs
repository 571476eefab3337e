//! Signed .rdp files end to end: `rdpl rdp --sign` with rcgen certificates (RSA and ECDSA, PEM and PFX), the
//! signature checked by OpenSSL against content rebuilt from the written file alone (not with rdpl's code), a
//! profile's `sign.cert`, and the sanitizer dropping the signature of a file it rewrites.

use std::path::Path;
use std::process::Command;

use base64::Engine as _;

use crate::connect::run_with_stdin;
use crate::support::{self, certs};
use crate::{Run, World};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The text of a UTF-16LE file with BOM.
fn utf16_file(path: &Path) -> String {
    let bytes = std::fs::read(path).expect("written");
    assert_eq!(&bytes[..2], &[0xFF, 0xFE], "UTF-16LE with BOM");
    let units: Vec<u16> = bytes[2..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).expect("utf-16")
}

/// The signed content and the DER SignedData, rebuilt from the file the way a verifier would: each name in
/// `signscope` is a property name with other capitals ("Full Address" = `full address`, "RedirectCOMPorts" =
/// `redirectcomports`), its line as written plus CRLF, then the `signscope` line plus CRLF, then a NUL, all
/// UTF-16LE; the `signature` value is base64 of `01 00 01 00 01 00 00 00`, the DER length (u32 LE), the DER.
fn rebuild(text: &str) -> (Vec<u8>, Vec<u8>) {
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    let value = |name: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(&format!("{name}:s:")))
            .unwrap_or_else(|| panic!("no {name} line in\n{text}"))
    };
    let scope = value("signscope");
    let mut content = String::new();
    for name in scope.split(',') {
        let key = name.to_ascii_lowercase();
        let line = lines
            .iter()
            .find(|l| l.split(':').next() == Some(key.as_str()))
            .unwrap_or_else(|| panic!("signscope names {name}, which is not in the file"));
        content.push_str(line);
        content.push_str("\r\n");
    }
    content.push_str(&format!("signscope:s:{scope}\r\n\0"));
    let content: Vec<u8> = content.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let blob = base64::engine::general_purpose::STANDARD
        .decode(value("signature"))
        .expect("base64 without line breaks");
    assert_eq!(&blob[..8], &[1, 0, 1, 0, 1, 0, 0, 0], "rdpsign's header");
    let len = u32::from_le_bytes(blob[8..12].try_into().expect("4 bytes")) as usize;
    assert_eq!(len, blob.len() - 12, "the header's length is the DER's");
    (content, blob[12..].to_vec())
}

/// `openssl cms -verify` of a detached DER signature over `content`; whether it verified.
fn openssl_verifies(dir: &Path, content: &[u8], der: &[u8], ca: Option<&Path>) -> bool {
    let (c, d) = (dir.join("content.bin"), dir.join("sig.der"));
    std::fs::write(&c, content).expect("write content");
    std::fs::write(&d, der).expect("write der");
    let mut cmd = Command::new(support::tool("openssl"));
    cmd.args([
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        s(&d),
        "-content",
        s(&c),
    ])
    .args(["-out", s(&dir.join("verified.out"))]);
    match ca {
        // A self-signed publisher certificate as its own trust anchor; its EKU is not S/MIME's.
        Some(ca) => cmd.args(["-CAfile", s(ca), "-purpose", "any"]),
        None => cmd.arg("-noverify"),
    };
    let out = cmd.output().expect("run openssl");
    out.status.success()
}

/// `cert` and its key as `publisher.pfx` in the world, exported by openssl with the password
/// `pfx-secret-pw`.
fn make_pfx(w: &World, cert: &certs::TestCert) -> std::path::PathBuf {
    let pfx = w.path("publisher.pfx");
    let out = Command::new(support::tool("openssl"))
        .args([
            "pkcs12",
            "-export",
            "-in",
            s(&cert.cert_path()),
            "-inkey",
            s(&cert.key_path()),
        ])
        .args(["-out", s(&pfx), "-passout", "pass:pfx-secret-pw"])
        .output()
        .expect("openssl pkcs12");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    pfx
}

/// Checks a signed file: OpenSSL verifies it (and its certificate as trust anchor), and no longer after one
/// byte of the signed content changes.
fn assert_signed(w: &World, file: &Path, cert: &Path) {
    let text = utf16_file(file);
    assert!(
        text.contains("alternate full address:s:web01.corp.test\r\n"),
        "rdpsign's alternate address guard: {text}"
    );
    assert!(text.ends_with("\r\n"), "{text}");
    let (content, der) = rebuild(&text);
    let dir = w.path("verify");
    std::fs::create_dir_all(&dir).expect("mkdir");
    assert!(openssl_verifies(&dir, &content, &der, None), "openssl -noverify");
    assert!(
        openssl_verifies(&dir, &content, &der, Some(cert)),
        "openssl -CAfile"
    );
    let mut flipped = content.clone();
    flipped[2] ^= 0x01; // `full` -> `fwll`
    assert!(
        !openssl_verifies(&dir, &flipped, &der, None),
        "a changed byte must fail"
    );
}

#[test]
fn rdp_sign_writes_a_signature_openssl_verifies() {
    if !support::require_all(certs::NEEDS) {
        return;
    }
    let w = World::new();
    w.add_web01("alice", &[]);
    // RSA (what rdpsign.exe uses), certificate and key in separate PEM files.
    let rsa = certs::cert(&["publisher.corp.test"])
        .common_name("rdpl test publisher")
        .self_signed();
    let out = w.path("rsa.rdp");
    let r = w.run(&[
        "rdp",
        "web01",
        "--offline",
        "--sign",
        s(&rsa.cert_path()),
        "--key",
        s(&rsa.key_path()),
        "-o",
        s(&out),
    ]);
    r.expect(0);
    assert!(
        r.stderr().contains("signed by CN=rdpl test publisher") && r.stderr().contains("thumbprint"),
        "{}",
        r.stderr()
    );
    assert_signed(&w, &out, &rsa.cert_path());
    let text = utf16_file(&out);
    let scope = text
        .lines()
        .find_map(|l| l.strip_prefix("signscope:s:"))
        .expect("signscope");
    assert!(
        scope.starts_with("Full Address,Alternate Full Address,") && scope.contains("RedirectClipboard"),
        "{scope}"
    );
    assert!(!scope.contains("Username"), "user names are not signed: {scope}");

    // ECDSA P-256, certificate and key in one PEM file.
    let ec = certs::cert(&["publisher.corp.test"]).ecdsa().self_signed();
    let both = w.write("both.pem", format!("{}{}", ec.pem(), ec.key_pem()).as_bytes());
    let out = w.path("ec.rdp");
    w.run(&["rdp", "web01", "--offline", "--sign", s(&both), "-o", s(&out)])
        .expect(0);
    assert_signed(&w, &out, &ec.cert_path());

    // A key that is not the certificate's, and a certificate without a key: refused, nothing written.
    let out = w.path("bad.rdp");
    let r = w.run(&[
        "rdp",
        "web01",
        "--offline",
        "--sign",
        s(&rsa.cert_path()),
        "--key",
        s(&ec.key_path()),
        "-o",
        s(&out),
    ]);
    r.expect(2);
    assert!(
        r.stderr().contains("does not belong to the certificate"),
        "{}",
        r.stderr()
    );
    let r = w.run(&[
        "rdp",
        "web01",
        "--offline",
        "--sign",
        s(&rsa.cert_path()),
        "-o",
        s(&out),
    ]);
    r.expect(2);
    assert!(r.stderr().contains("--key"), "{}", r.stderr());
    assert!(!out.exists());
}

#[test]
fn pfx_password_comes_from_stdin_or_the_environment_only() {
    if !support::require_all(certs::NEEDS) {
        return;
    }
    let w = World::new();
    w.add_web01("alice", &[]);
    let cert = certs::cert(&["publisher.corp.test"]).self_signed();
    let pfx = make_pfx(&w, &cert);
    let file = w.path("pfx.rdp");
    let args = ["rdp", "web01", "--offline", "--sign", s(&pfx), "-o", s(&file)];

    // No password: refused, with the two ways to give one.
    let r = w.run(&args);
    r.expect(2);
    assert!(
        r.stderr().contains("--pfx-password-stdin") && r.stderr().contains("RDPL_PFX_PASSWORD"),
        "{}",
        r.stderr()
    );
    // From the environment.
    let mut c = w.cmd(&args);
    c.env("RDPL_PFX_PASSWORD", "pfx-secret-pw");
    Run(c.output().expect("run")).expect(0);
    assert_signed(&w, &file, &cert.cert_path());
    std::fs::remove_file(&file).expect("rm");
    // From standard input.
    let mut with_stdin = args.to_vec();
    with_stdin.push("--pfx-password-stdin");
    let r = run_with_stdin(w.cmd(&with_stdin), "pfx-secret-pw\n");
    r.expect(0);
    assert_signed(&w, &file, &cert.cert_path());
    assert!(!r.stderr().contains("pfx-secret-pw") && !r.stdout().contains("pfx-secret-pw"));
    // A wrong one.
    let r = run_with_stdin(w.cmd(&with_stdin), "wrong\n");
    r.expect(2);
    assert!(r.stderr().contains("check the password"), "{}", r.stderr());
}

#[test]
fn a_profile_signing_certificate_signs_and_the_sanitizer_drops_signatures() {
    if !support::require_all(certs::NEEDS) {
        return;
    }
    let w = World::new();
    w.add_web01("alice", &[]);
    let cert = certs::cert(&["publisher.corp.test"]).self_signed();
    w.run(&[
        "profile",
        "set",
        "web01",
        &format!("sign.cert={}", s(&cert.cert_path())),
        &format!("sign.key={}", s(&cert.key_path())),
    ])
    .expect(0);
    let r = w.run(&["profile", "set", "web01", "sign.cert=relative.pem"]);
    r.expect(2);
    assert!(r.stderr().contains("not an absolute path"), "{}", r.stderr());
    let file = w.path("web01.rdp");
    w.run(&["rdp", "web01", "--offline", "-o", s(&file)]).expect(0);
    assert_signed(&w, &file, &cert.cert_path());

    // The sanitizer rewrites the file (here: nothing to neutralise, yet a new rendering): no signature stays,
    // and the report says so.
    let clean = w.path("clean.rdp");
    let r = w.run(&["sanitize", s(&file), "-o", s(&clean)]);
    r.expect(0);
    let text = utf16_file(&clean);
    assert!(
        !text.contains("signature:s:") && !text.contains("signscope:s:"),
        "{text}"
    );
    assert!(text.contains("full address:s:web01.corp.test\r\n"), "{text}");
    assert!(
        r.stdout().contains("signature") && r.stdout().contains("unsigned"),
        "{}",
        r.stdout()
    );
    let r = w.run(&["sanitize", s(&file), "--json"]);
    let json = r.expect(0).json();
    let reasons: Vec<&str> = json["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["name"] == "signature" || c["name"] == "signscope")
        .map(|c| c["reason"].as_str().expect("reason"))
        .collect();
    assert_eq!(reasons, ["signature", "signature"], "{json}");
    // A changed signed file (a redirection turned on by hand) comes out unsigned and neutralised too.
    let tampered = utf16_file(&file).replace("redirectclipboard:i:0", "redirectclipboard:i:1");
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(tampered.encode_utf16().flat_map(u16::to_le_bytes));
    let tampered = w.write("tampered.rdp", &bytes);
    let r = w.run(&["sanitize", s(&tampered), "-o", s(&clean)]);
    r.expect(0);
    let text = utf16_file(&clean);
    assert!(
        !text.contains("signature:s:") && text.contains("redirectclipboard:i:0"),
        "{text}"
    );
}

#[test]
fn connect_signs_the_file_it_hands_to_mstsc() {
    if !support::require_all(support::Xrdp::NEEDS) || !support::require_all(certs::NEEDS) {
        return;
    }
    let w = World::new();
    let xrdp = support::Xrdp::builder()
        .security(support::SecurityLayer::Tls)
        .start();
    crate::connect::add_profile(&w, "web01", xrdp.addr(), "alice");
    let cert = certs::cert(&["publisher.corp.test"]).self_signed();
    let pfx = make_pfx(&w, &cert);
    w.run(&["profile", "set", "web01", &format!("sign.cert={}", s(&pfx))])
        .expect(0);
    let fakes = crate::connect::Fakes::install(&w, &["mstsc.exe"]);
    let mut c = fakes.cmd(&w, &["connect", "web01", "--with", "mstsc", "--timeout", "6s"]);
    c.env("RDPL_FAKE_EXIT", "0")
        .env("RDPL_PFX_PASSWORD", "pfx-secret-pw");
    let r = Run(c.output().expect("run"));
    r.expect(0);
    assert_handed_file_verifies(&w, &fakes, &cert.cert_path());
}

/// The one .rdp file the fake mstsc got is signed, and openssl verifies the signature with `ca` as the root.
fn assert_handed_file_verifies(w: &World, fakes: &crate::connect::Fakes, ca: &Path) {
    let copies = fakes.record("mstsc").rdp_copies();
    assert_eq!(copies.len(), 1);
    let file = w.write("handed.rdp", &copies[0]);
    let text = utf16_file(&file);
    assert!(text.contains("signature:s:"), "{text}");
    let (content, der) = rebuild(&text);
    let dir = w.path("verify");
    std::fs::create_dir_all(&dir).expect("mkdir");
    assert!(
        openssl_verifies(&dir, &content, &der, Some(ca)),
        "openssl verifies it with {}",
        ca.display()
    );
}

/// Without a certificate of its own, every file handed to mstsc is signed by rdpl's publisher, made on first
/// use (RSA, code signing, owner-only) and reused after; `integrate --trust-publisher` names its thumbprint.
#[test]
fn connect_signs_with_rdpls_own_publisher_without_set_up() {
    if !support::require_all(support::Xrdp::NEEDS) || !support::require_all(certs::NEEDS) {
        return;
    }
    let w = World::new();
    let xrdp = support::Xrdp::builder()
        .security(support::SecurityLayer::Tls)
        .start();
    crate::connect::add_profile(&w, "web01", xrdp.addr(), "alice");
    let fakes = crate::connect::Fakes::install(&w, &["mstsc.exe"]);
    let dry = Run(fakes
        .cmd(
            &w,
            &[
                "connect",
                "web01",
                "--with",
                "mstsc",
                "--dry-run",
                "--timeout",
                "6s",
            ],
        )
        .output()
        .expect("run"));
    dry.expect(0);
    assert!(
        dry.stderr()
            .contains("signed by rdpl's publisher, created on first use"),
        "{}",
        dry.stderr()
    );
    let publisher = w.config().join("publisher/rdpl-publisher.pem");
    assert!(!publisher.exists(), "a dry run creates nothing");

    let mut thumbprints = Vec::new();
    for first in [true, false] {
        let mut c = fakes.cmd(&w, &["connect", "web01", "--with", "mstsc", "--timeout", "6s"]);
        c.env("RDPL_FAKE_EXIT", "0");
        let r = Run(c.output().expect("run"));
        r.expect(0);
        assert_eq!(
            r.stderr().contains("created rdpl's .rdp publisher certificate"),
            first,
            "{}",
            r.stderr()
        );
        assert_handed_file_verifies(&w, &fakes, &publisher);
        let out = std::process::Command::new(support::tool("openssl"))
            .args([
                "x509",
                "-noout",
                "-fingerprint",
                "-sha1",
                "-ext",
                "extendedKeyUsage",
                "-in",
            ])
            .arg(&publisher)
            .output()
            .expect("openssl x509");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(text.contains("Code Signing"), "{text}");
        thumbprints.push(
            text.lines()
                .find_map(|l| l.split_once('=').filter(|(k, _)| k.contains("Fingerprint")))
                .map(|(_, v)| v.replace(':', ""))
                .expect("fingerprint"),
        );
        fakes.reset();
    }
    assert_eq!(thumbprints[0], thumbprints[1], "made once, reused");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&publisher).expect("meta").permissions().mode();
        assert_eq!(mode & 0o077, 0, "owner-only: {mode:o}");
    }
    let r = w.run(&["integrate", "--trust-publisher"]);
    r.expect(0);
    assert!(
        r.stdout()
            .contains(&format!("thumbprint  {} (SHA-1)", thumbprints[0])),
        "{}",
        r.stdout()
    );
    assert!(r.stdout().contains("reg add \"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services\" /v TrustedCertThumbprints"), "{}", r.stdout());
}

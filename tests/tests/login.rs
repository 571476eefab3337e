//! rdpl's own session end to end: `check --login` and `screenshot` against the FreeRDP shadow server (NLA,
//! CredSSP against a SAM file) and xrdp (TLS, no NLA), with the password from a real Secret Service.

use std::process::Command;

use serde_json::Value;

use crate::connect::{SECRET, add_profile, assert_secret_nowhere, run_with_stdin, with_env};
use crate::support::{self, SecretService, SecurityLayer, Shadow, Xrdp, Xvfb};
use crate::{Run, World};

fn login_of(r: &Run) -> Value {
    r.json()["login"].clone()
}

fn ids(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn cmd(w: &World, env: &[(String, String)], args: &[&str]) -> Command {
    with_env(w.cmd(args), env)
}

/// The NLA shadow server, a private Secret Service (kept alive by the returned guard), its environment, and a
/// world with profile `nla01` for the shadow server's user. `None` when a program is missing (skip locally).
type NlaWithKeyring = (Shadow, SecretService, Vec<(String, String)>, World);

fn nla_with_keyring() -> Option<NlaWithKeyring> {
    let mut needs = Shadow::NEEDS.to_vec();
    needs.extend(SecretService::NEEDS);
    if !support::require_all(&needs) {
        return None;
    }
    let shadow = Shadow::builder().start();
    let ss = SecretService::start();
    let env = ss.env();
    let w = World::new();
    add_profile(&w, "nla01", shadow.addr(), Shadow::USER);
    Some((shadow, ss, env, w))
}

#[test]
fn check_login_against_the_nla_shadow_server_right_wrong_and_unknown() {
    let Some((shadow, _ss, env, w)) = nla_with_keyring() else {
        return;
    };

    // The right password, saved in the keyring: NLA verified it, the session drew its first frame.
    run_with_stdin(
        cmd(&w, &env, &["creds", "set", "nla01", "--password-stdin"]),
        &format!("{}\n", Shadow::PASSWORD),
    )
    .expect(0);
    let ok = Run(cmd(
        &w,
        &env,
        &["check", "nla01", "--login", "--json", "--timeout", "15s"],
    )
    .output()
    .expect("run"));
    ok.expect(0);
    let l = login_of(&ok);
    assert_eq!(l["status"], "ok", "{l}\n{}", shadow.log());
    assert_eq!(l["protocol"], "nla", "{l}");
    assert!(l["first_frame_ms"].as_u64().is_some(), "time to first frame: {l}");
    assert!(l["ms"].as_u64().is_some_and(|ms| ms > 0), "{l}");
    assert_eq!(l["desktop"], "1024x768", "{l}");
    assert!(
        !ids(&ok.json()).iter().any(|i| i.starts_with("auth.")),
        "{}",
        ok.stdout()
    );

    // The human report has a login line.
    let text = Run(cmd(&w, &env, &["check", "nla01", "--login"])
        .output()
        .expect("run"));
    text.expect(0);
    assert!(
        text.stdout().contains("login       ok over NLA"),
        "{}",
        text.stdout()
    );

    // A wrong saved password: CredSSP fails, exit 3, auth.failed, and the saved password is marked rejected.
    run_with_stdin(
        cmd(&w, &env, &["creds", "set", "nla01", "--password-stdin"]),
        &format!("{SECRET}\n"),
    )
    .expect(0);
    let bad = Run(cmd(&w, &env, &["check", "nla01", "--login", "--json", "-vvv"])
        .output()
        .expect("run"));
    bad.expect(3);
    let l = login_of(&bad);
    assert_eq!(l["status"], "failed", "{l}");
    assert_eq!(l["stage"], "credssp", "{l}");
    assert!(
        ids(&bad.json()).contains(&"auth.failed".to_owned()),
        "{}",
        bad.stdout()
    );
    let list = Run(cmd(&w, &env, &["creds", "list", "--json"]).output().expect("run"));
    list.expect(0);
    let creds = list.json();
    let e = &creds["credentials"][0];
    assert!(
        e["failed"].is_string(),
        "the rejected password is marked: {creds}"
    );
    assert_secret_nowhere(&w, &[&bad, &list]);

    // An unknown user (password on stdin): the same verdict, the server cannot tell them apart for us.
    add_profile(&w, "nobody", shadow.addr(), "no-such-user");
    let unknown = run_with_stdin(
        cmd(
            &w,
            &env,
            &["check", "nobody", "--login", "--json", "--password-stdin"],
        ),
        &format!("{}\n", Shadow::PASSWORD),
    );
    unknown.expect(3);
    assert_eq!(login_of(&unknown)["status"], "failed");
    assert!(ids(&unknown.json()).contains(&"auth.failed".to_owned()));
    assert!(
        shadow.log().contains("Could not find user in SAM database"),
        "the server saw an unknown user:\n{}",
        shadow.log()
    );
}

#[test]
fn check_login_against_xrdp_is_not_verified_and_never_ok() {
    if !support::require_all(Xrdp::NEEDS) {
        return;
    }
    let xrdp = Xrdp::builder().security(SecurityLayer::Tls).start();
    let w = World::new();
    add_profile(&w, "web01", xrdp.addr(), "alice");
    // Any password: xrdp has no NLA, so the handshake proves nothing about it.
    let r = run_with_stdin(
        w.cmd(&["check", "web01", "--login", "--json", "--password-stdin"]),
        "not-the-password\n",
    );
    r.expect(0);
    let l = login_of(&r);
    assert_eq!(l["status"], "not_verified", "{l}\n{}", xrdp.log());
    assert_eq!(l["protocol"], "tls", "{l}");
    assert!(
        ids(&r.json()).contains(&"auth.not_verified".to_owned()),
        "{}",
        r.stdout()
    );
    assert_eq!(r.json()["verdict"], "warn", "not_verified is a warning, not ok");
}

/// Decodes a PNG file: (width, height, RGBA bytes).
fn read_png(path: &std::path::Path) -> (u32, u32, Vec<u8>) {
    let dec = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(path).expect("open png"),
    ));
    let mut r = dec.read_info().expect("a PNG header");
    let mut buf = vec![0; r.output_buffer_size().expect("size")];
    let info = r.next_frame(&mut buf).expect("a PNG frame");
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[test]
fn screenshot_of_the_shadow_servers_desktop() {
    let mut needs = Shadow::NEEDS.to_vec();
    needs.push("xsetroot");
    if !support::require_all(&needs) {
        return;
    }
    let shadow = Shadow::builder().start();
    let w = World::new();
    add_profile(&w, "nla01", shadow.addr(), Shadow::USER);
    // A pattern of two known colours on the desktop the shadow server shares.
    let painted = Command::new("xsetroot")
        .args(["-mod", "16", "16", "-fg", "#3366cc", "-bg", "#ffcc00"])
        .env("DISPLAY", Xvfb::shared().display())
        .status()
        .expect("xsetroot");
    assert!(painted.success());
    let out = w.path("desktop.png");
    let r = run_with_stdin(
        w.cmd(&[
            "screenshot",
            "nla01",
            "-o",
            out.to_str().expect("utf-8 path"),
            "--password-stdin",
            "--size",
            "800x600",
        ]),
        &format!("{}\n", Shadow::PASSWORD),
    );
    r.expect(0);
    assert!(r.stdout().contains("login: ok (NLA)"), "{}", r.stdout());
    let (width, height, rgba) = read_png(&out);
    // The shadow server mirrors its own screen: it gives the size of the shared Xvfb, not the 800x600 asked for.
    assert_eq!((width, height), (1024, 768), "the server's desktop size");
    let near = |px: &[u8], c: [u8; 3]| px.iter().zip(c).all(|(a, b)| a.abs_diff(b) < 24);
    let (mut yellow, mut blue) = (0usize, 0usize);
    for px in rgba.chunks_exact(4) {
        if near(px, [0xff, 0xcc, 0x00]) {
            yellow += 1;
        } else if near(px, [0x33, 0x66, 0xcc]) {
            blue += 1;
        }
    }
    let total = (width * height) as usize;
    assert!(
        yellow > total / 2,
        "the desktop's background colour: {yellow} of {total}"
    );
    assert!(blue > total / 50, "the desktop's grid lines: {blue} of {total}");
    let meta = std::fs::metadata(&out).expect("png");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            meta.permissions().mode() & 0o077,
            0,
            "the screenshot is owner-only"
        );
    }
}

#[test]
fn doctor_login_ranks_the_password_first_on_the_nla_server() {
    let Some((_shadow, _ss, env, w)) = nla_with_keyring() else {
        return;
    };
    let top = |r: &Run| {
        r.json()["causes"][0]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };

    // Typed wrong: the password is the cause.
    let typed = run_with_stdin(
        cmd(
            &w,
            &env,
            &["doctor", "nla01", "--login", "--json", "--password-stdin"],
        ),
        "wrong-password\n",
    );
    typed.expect(1);
    assert_eq!(top(&typed), "wrong_password", "{}", typed.stdout());
    assert_eq!(typed.json()["report"]["login"]["status"], "failed");

    // Saved and out of date: the stale saved password is the cause (and it is marked rejected).
    run_with_stdin(
        cmd(&w, &env, &["creds", "set", "nla01", "--password-stdin"]),
        "an-old-password\n",
    )
    .expect(0);
    let saved = Run(cmd(&w, &env, &["doctor", "nla01", "--login", "--json"])
        .output()
        .expect("run"));
    saved.expect(1);
    assert_eq!(top(&saved), "stale_credentials", "{}", saved.stdout());

    // The right password: nothing about credentials is a cause any more.
    run_with_stdin(
        cmd(&w, &env, &["creds", "set", "nla01", "--password-stdin"]),
        &format!("{}\n", Shadow::PASSWORD),
    )
    .expect(0);
    let good = Run(cmd(&w, &env, &["doctor", "nla01", "--login", "--json"])
        .output()
        .expect("run"));
    good.expect(0);
    assert_eq!(
        good.json()["report"]["login"]["status"],
        "ok",
        "{}",
        good.stdout()
    );
    let causes: Vec<String> = good.json()["causes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        !causes
            .iter()
            .any(|c| c == "wrong_password" || c == "stale_credentials"),
        "{causes:?}"
    );
}

//! `rdpl import` of other connection managers' files (Remmina, mRemoteNG, RDCMan): dry runs with `--json`,
//! real imports into the private config dir, name clashes that are reported and never overwrite.
//!
//! The sample files are profiles/tests/data/import/ (written from the formats' sources, see the importers).

use std::path::{Path, PathBuf};

use super::World;

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../profiles/tests/data/import")
        .join(name)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn names(j: &serde_json::Value) -> Vec<String> {
    j["profiles"]
        .as_array()
        .expect("profiles")
        .iter()
        .map(|p| p["profile"]["name"].as_str().expect("name").to_owned())
        .collect()
}

/// Copies a sample under a neutral name, so detection has only the content to go by.
fn neutral(w: &World, file: &str) -> PathBuf {
    w.write("connections.txt", &std::fs::read(sample(file)).expect("sample"))
}

#[test]
fn import_each_manager_format_dry_run_then_real() {
    let cases: [(&str, &str, &[&str]); 3] = [
        ("web01.remmina", "remmina", &["Web-01"]),
        ("confCons.xml", "mremoteng", &["web01", "db01", "legacy"]),
        (
            "servers.rdg",
            "rdcman",
            &["Web-server-1", "web02.corp.example", "lab01"],
        ),
    ];
    for (file, format, expected) in cases {
        let w = World::new();
        let path = neutral(&w, file);
        let j = w
            .run(&["import", s(&path), "--dry-run", "--json"])
            .expect(0)
            .json();
        assert_eq!(j["version"], 1);
        assert_eq!(j["format"], format, "{file}");
        assert_eq!(j["created"], false);
        assert_eq!(names(&j), expected, "{file}: {j:#}");
        assert!(j["profiles"][0]["path"].is_null());
        assert!(
            j["notes"]
                .as_array()
                .expect("notes")
                .iter()
                .any(|n| n["message"].as_str().is_some_and(|m| m.contains("not imported"))),
            "{file}: the password note is missing: {j:#}"
        );
        w.run(&["profile", "list"]).expect(0);
        assert!(
            !w.config().join("profiles").exists()
                || std::fs::read_dir(w.config().join("profiles"))
                    .expect("dir")
                    .next()
                    .is_none(),
            "--dry-run wrote nothing"
        );

        let j = w.run(&["import", s(&path), "--json"]).expect(0).json();
        assert_eq!(j["created"], true);
        for p in j["profiles"].as_array().expect("profiles") {
            assert!(Path::new(p["path"].as_str().expect("path")).exists(), "{p:#}");
        }
        for name in expected {
            let shown = w.run(&["profile", "show", name, "--json"]).expect(0).json();
            assert_eq!(shown["profile"]["name"], *name);
        }
        let out = format!("{j}");
        for secret in ["c2VjcmV0", "ENCRYPTED", "AQAAANCMnd8"] {
            assert!(!out.contains(secret), "{file}: a password leaked");
        }
        for p in std::fs::read_dir(w.config().join("profiles")).expect("profiles dir") {
            let toml = std::fs::read_to_string(p.expect("entry").path()).expect("toml");
            assert!(!toml.to_lowercase().contains("password"), "{toml}");
        }
    }
}

#[test]
fn import_manager_maps_gateway_inheritance_and_redirections() {
    let w = World::new();
    let j = w
        .run(&[
            "import",
            s(&sample("confCons.xml")),
            "--dry-run",
            "--json",
            "--allow",
            "redirectprinters",
        ])
        .expect(0)
        .json();
    let web = &j["profiles"][0];
    assert_eq!(web["source"], "Corp/Web/web01");
    let p = &web["profile"];
    assert_eq!(
        (p["host"].as_str(), p["port"].as_u64()),
        (Some("web01.corp.example"), Some(3390))
    );
    assert_eq!(
        (p["user"].as_str(), p["domain"].as_str()),
        (Some("alice"), Some("CORP"))
    );
    assert_eq!(
        p["gateway"],
        serde_json::json!({"host": "gw.corp.example", "port": 443, "usage": "detect"})
    );
    assert_eq!(p["redirect"]["printers"], true, "--allow keeps it");
    assert_eq!(p["redirect"]["drives"], serde_json::json!([]), "not allowed: off");
    let skipped: Vec<_> = j["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .map(|s| s["source"].as_str().expect("source").to_owned())
        .collect();
    assert_eq!(skipped, ["Corp/Web/ssh01", "Lab/nohost", "Lab/WEB01"]);

    // The text report names the format, each profile, the notes and the skipped entries.
    let r = w.run(&["import", s(&sample("confCons.xml")), "--dry-run"]);
    let out = r.expect(0).stdout();
    for needle in [
        "mRemoteNG file",
        "would import web01 -> web01.corp.example:3390 from Corp/Web/web01",
        "skipped Corp/Web/ssh01",
        "--allow drivestoredirect",
        "not imported",
    ] {
        assert!(out.contains(needle), "{needle} missing:\n{out}");
    }
}

#[test]
fn import_manager_clashes_are_skipped_never_overwritten() {
    let w = World::new();
    w.run(&["profile", "add", "DB01", "--host", "keep.example"])
        .expect(0);
    let path = sample("confCons.xml");
    let r = w.run(&["import", s(&path)]);
    let out = r.expect(0).stdout();
    assert!(
        out.contains("skipped Corp/db01: a profile named `db01` already exists"),
        "{out}"
    );
    let kept = w.run(&["profile", "show", "DB01", "--json"]).expect(0).json();
    assert_eq!(
        kept["profile"]["host"], "keep.example",
        "the existing profile is untouched"
    );
    w.run(&["profile", "show", "web01"]).expect(0);

    // Everything clashes now: nothing to import is exit 2, with the reasons.
    let r = w.run(&["import", s(&path)]);
    r.expect(2);
    assert!(r.stderr().contains("nothing imported"), "{}", r.stderr());
    assert!(r.stdout().contains("already exists"), "{}", r.stdout());
    let j = w
        .run(&["import", s(&path), "--json", "--dry-run"])
        .expect(2)
        .json();
    assert_eq!(j["profiles"], serde_json::json!([]));

    // --name is for a file with one connection.
    let r = w.run(&["import", s(&path), "--name", "x"]);
    r.expect(2);
    assert!(
        r.stderr().contains("--name needs a file with one connection"),
        "{}",
        r.stderr()
    );
    let remmina = sample("web01.remmina");
    w.run(&["import", s(&remmina), "--name", "prod-web"]).expect(0);
    w.run(&["profile", "show", "prod-web"]).expect(0);
    let r = w.run(&["import", s(&remmina), "--name", "prod-web"]);
    r.expect(2);
    assert!(r.stdout().contains("already exists"), "{}", r.stdout());
}

#[test]
fn import_manager_refuses_broken_files_clearly() {
    let w = World::new();
    let broken = w.write(
        "bad.rdg",
        b"<?xml version=\"1.0\"?>\n<RDCMan><file><group></file></RDCMan>",
    );
    // Not well-formed XML is not recognised as RDCMan; it is read as .rdp and refused as such.
    let r = w.run(&["import", s(&broken)]);
    r.expect(2);
    let encrypted = w.write("confCons.xml", b"<?xml version=\"1.0\"?><Connections FullFileEncryption=\"true\" ConfVersion=\"2.8\">AAAA</Connections>");
    let r = w.run(&["import", s(&encrypted)]);
    r.expect(2);
    assert!(r.stderr().contains("FullFileEncryption"), "{}", r.stderr());
    let vnc = w.write(
        "desk.remmina",
        b"[remmina]\nname=desk\nprotocol=VNC\nserver=desk:5900\n",
    );
    let r = w.run(&["import", s(&vnc)]);
    r.expect(2);
    assert!(r.stdout().contains("VNC connection"), "{}", r.stdout());
}

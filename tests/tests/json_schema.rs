//! Every `--json` document rdpl prints, from real runs (loopback RDP and RD Gateway fakes, xrdp, a real Secret
//! Service), checked against the JSON Schema files in docs/json-schemas/ that docs/json.md documents. The
//! schemas are strict: every object lists its fields with `additionalProperties: false` and requires all of them
//! (a field that may be absent says so in `x-optional`), so a field added, dropped or renamed in the code fails
//! here until the schema (and docs/json.md) changes with it.
//!
//! The validator is the JSON Schema subset the files use (`type`, `properties`, `required`,
//! `additionalProperties`, `items`, `enum`, `const`, `anyOf`, `minimum`, `$ref` into `$defs` of the same or
//! another file): a few dozen lines instead of a dependency. `x-optional` is an annotation (ignored by other
//! validators).
//!
//! Also here: colour only on terminals (`--color`, `NO_COLOR`) and errors with `help:` lines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

use crate::connect::{Fakes, add_profile, run_with_stdin, unique_user, with_env};
use crate::preflight::{der, https, tls_rdp_server};
use crate::support::{self, SecretService, SecurityLayer, Xrdp, certs};
use crate::{Run, World};

/// Which schema each command's `--json` output follows (the command as `rdpl CMD --help` spells it).
const COMMANDS: &[(&str, &str)] = &[
    ("profile add", "profile.json"),
    ("profile list", "profile-list.json"),
    ("profile show", "profile.json"),
    ("profile set", "profile.json"),
    ("import", "import.json"),
    ("sanitize", "sanitize.json"),
    ("rdp", "rdp.json"),
    ("check", "check.json"),
    ("pin list", "pin-list.json"),
    ("pin accept", "pin-change.json"),
    ("pin forget", "pin-change.json"),
    ("explain", "explain.json"),
    ("doctor", "doctor.json"),
    ("screenshot", "screenshot.json"),
    ("connect", "connect-dry-run.json"),
    ("connect", "connect.json"),
    ("open", "connect-dry-run.json"),
    ("creds list", "creds-list.json"),
];

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/json-schemas")
}

/// Every schema file, by file name.
fn schemas() -> &'static BTreeMap<String, Value> {
    static S: OnceLock<BTreeMap<String, Value>> = OnceLock::new();
    S.get_or_init(|| {
        let mut m = BTreeMap::new();
        for e in std::fs::read_dir(schema_dir()).expect("docs/json-schemas") {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "json") {
                let text = std::fs::read_to_string(&p).expect("read schema");
                let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                m.insert(p.file_name().expect("name").to_string_lossy().into_owned(), v);
            }
        }
        m
    })
}

/// Resolves `$ref` (`#/$defs/x` or `file.json#/$defs/x`) from inside `file`: the target and its file.
fn resolve<'a>(file: &str, r: &str) -> (&'a Value, String) {
    let (f, pointer) = r.split_once('#').unwrap_or((r, ""));
    let f = if f.is_empty() {
        file.to_owned()
    } else {
        f.to_owned()
    };
    let doc = schemas()
        .get(&f)
        .unwrap_or_else(|| panic!("$ref {r} in {file}: no schema file {f}"));
    let target = doc
        .pointer(pointer)
        .unwrap_or_else(|| panic!("$ref {r} in {file}: nothing at {pointer}"));
    (target, f)
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "string" => v.is_string(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        other => panic!("unknown type {other} in a schema"),
    }
}

/// Validates `v` against `schema` (found in `file`); errors as `path: problem`.
fn check_value(file: &str, schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let (target, f) = resolve(file, r);
        return check_value(&f, target, v, path, errors);
    }
    if let Some(alts) = schema.get("anyOf").and_then(Value::as_array) {
        let mut best: Option<Vec<String>> = None;
        for alt in alts {
            let mut e = Vec::new();
            check_value(file, alt, v, path, &mut e);
            if e.is_empty() {
                best = None;
                break;
            }
            if best.as_ref().is_none_or(|b| e.len() < b.len()) {
                best = Some(e);
            }
        }
        if let Some(b) = best {
            errors.push(format!(
                "{path}: matches no alternative; closest: {}",
                b.join("; ")
            ));
            return;
        }
    }
    if let Some(t) = schema.get("type") {
        let ok = match t {
            Value::String(s) => type_ok(s, v),
            Value::Array(a) => a.iter().any(|t| type_ok(t.as_str().expect("type name"), v)),
            _ => panic!("bad type in {file}"),
        };
        if !ok {
            errors.push(format!("{path}: {v} is not of type {t}"));
            return;
        }
    }
    if let Some(c) = schema.get("const")
        && c != v
    {
        errors.push(format!("{path}: {v} is not {c}"));
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array)
        && !e.contains(v)
    {
        errors.push(format!("{path}: {v} is not one of {}", Value::Array(e.clone())));
    }
    if let (Some(min), Some(n)) = (schema.get("minimum").and_then(Value::as_f64), v.as_f64())
        && n < min
    {
        errors.push(format!("{path}: {n} < {min}"));
    }
    if let (Some(items), Some(a)) = (schema.get("items"), v.as_array()) {
        for (i, x) in a.iter().enumerate() {
            check_value(file, items, x, &format!("{path}[{i}]"), errors);
        }
    }
    if let Some(o) = v.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        if let Some(req) = schema.get("required").and_then(Value::as_array) {
            for r in req.iter().filter_map(Value::as_str) {
                if !o.contains_key(r) {
                    errors.push(format!("{path}: the output lacks `{r}`"));
                }
            }
        }
        for (k, x) in o {
            let sub = format!("{path}.{k}");
            match props.and_then(|p| p.get(k)) {
                Some(s) => check_value(file, s, x, &sub, errors),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        errors.push(format!("{sub}: a field the schema does not document"));
                    }
                    Some(s @ Value::Object(_)) => check_value(file, s, x, &sub, errors),
                    _ => {}
                },
            }
        }
    }
}

/// Panics with every mismatch between `doc` and the schema file `schema`.
#[track_caller]
pub(crate) fn assert_matches(schema: &str, doc: &Value) {
    let root = schemas()
        .get(schema)
        .unwrap_or_else(|| panic!("no docs/json-schemas/{schema}"));
    let mut errors = Vec::new();
    check_value(schema, root, doc, "$", &mut errors);
    assert!(
        errors.is_empty(),
        "the output does not match docs/json-schemas/{schema}:\n  {}\n--- output\n{}",
        errors.join("\n  "),
        serde_json::to_string_pretty(doc).unwrap_or_default()
    );
}

/// The stdout of a run as JSON, checked against `schema`; the run must have exited with `code`.
#[track_caller]
fn checked(r: &Run, code: i32, schema: &str) -> Value {
    r.expect(code);
    let v = r.json();
    assert_matches(schema, &v);
    v
}

/// Walks a schema: every object schema with `properties` must forbid other fields and require all of its
/// fields but those named in `x-optional`.
fn strictness(file: &str, s: &Value, path: &str, errors: &mut Vec<String>) {
    match s {
        Value::Object(o) => {
            if let Some(props) = o.get("properties").and_then(Value::as_object) {
                if o.get("additionalProperties") != Some(&Value::Bool(false)) {
                    errors.push(format!("{file} {path}: lacks \"additionalProperties\": false"));
                }
                let req: BTreeSet<&str> = o
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let opt: BTreeSet<&str> = o
                    .get("x-optional")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                for k in props.keys() {
                    if !req.contains(k.as_str()) && !opt.contains(k.as_str()) {
                        errors.push(format!(
                            "{file} {path}: `{k}` is neither required nor in x-optional"
                        ));
                    }
                }
                for k in req.iter().chain(&opt) {
                    if !props.contains_key(*k) {
                        errors.push(format!(
                            "{file} {path}: `{k}` is required/optional but not a property"
                        ));
                    }
                }
            }
            for (k, v) in o {
                match (k.as_str(), v) {
                    // Maps of names to schemas: each value is a schema (a field may be called `properties`).
                    ("properties" | "$defs", Value::Object(m)) => {
                        for (name, sub) in m {
                            strictness(file, sub, &format!("{path}/{k}/{name}"), errors);
                        }
                    }
                    _ => strictness(file, v, &format!("{path}/{k}"), errors),
                }
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                strictness(file, v, &format!("{path}/{i}"), errors);
            }
        }
        _ => {}
    }
}

/// The subcommands of `rdpl [PREFIX]`, from its `--help`.
fn subcommands(w: &World, prefix: &[&str]) -> Vec<String> {
    let mut args = prefix.to_vec();
    args.push("--help");
    let help = w.run(&args).expect(0).stdout();
    let Some(section) = help.split("Commands:\n").nth(1) else {
        return Vec::new();
    };
    section
        .lines()
        .take_while(|l| l.starts_with("  "))
        // Wrapped descriptions are indented further.
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_json_command_has_a_strict_schema_documented_in_json_md() {
    let w = World::new();
    // Which commands take --json, from the CLI itself.
    let mut with_json = BTreeSet::new();
    for top in subcommands(&w, &[]) {
        let subs = subcommands(&w, &[&top]);
        let cmds: Vec<String> = if subs.is_empty() {
            vec![top.clone()]
        } else {
            subs.iter().map(|s| format!("{top} {s}")).collect()
        };
        for c in cmds {
            let mut args: Vec<&str> = c.split(' ').collect();
            args.push("--help");
            if w.run(&args).expect(0).stdout().contains("--json") {
                with_json.insert(c);
            }
        }
    }
    let table: BTreeSet<String> = COMMANDS.iter().map(|(c, _)| (*c).to_owned()).collect();
    assert_eq!(
        with_json, table,
        "the commands that take --json (left) and the ones this test checks (right) differ"
    );

    let json_md = std::fs::read_to_string(schema_dir().join("../json.md")).expect("docs/json.md");
    let mut errors = Vec::new();
    for (name, s) in schemas() {
        strictness(name, s, "", &mut errors);
        if name != "common.json" && !COMMANDS.iter().any(|(_, f)| f == name) {
            errors.push(format!("{name}: no command uses it"));
        }
        if !json_md.contains(&format!("json-schemas/{name}")) {
            errors.push(format!("{name}: docs/json.md does not link it"));
        }
    }
    for (c, f) in COMMANDS {
        if !schemas().contains_key(*f) {
            errors.push(format!("`rdpl {c} --json`: docs/json-schemas/{f} is missing"));
        }
        if !json_md.contains(&format!("rdpl {c}")) {
            errors.push(format!("docs/json.md has no section for `rdpl {c}`"));
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));

    // The validator itself rejects what it must.
    let doc: Value = serde_json::json!({ "version": 1, "pins": {}, "extra": 1 });
    let mut e = Vec::new();
    check_value("pin-list.json", &schemas()["pin-list.json"], &doc, "$", &mut e);
    assert!(e.iter().any(|e| e.contains("$.extra")), "{e:?}");
    let mut e = Vec::new();
    check_value(
        "pin-list.json",
        &schemas()["pin-list.json"],
        &serde_json::json!({ "version": 1 }),
        "$",
        &mut e,
    );
    assert!(e.iter().any(|e| e.contains("lacks `pins`")), "{e:?}");
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn import_sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../profiles/tests/data/import")
        .join(name)
}

/// Profiles, .rdp files, pins, explain and the pre-flight against loopback fakes (a TLS-only RDP server with a
/// self-signed certificate, an RD Gateway answering 401 Negotiate/NTLM, a closed port).
#[test]
fn the_offline_and_preflight_documents_match_their_schemas() {
    if !support::require_all(certs::NEEDS) {
        return;
    }
    let w = World::new();
    let cert = certs::self_signed(&["127.0.0.1"]);
    let rdp = tls_rdp_server(vec![der(&cert)], cert.key_pem());
    let rdg = https(
        &cert,
        "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate\r\nWWW-Authenticate: NTLM\r\nContent-Length: 0\r\n\r\n",
    );
    let port = rdp.addr.port().to_string();

    // Profiles: add, set (every kind of setting, a signing certificate), show, list (with a broken file).
    let v = checked(
        &w.run(&[
            "profile",
            "add",
            "web01",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--user",
            "alice",
            "--domain",
            "CORP",
            "--fallback",
            "10.0.0.5",
            "--json",
        ]),
        0,
        "profile.json",
    );
    assert_eq!(v["profile"]["name"], "web01");
    let pem = w.write(
        "publisher.pem",
        format!("{}{}", cert.pem(), cert.key_pem()).as_bytes(),
    );
    let sign = format!("sign.cert={}", s(&pem));
    let v = checked(
        &w.run(&[
            "profile",
            "set",
            "web01",
            "redirect.drives=C:",
            "display.width=1280",
            "display.height=800",
            "rdp.session bpp=24",
            "alternate=10.0.0.6",
            &sign,
            "--json",
        ]),
        0,
        "profile.json",
    );
    assert_eq!(v["profile"]["rdp"]["session bpp"], 24);
    assert!(v["profile"]["sign"]["cert"].is_string());
    w.run(&[
        "profile",
        "add",
        "gw01",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--gateway",
        &rdg.addr.to_string(),
    ])
    .expect(0);
    checked(&w.run(&["profile", "show", "gw01", "--json"]), 0, "profile.json");
    checked(&w.run(&["profile", "list", "--json"]), 0, "profile-list.json");
    std::fs::write(w.config().join("profiles/broken.toml"), "host = [").expect("write");
    let v = checked(&w.run(&["profile", "list", "--json"]), 2, "profile-list.json");
    assert_eq!(v["errors"].as_array().map(Vec::len), Some(1));
    std::fs::remove_file(w.config().join("profiles/broken.toml")).expect("rm");

    // .rdp files: a hostile one sanitized and imported, the manager formats imported.
    let rogue = w.write(
        "invoice.rdp",
        &std::fs::read(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../launcher/src/commands/rogue-sample.rdp"),
        )
        .expect("rogue sample"),
    );
    let v = checked(&w.run(&["sanitize", s(&rogue), "--json"]), 0, "sanitize.json");
    assert!(v["changes"].as_array().is_some_and(|c| c.len() > 5));
    let dup = w.write(
        "dup.rdp",
        b"full address:s:a.example\r\nredirectclipboard:i:1\r\nredirectclipboard:i:0\r\nbogus line\r\n",
    );
    let v = checked(&w.run(&["sanitize", s(&dup), "--json"]), 0, "sanitize.json");
    assert!(
        v["diagnostics"]
            .as_array()
            .is_some_and(|d| d.iter().any(|d| d["kind"] == "duplicate"))
    );
    checked(
        &w.run(&["import", s(&rogue), "--dry-run", "--json"]),
        0,
        "import.json",
    );
    checked(&w.run(&["import", s(&rogue), "--json"]), 0, "import.json");
    for f in ["web01.remmina", "confCons.xml", "servers.rdg"] {
        let copy = w.write(
            "connections.txt",
            &std::fs::read(import_sample(f)).expect("sample"),
        );
        checked(
            &w.run(&["import", s(&copy), "--dry-run", "--json"]),
            0,
            "import.json",
        );
    }
    let copy = w.write(
        "connections.txt",
        &std::fs::read(import_sample("confCons.xml")).expect("sample"),
    );
    checked(&w.run(&["import", s(&copy), "--json"]), 0, "import.json");

    // The .rdp rdpl writes: offline, pre-flighted, signed, to a file.
    let out = w.path("web01.rdp");
    let v = checked(&w.run(&["rdp", "web01", "--offline", "--json"]), 0, "rdp.json");
    assert_eq!(v["signed"], true, "the profile has sign.cert");
    w.run(&["profile", "set", "web01", "sign.cert="]).expect(0);
    let v = checked(
        &w.run(&["rdp", "web01", "--json", "-o", s(&out), "--timeout", "5s"]),
        0,
        "rdp.json",
    );
    assert_eq!(v["signed"], false);
    assert!(out.is_file());

    // The pre-flight: one target, several (an array), a gateway, a refused port; doctor; explain.
    let v = checked(
        &w.run(&["check", "web01", "--json", "--timeout", "5s"]),
        0,
        "check.json",
    );
    assert_eq!(v["tls"]["version"], "TLSv1.3");
    let v = checked(
        &w.run(&["check", "gw01", "--json", "--timeout", "5s"]),
        0,
        "check.json",
    );
    assert_eq!(v["gateway"]["status"], "ok");
    let closed = format!("127.0.0.1:{}", support::free_port());
    let v = w.run(&["check", "web01", "gw01", &closed, "--json", "--timeout", "3s"]);
    v.expect(1);
    let v = v.json();
    let all = v.as_array().expect("an array for several targets");
    assert_eq!(all.len(), 3);
    for r in all {
        assert_matches("check.json", r);
    }
    let v = checked(
        &w.run(&["doctor", &closed, "--json", "--timeout", "3s"]),
        1,
        "doctor.json",
    );
    assert!(v["causes"].as_array().is_some_and(|c| !c.is_empty()));
    checked(
        &w.run(&["doctor", "web01", "--json", "--timeout", "5s"]),
        0,
        "doctor.json",
    );
    checked(&w.run(&["explain", "0x904", "0x7", "--json"]), 0, "explain.json");
    checked(&w.run(&["explain", "0x7FF0", "--json"]), 0, "explain.json");
    checked(&w.run(&["explain", "0x800759DA", "--json"]), 0, "explain.json");

    // Pins: accept (new, then replacing nothing), list, forget.
    let v = checked(
        &w.run(&["pin", "accept", "web01", "--json", "--timeout", "5s"]),
        0,
        "pin-change.json",
    );
    assert!(v["previous"].is_null());
    let v = checked(
        &w.run(&["pin", "accept", "web01", "--json", "--timeout", "5s"]),
        0,
        "pin-change.json",
    );
    assert!(v["previous"].is_object());
    let v = checked(&w.run(&["pin", "list", "--json"]), 0, "pin-list.json");
    assert_eq!(v["pins"].as_object().map(|p| p.len()), Some(1));
    let v = checked(
        &w.run(&["pin", "forget", "web01", "--json"]),
        0,
        "pin-change.json",
    );
    assert!(v["pin"].is_null() && v["previous"].is_object());
    checked(&w.run(&["pin", "list", "--json"]), 0, "pin-list.json");
}

/// `connect --dry-run --json` and `open --dry-run --json` with a (fake) xfreerdp on PATH.
#[test]
fn the_dry_run_plan_matches_its_schema() {
    if !support::require_all(certs::NEEDS) {
        return;
    }
    let w = World::new();
    let cert = certs::self_signed(&["127.0.0.1"]);
    let rdp = tls_rdp_server(vec![der(&cert)], cert.key_pem());
    add_profile(&w, "web01", rdp.addr, "alice");
    let fakes = Fakes::install(&w, &["xfreerdp"]);
    let args = [
        "connect",
        "web01",
        "--dry-run",
        "--json",
        "--with",
        "xfreerdp",
        "--timeout",
        "5s",
    ];
    let v = checked(
        &Run(fakes.cmd(&w, &args).output().expect("run")),
        0,
        "connect-dry-run.json",
    );
    assert!(v["handoff"].is_object(), "{v}");
    // Without the client: handoff null. A blocked plan: go false, exit 1.
    checked(&w.run(&args), 0, "connect-dry-run.json");
    let closed = format!("127.0.0.1:{}", support::free_port());
    let v = checked(
        &w.run(&["connect", &closed, "--dry-run", "--json", "--timeout", "2s"]),
        1,
        "connect-dry-run.json",
    );
    assert_eq!(v["go"], false);
    let file = w.write(
        "web01.rdp",
        format!(
            "full address:s:{}\r\nusername:s:alice\r\nredirectdrives:i:1\r\n",
            rdp.addr
        )
        .as_bytes(),
    );
    checked(
        &Run(fakes
            .cmd(
                &w,
                &[
                    "open",
                    s(&file),
                    "--dry-run",
                    "--json",
                    "--with",
                    "xfreerdp",
                    "--timeout",
                    "5s",
                ],
            )
            .output()
            .expect("run")),
        0,
        "connect-dry-run.json",
    );
}

/// `connect --json` without --dry-run: the closing document after the client ended, normally (exit 0) and on
/// FreeRDP's authentication failure (132: rdpl exits 3) and another failure (131: rdpl exits 1).
#[test]
fn the_connect_result_matches_its_schema() {
    if !support::require_all(certs::NEEDS) {
        return;
    }
    let w = World::new();
    let cert = certs::self_signed(&["127.0.0.1"]);
    let rdp = tls_rdp_server(vec![der(&cert)], cert.key_pem());
    add_profile(&w, "web01", rdp.addr, "alice");
    let fakes = Fakes::install(&w, &["xfreerdp3"]);
    // The top cause: none for a normal end, the password for FreeRDP's authentication failure, the network
    // for its "connection failed".
    for (client_exit, exit, status, top) in [
        ("0", 0, "ended", None),
        ("132", 3, "auth_failed", Some("wrong_password")),
        ("131", 1, "failed", Some("port_closed")),
    ] {
        let mut c = fakes.cmd(
            &w,
            &[
                "connect",
                "web01",
                "--json",
                "--with",
                "xfreerdp",
                "--timeout",
                "5s",
            ],
        );
        c.env("RDPL_FAKE_EXIT", client_exit);
        let v = checked(&Run(c.output().expect("run")), exit, "connect.json");
        assert_eq!(v["status"], status, "{v:#}");
        assert_eq!(v["client_exit"].to_string(), client_exit);
        assert_eq!(v["client"]["program"], "xfreerdp3");
        assert_eq!(
            v["causes"].as_array().is_some_and(Vec::is_empty),
            exit == 0,
            "{v:#}"
        );
        if let Some(top) = top {
            assert_eq!(v["causes"][0]["id"], top, "{v:#}");
        }
        fakes.reset();
    }
}

/// `check --login --json`, `doctor --login --json` and `screenshot --json` against xrdp (TLS, no NLA).
#[test]
fn the_login_and_screenshot_documents_match_their_schemas() {
    if !support::require_all(Xrdp::NEEDS) {
        return;
    }
    let xrdp = Xrdp::builder().security(SecurityLayer::Tls).start();
    let w = World::new();
    add_profile(&w, "web01", xrdp.addr(), "alice");
    let r = run_with_stdin(
        w.cmd(&[
            "check",
            "web01",
            "--login",
            "--json",
            "--password-stdin",
            "--timeout",
            "15s",
        ]),
        "any\n",
    );
    let v = checked(&r, 0, "check.json");
    assert!(v["login"].is_object(), "{v}");
    let r = run_with_stdin(
        w.cmd(&[
            "doctor",
            "web01",
            "--login",
            "--json",
            "--password-stdin",
            "--timeout",
            "15s",
        ]),
        "any\n",
    );
    checked(&r, 0, "doctor.json");
    let png = w.path("shot.png");
    let r = run_with_stdin(
        w.cmd(&[
            "screenshot",
            "web01",
            "-o",
            s(&png),
            "--json",
            "--password-stdin",
            "--settle",
            "300ms",
            "--max-wait",
            "5s",
            "--timeout",
            "15s",
        ]),
        "any\n",
    );
    let v = checked(&r, 0, "screenshot.json");
    assert_eq!(v["output"], s(&png));
    assert!(v["width"].as_u64().is_some_and(|w| w > 0), "{v}");
    // When the pre-flight blocks, no session is tried. `check --login` still reports (the pre-flight's
    // findings say why); `screenshot` has no document: the error and its likely cause go to stderr and stdout
    // stays empty (no text a JSON reader would choke on).
    let closed = format!("127.0.0.1:{}", support::free_port());
    let r = run_with_stdin(
        w.cmd(&[
            "check",
            &closed,
            "--login",
            "--json",
            "--password-stdin",
            "--timeout",
            "2s",
        ]),
        "any\n",
    );
    let v = checked(&r, 1, "check.json");
    assert!(v["login"].is_null(), "{v}");
    let none = w.path("none.png");
    let r = run_with_stdin(
        w.cmd(&[
            "screenshot",
            &closed,
            "-o",
            s(&none),
            "--json",
            "--password-stdin",
            "--timeout",
            "2s",
        ]),
        "any\n",
    );
    r.expect(1);
    assert!(r.stdout().is_empty(), "{}", r.stdout());
    assert!(r.stderr().contains("Nothing listens"), "{}", r.stderr());
}

/// `creds list --json` with a saved password in a real Secret Service.
#[test]
fn the_credentials_list_matches_its_schema() {
    if !support::require_all(SecretService::NEEDS) {
        return;
    }
    let ss = SecretService::start();
    let env = ss.env();
    let w = World::new();
    let user = unique_user("schema-alice");
    w.add_web01(&user, &["--domain", "CORP"]);
    checked(
        &Run(with_env(w.cmd(&["creds", "list", "--json"]), &env)
            .output()
            .expect("run")),
        0,
        "creds-list.json",
    );
    run_with_stdin(
        with_env(w.cmd(&["creds", "set", "web01", "--password-stdin"]), &env),
        "Pw-schema-1\n",
    )
    .expect(0);
    let v = checked(
        &Run(with_env(w.cmd(&["creds", "list", "--json"]), &env)
            .output()
            .expect("run")),
        0,
        "creds-list.json",
    );
    assert_eq!(v["credentials"][0]["present"], true, "{v}");
    Run(with_env(w.cmd(&["creds", "clear", "web01"]), &env)
        .output()
        .expect("run"))
    .expect(0);
}

const ESC: u8 = 0x1b;

/// Colour only on terminals: piped output has no escape codes with `--color auto`; `--color always` has them;
/// `NO_COLOR` wins over `auto`. Errors end with `help:` lines.
#[test]
fn colour_follows_the_terminal_and_no_color_and_errors_have_help_lines() {
    let w = World::new();
    w.run(&["profile", "add", "web01", "--host", "web01.corp.test"])
        .expect(0);
    let rogue = w.write(
        "invoice.rdp",
        &std::fs::read(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../launcher/src/commands/rogue-sample.rdp"),
        )
        .expect("rogue sample"),
    );
    // Commands whose text output is styled (bold names, coloured labels).
    let styled: [&[&str]; 3] = [
        &["profile", "show", "web01"],
        &["sanitize", s(&rogue)],
        &["explain", "0x904"],
    ];
    let has_esc = |o: &std::process::Output| o.stdout.contains(&ESC) || o.stderr.contains(&ESC);
    for args in styled {
        let run = |color: &str, no_color: bool| {
            let mut c = w.cmd(&[]);
            c.args(args).args(["--color", color]);
            if !no_color {
                c.env_remove("NO_COLOR");
            }
            c.output().expect("run")
        };
        let auto = run("auto", false);
        assert!(auto.status.success());
        assert!(
            !has_esc(&auto),
            "{args:?}: piped output with --color auto has escape codes"
        );
        let always = run("always", false);
        assert!(has_esc(&always), "{args:?}: --color always has no escape codes");
        assert!(!has_esc(&run("never", false)), "{args:?}: --color never");
        assert!(
            !has_esc(&run("auto", true)),
            "{args:?}: NO_COLOR=1 with --color auto"
        );
    }
    // The default is auto: no flag, piped, no escape codes.
    let mut c = w.cmd(&["profile", "show", "web01"]);
    c.env_remove("NO_COLOR");
    assert!(!has_esc(&c.output().expect("run")));

    // Errors: `error:` then `help:` lines, on stderr, exit 2; coloured only when asked.
    let r = w.run(&["profile", "show", "web1"]);
    r.expect(2);
    let err = r.stderr();
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.lines().any(|l| l.starts_with("help: ")), "{err}");
    assert!(r.stdout().is_empty());
    let r = w.run(&["explain", "zz"]);
    r.expect(2);
    assert!(
        r.stderr().lines().any(|l| l.starts_with("help: ")),
        "{}",
        r.stderr()
    );
    let mut c = w.cmd(&["profile", "show", "web1", "--color", "always"]);
    c.env_remove("NO_COLOR");
    let o = c.output().expect("run");
    assert!(o.stderr.contains(&ESC), "--color always colours the error too");
    // -v levels go through tracing on stderr: -vv shows debug events, none without -v.
    let quiet = w.run(&["rdp", "web01", "--offline"]);
    let loud = w.run(&["rdp", "web01", "--offline", "-vv"]);
    quiet.expect(0);
    loud.expect(0);
    assert!(!quiet.stderr().contains("DEBUG"), "{}", quiet.stderr());
    assert_eq!(quiet.stdout(), loud.stdout(), "logging never touches stdout");
}

/// `doctor --code`: the code the user saw is evidence next to the live pre-flight. A clean xrdp with 0x904 /
/// extended 0x7 ranks the server's own refusal first; an expired certificate with 0x904 stays first; a
/// certificate valid only from next month is "not yet valid", never "expired"; FreeRDP's exit status with
/// `--client xfreerdp` names the password.
#[test]
fn doctor_takes_the_code_the_user_saw_as_evidence() {
    if !support::require_all(Xrdp::NEEDS) || !support::require_all(certs::NEEDS) {
        return;
    }
    let w = World::new();
    let ids = |v: &Value| -> Vec<String> {
        v["causes"]
            .as_array()
            .expect("causes")
            .iter()
            .map(|c| c["id"].as_str().expect("id").to_owned())
            .collect()
    };
    let xrdp = Xrdp::builder().security(SecurityLayer::Tls).start();
    add_profile(&w, "clean", xrdp.addr(), "alice");
    let v = checked(
        &w.run(&[
            "doctor",
            "clean",
            "--json",
            "--code",
            "0x904",
            "--extended",
            "0x7",
            "--timeout",
            "5s",
        ]),
        0,
        "doctor.json",
    );
    assert_eq!(ids(&v)[0], "server_denied_connection", "{v:#}");
    assert_eq!(v["code"]["extended"], 7);
    assert!(
        v["code"]["label"]
            .as_str()
            .is_some_and(|l| l.contains("exDiscReasonServerDeniedConnection"))
    );
    let evidence = v["causes"][0]["evidence"].to_string();
    assert!(evidence.contains("code: mstsc 0x904"), "{evidence}");
    // The human form says the same, first.
    let r = w.run(&[
        "doctor",
        "clean",
        "--code",
        "0x904",
        "--extended",
        "0x7",
        "--timeout",
        "5s",
    ]);
    r.expect(0);
    assert!(
        r.stdout().contains("1. The server refuses the connection itself"),
        "{}",
        r.stdout()
    );

    // An expired certificate with 0x904: the certificate stays first.
    let expired = certs::expired(&["127.0.0.1"]);
    let old = tls_rdp_server(vec![der(&expired)], expired.key_pem());
    add_profile(&w, "old", old.addr, "alice");
    let v = checked(
        &w.run(&["doctor", "old", "--json", "--code", "0x904", "--timeout", "5s"]),
        1,
        "doctor.json",
    );
    assert_eq!(ids(&v)[0], "cert_expired", "{v:#}");

    // A certificate valid only from next month: "not yet valid", not "expired".
    let future = certs::not_yet_valid(&["127.0.0.1"]);
    let early = tls_rdp_server(vec![der(&future)], future.key_pem());
    add_profile(&w, "early", early.addr, "alice");
    let v = checked(
        &w.run(&["doctor", "early", "--json", "--timeout", "5s"]),
        1,
        "doctor.json",
    );
    assert_eq!(ids(&v)[0], "cert_not_yet_valid", "{v:#}");
    let title = v["causes"][0]["title"].as_str().expect("title");
    assert!(
        title.contains("not valid yet") && !title.contains("expired"),
        "{title}"
    );

    // FreeRDP's authentication failure, as evidence for the clean server.
    let v = checked(
        &w.run(&[
            "doctor",
            "clean",
            "--json",
            "--code",
            "132",
            "--client",
            "xfreerdp",
            "--timeout",
            "5s",
        ]),
        0,
        "doctor.json",
    );
    assert_eq!(ids(&v)[0], "wrong_password", "{v:#}");
    // A bad code is a usage error.
    w.run(&["doctor", "clean", "--code", "0xZZ"]).expect(2);
}

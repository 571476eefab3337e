//! A stand-in for a real RDP client (`xfreerdp`, `mstsc.exe`, macOS `open`) in the end-to-end tests. Copied
//! onto PATH under the client's name, it records what rdpl gave it, so tests can check that the password
//! went only where it should, and exits with the code the test asks for.
//!
//! Records into `$RDPL_FAKE_DIR/<name>-<pid>/`: `argv.json`, `env.json`, `stdin.bin` (everything on standard
//! input), and a copy of every argument that names an existing `.rdp` file under `files/`.
//! `RDPL_FAKE_EXIT` sets the exit code (default 0), `RDPL_FAKE_SLEEP_MS` a delay before exiting.
//! Without `RDPL_FAKE_DIR` it records nothing and exits 97, so a misconfigured test can't pass silently.
//!
//! Asked `/version` (alone, as rdpl asks to find out which FreeRDP it is), it answers like FreeRDP and records
//! nothing: "This is FreeRDP version V", V from `RDPL_FAKE_FREERDP_VERSION`, else 3.10.3 for a name ending in
//! `3` and 2.11.7 otherwise.

use std::io::Read;
use std::path::{Path, PathBuf};

fn main() {
    let Some(root) = std::env::var_os("RDPL_FAKE_DIR") else {
        std::process::exit(97);
    };
    let args: Vec<String> = std::env::args().collect();
    let name = args
        .first()
        .map(|a| {
            Path::new(a)
                .file_stem()
                .map_or_else(|| "client".to_owned(), |s| s.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "client".to_owned());
    if args.len() == 2 && args[1] == "/version" {
        let version = std::env::var("RDPL_FAKE_FREERDP_VERSION")
            .unwrap_or_else(|_| if name.ends_with('3') { "3.10.3" } else { "2.11.7" }.to_owned());
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), "This is FreeRDP version {version} (fake)");
        std::process::exit(0);
    }
    let dir = PathBuf::from(root).join(format!("{name}-{}", std::process::id()));
    let files = dir.join("files");
    if std::fs::create_dir_all(&files).is_err() {
        std::process::exit(98);
    }
    let env: std::collections::BTreeMap<String, String> = std::env::vars_os()
        .map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned()))
        .collect();
    let mut stdin = Vec::new();
    // A client that reads stdin only when told to; the fake always drains it (a closed or empty stdin is fine).
    let _ = std::io::stdin().read_to_end(&mut stdin);
    for a in &args[1..] {
        let p = Path::new(a);
        let is_rdp = p.extension().is_some_and(|e| e.eq_ignore_ascii_case("rdp"));
        if let (true, Some(base)) = (is_rdp && p.is_file(), p.file_name()) {
            let _ = std::fs::copy(p, files.join(base));
        }
    }
    let ok = std::fs::write(dir.join("argv.json"), to_json(&args)).is_ok()
        && std::fs::write(dir.join("env.json"), to_json(&env)).is_ok()
        && std::fs::write(dir.join("stdin.bin"), &stdin).is_ok();
    if !ok {
        std::process::exit(98);
    }
    if let Some(ms) = std::env::var("RDPL_FAKE_SLEEP_MS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    let code = std::env::var("RDPL_FAKE_EXIT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    std::process::exit(code);
}

fn to_json(v: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

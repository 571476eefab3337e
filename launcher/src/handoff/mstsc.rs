//! mstsc (Windows' Remote Desktop Connection): rdpl writes the plan's .rdp to an owner-only temporary file,
//! runs `mstsc.exe <file> [/admin] [/f] [/multimon]`, waits for it and passes its exit code through. The file
//! is deleted afterwards, whatever happened.
//!
//! mstsc takes no password on its command line, standard input or in the .rdp file; it reads the Credential
//! Manager's `TERMSRV/<host>` entry (`host` = the `full address` without port). So when rdpl has a password:
//! - with `--save-password`, it writes that entry (persistent, as mstsc's "Remember me" would) and keeps it;
//! - otherwise it writes one for this logon session only, before starting mstsc, and deletes it when mstsc
//!   exits, so mstsc logs in without asking and nothing stays. An entry the user already saved for the host
//!   is left alone (rdpl would otherwise replace it and then delete it).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::launch::{Handoff, HandoffError, Launch};

/// The program's name (and how it is looked up on PATH).
const PROGRAM: &str = "mstsc.exe";

/// What to do when it is missing.
const INSTALL: &str = "mstsc ships with Windows (Remote Desktop Connection); on Windows 11 24H2+ it may need the optional feature re-enabled";

/// Where the temporary .rdp goes.
pub fn rdp_path(private_dir: &Path) -> PathBuf {
    super::launch::temp_rdp_path(private_dir, "mstsc")
}

/// The command line.
pub fn describe(launch: &Launch<'_>, rdp: &Path) -> Handoff {
    describe_with(&program(launch.system_root), launch, rdp)
}

/// Runs mstsc.
pub fn run(launch: &Launch<'_>) -> Result<i32, HandoffError> {
    run_with(&program(launch.system_root), launch, |_| {})
}

/// `%SystemRoot%\System32\mstsc.exe` when it exists, else `mstsc.exe` from PATH.
fn program(system_root: Option<&Path>) -> PathBuf {
    if let Some(root) = system_root {
        let p = root.join("System32").join(PROGRAM);
        if p.is_file() {
            return p;
        }
    }
    PathBuf::from(PROGRAM)
}

fn describe_with(program: &Path, launch: &Launch<'_>, rdp: &Path) -> Handoff {
    let mut args = vec![rdp.display().to_string()];
    let pass = launch.pass;
    for (on, flag) in [
        (pass.admin, "/admin"),
        (pass.full_screen, "/f"),
        (pass.multimon, "/multimon"),
    ] {
        if on {
            args.push(flag.to_owned());
        }
    }
    Handoff {
        backend: "mstsc".into(),
        program: program.display().to_string(),
        args,
        rdp_file: Some(rdp.to_owned()),
        stdin: None,
        client: None,
    }
}

/// [`run`] with the program given; `configure` can adjust the command before it starts (tests point the
/// fake client at its record directory that way).
fn run_with(
    program: &Path,
    launch: &Launch<'_>,
    configure: impl FnOnce(&mut Command),
) -> Result<i32, HandoffError> {
    let rdp = rdp_path(launch.private_dir);
    let handoff = describe_with(program, launch, &rdp);
    // Declared first, dropped last: the session credential outlives the file and mstsc.
    #[cfg(windows)]
    let _session = seed(launch)?;
    let _file = super::launch::write_temp_rdp(&rdp, launch.plan)?;
    let mut cmd = Command::new(program);
    cmd.args(&handoff.args).stdin(Stdio::null());
    configure(&mut cmd);
    tracing::debug!("running {} {:?}", handoff.program, handoff.args);
    let status = cmd.status().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            HandoffError::NotInstalled {
                program: PROGRAM.into(),
                install: INSTALL.into(),
            }
        } else {
            HandoffError::Io {
                what: format!("could not run {}", handoff.program),
                source: e,
            }
        }
    })?;
    Ok(super::launch::exit_code(status))
}

/// The host mstsc names its credential after: the `full address` without its port.
#[cfg(any(windows, test))]
fn credential_host(address: &str) -> String {
    address
        .parse::<rdpl_profiles::name::TargetAddr>()
        .map_or_else(|_| address.to_owned(), |t| t.host.to_string())
}

/// A `TERMSRV/<host>` credential written for this run only; deleted when dropped.
#[cfg(windows)]
#[derive(Debug)]
struct SessionCred {
    target: String,
}

#[cfg(windows)]
impl Drop for SessionCred {
    fn drop(&mut self) {
        use rdpl_core::stale::TermsrvKind;
        match crate::credentials::windows::termsrv_delete(&self.target, TermsrvKind::DomainPassword) {
            Ok(_) => {}
            Err(e) => tracing::warn!("could not delete the temporary credential {}: {e}", self.target),
        }
    }
}

/// Puts rdpl's password where mstsc looks for it (see the module documentation); the guard of a
/// session-only credential, which the caller keeps until mstsc has exited.
#[cfg(windows)]
fn seed(launch: &Launch<'_>) -> Result<Option<SessionCred>, HandoffError> {
    use crate::credentials::windows;
    use rdpl_core::stale::{self, TermsrvKind};

    let Some(password) = launch.password else {
        return Ok(None);
    };
    let Some(account) = stale::account(launch.profile) else {
        tracing::info!("the profile names no user: mstsc will ask for the credentials");
        return Ok(None);
    };
    let host = credential_host(&launch.plan.address);
    let target = format!("TERMSRV/{host}");
    let failed = |e: std::io::Error| HandoffError::Credentials(format!("could not save {target}: {e}"));
    if launch.save_password {
        windows::termsrv_write(&host, &account, password, TermsrvKind::DomainPassword, false)
            .map_err(failed)?;
        return Ok(None);
    }
    let saved = windows::termsrv_list()
        .map_err(|e| HandoffError::Credentials(format!("could not list mstsc's credentials: {e}")))?
        .into_iter()
        .any(|c| c.kind == TermsrvKind::DomainPassword && c.target.eq_ignore_ascii_case(&target));
    if saved {
        tracing::info!("{target} is already saved in the Credential Manager; mstsc uses that one");
        return Ok(None);
    }
    windows::termsrv_write(&host, &account, password, TermsrvKind::DomainPassword, true).map_err(failed)?;
    Ok(Some(SessionCred { target }))
}

#[cfg(test)]
mod tests {
    use rdpl_profiles::name::Host;
    use rdpl_profiles::profile::Profile;

    use super::*;
    use crate::handoff::Passthrough;
    use rdpl_core::facts::{DnsStatus, Facts, Source};
    use rdpl_core::plan::{Overrides, Plan};
    use rdpl_core::stale::Inventory;

    fn profile(host: &str, port: Option<u16>) -> Profile {
        let mut p = Profile::new("web01".parse().expect("name"), Host::Name(host.into()));
        p.user = Some("alice".into());
        p.domain = Some("CORP".into());
        if let Some(port) = port {
            p.port = port.to_string().parse().expect("port");
        }
        p
    }

    /// The plan of a pre-flight that reached the profile's host by its DNS name.
    fn plan(profile: &Profile) -> Plan {
        let mut facts = Facts::empty(&profile.name.to_string());
        facts.address.chosen = Some(std::net::SocketAddr::from(([127, 0, 0, 1], profile.port.get())));
        facts.address.via = Some(Source::Dns);
        facts.dns.name = profile.host.to_string();
        facts.dns.status = DnsStatus::Ok;
        facts.dns.addresses = vec![std::net::IpAddr::from([127, 0, 0, 1])];
        rdpl_core::plan::plan(profile, &facts, &Inventory::default(), Overrides::default()).expect("plan")
    }

    /// Under Wine: the .rdp handed to mstsc and its directory are private to the user (no Everyone, no Users).
    #[cfg(windows)]
    #[test]
    fn the_file_for_mstsc_and_its_directory_are_private_to_the_user() {
        use rdpl_profiles::private::inspect;
        let tmp = tempfile::tempdir().expect("tempdir");
        let private = tmp.path().join("private");
        let p = profile("web01.corp.test", None);
        let rdp = rdp_path(&private);
        let guard = crate::handoff::launch::write_temp_rdp(&rdp, &plan(&p)).expect("write");
        let sid = inspect::user_sid().expect("sid");
        assert!(sid.starts_with("S-1-5-"), "{sid}");
        // On Windows the DACL is exactly `D:P(A;OICI;FA;;;<user>)`. Wine keeps no ACLs: it maps the DACL to the
        // Unix mode and reports SYSTEM and the owner back; before rdpl set a DACL it reported Everyone (WD) with
        // read access too. So: every entry is the user or SYSTEM, and the user has full access.
        for path in [&private, &rdp] {
            let dacl = inspect::dacl(path).expect("dacl");
            let aces: Vec<&str> = dacl.split('(').skip(1).map(|a| a.trim_end_matches(')')).collect();
            assert!(!aces.is_empty(), "{}: {dacl}", path.display());
            for ace in &aces {
                let trustee = ace.rsplit(';').next().unwrap_or_default();
                assert!(trustee == sid || trustee == "SY", "{}: {dacl}", path.display());
                assert!(ace.starts_with("A;"), "{}: {dacl}", path.display());
            }
            assert!(
                aces.iter()
                    .any(|a| a.starts_with("A;") && a.contains(";FA;") && a.ends_with(&sid)),
                "{dacl}"
            );
        }
        // Owner-only does not mean unreadable by the owner: mstsc runs as the same user.
        let bytes = std::fs::read(&rdp).expect("read back");
        assert_eq!(bytes[..2], [0xff, 0xfe]);
        drop(guard);
        assert!(!rdp.exists());
    }

    #[test]
    fn mstsc_is_looked_for_under_system_root_first() {
        let root = tempfile::tempdir().expect("tempdir");
        assert_eq!(program(None), Path::new(PROGRAM));
        assert_eq!(program(Some(root.path())), Path::new(PROGRAM));
        let exe = root.path().join("System32").join(PROGRAM);
        std::fs::create_dir_all(exe.parent().expect("parent")).expect("mkdir");
        std::fs::write(&exe, b"").expect("write");
        assert_eq!(program(Some(root.path())), exe);
    }

    #[test]
    fn describe_lists_the_file_and_the_passthrough_flags() {
        let p = profile("web01.corp.test", None);
        let plan = plan(&p);
        assert_eq!(plan.address, "web01.corp.test");
        let secret = secrecy::SecretString::from("S3cret".to_owned());
        let mut launch = Launch {
            profile: &p,
            plan: &plan,
            password: Some(&secret),
            save_password: false,
            pass: Passthrough::default(),
            private_dir: Path::new("private"),
            system_root: None,
            home: None,
            gateway_password: None,
            program: None,
            chosen_by: "--with",
            search_path: &[],
            stdout_to_stderr: false,
        };
        let rdp = rdp_path(launch.private_dir);
        assert!(rdp.starts_with("private"));
        assert_eq!(rdp.extension().and_then(|e| e.to_str()), Some("rdp"));
        let h = describe(&launch, &rdp);
        assert_eq!(h.backend, "mstsc");
        assert_eq!(h.program, PROGRAM);
        assert_eq!(h.args, vec![rdp.display().to_string()]);
        assert_eq!(h.rdp_file.as_deref(), Some(rdp.as_path()));
        assert_eq!(h.stdin, None);

        launch.pass = Passthrough {
            admin: true,
            full_screen: true,
            multimon: true,
        };
        let h = describe(&launch, &rdp);
        assert_eq!(
            h.args,
            vec![
                rdp.display().to_string(),
                "/admin".into(),
                "/f".into(),
                "/multimon".into()
            ]
        );
        assert!(!format!("{h:?}").contains("S3cret"));
    }

    #[test]
    fn credentials_are_named_after_the_address_without_port() {
        assert_eq!(credential_host("web01.corp.test"), "web01.corp.test");
        assert_eq!(credential_host("web01.corp.test:3390"), "web01.corp.test");
        assert_eq!(credential_host("10.0.0.5:3389"), "10.0.0.5");
        assert_eq!(credential_host("[fe80::1]:3390"), "fe80::1");
        assert_eq!(credential_host("fe80::1"), "fe80::1");
    }

    // The rest runs a fake mstsc.exe for real: on Windows, and under Wine in CI (scripts/wine-test).
    #[cfg(windows)]
    mod fake {
        use std::path::{Path, PathBuf};

        use rdpl_profiles::profile::Profile;
        use secrecy::SecretString;

        use super::{plan, profile};
        use crate::credentials::windows;
        use crate::handoff::mstsc::{SessionCred, credential_host, run_with, seed};
        use crate::handoff::{HandoffError, Launch, Passthrough};
        use rdpl_core::plan::Plan;
        use rdpl_core::stale::{TermsrvCred, TermsrvKind};

        const PASSWORD: &str = "S3cret-Wine!";

        #[allow(
            clippy::disallowed_methods,
            reason = "tests may read the environment (the code under test never does)"
        )]
        fn in_ci() -> bool {
            std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false" | "FALSE" | "False"))
        }

        /// The Windows build of the fake client (`RDPL_TEST_FAKE_CLIENT_EXE`), copied as `mstsc.exe` into
        /// `dir`. None (with a note) when it is not given, except in CI, where that fails the test.
        #[allow(
            clippy::print_stderr,
            reason = "a skipped test says why, where cargo test shows it"
        )]
        #[allow(
            clippy::disallowed_methods,
            reason = "tests may read the environment (the code under test never does)"
        )]
        fn fake_mstsc(dir: &Path) -> Option<PathBuf> {
            let Some(exe) = std::env::var_os("RDPL_TEST_FAKE_CLIENT_EXE") else {
                let why = "RDPL_TEST_FAKE_CLIENT_EXE is not set (scripts/wine-test builds the fake client and sets it)";
                assert!(!in_ci(), "{why}; CI is set, so this fails instead of skipping");
                eprintln!("skipped: {why}");
                return None;
            };
            let to = dir.join("mstsc.exe");
            std::fs::copy(&exe, &to).unwrap_or_else(|e| panic!("copy {}: {e}", Path::new(&exe).display()));
            Some(to)
        }

        /// A host name no other test (or run) uses.
        fn unique(test: &str) -> String {
            format!("rdpl-mstsc-{test}-{}.invalid", std::process::id())
        }

        fn termsrv(host: &str) -> Vec<TermsrvCred> {
            let target = format!("TERMSRV/{host}");
            windows::termsrv_list()
                .expect("list")
                .into_iter()
                .filter(|c| c.target.eq_ignore_ascii_case(&target))
                .collect()
        }

        /// What the fake client recorded: its one record directory under `fake_dir`.
        fn record(fake_dir: &Path) -> PathBuf {
            let dirs: Vec<PathBuf> = std::fs::read_dir(fake_dir)
                .expect("fake dir")
                .map(|e| e.expect("entry").path())
                .collect();
            assert_eq!(dirs.len(), 1, "one run recorded: {dirs:?}");
            dirs.into_iter().next().expect("one")
        }

        struct Setup {
            _tmp: tempfile::TempDir,
            program: PathBuf,
            private: PathBuf,
            fake_dir: PathBuf,
            profile: Profile,
            plan: Plan,
            host: String,
        }

        fn setup(test: &str, port: Option<u16>) -> Option<Setup> {
            let tmp = tempfile::tempdir().expect("tempdir");
            let bin = tmp.path().join("bin");
            std::fs::create_dir(&bin).expect("bin");
            let program = fake_mstsc(&bin)?;
            let fake_dir = tmp.path().join("fake");
            std::fs::create_dir(&fake_dir).expect("fake dir");
            let host = unique(test);
            let profile = profile(&host, port);
            let plan = plan(&profile);
            let address = port.map_or_else(|| host.clone(), |p| format!("{host}:{p}"));
            assert_eq!(plan.address, address);
            Some(Setup {
                private: tmp.path().join("private"),
                _tmp: tmp,
                program,
                fake_dir,
                profile,
                plan,
                host,
            })
        }

        fn launch<'a>(
            s: &'a Setup,
            password: Option<&'a SecretString>,
            save: bool,
            admin: bool,
        ) -> Launch<'a> {
            Launch {
                profile: &s.profile,
                plan: &s.plan,
                password,
                save_password: save,
                pass: Passthrough {
                    admin,
                    ..Passthrough::default()
                },
                private_dir: &s.private,
                system_root: None,
                home: None,
                gateway_password: None,
                program: None,
                chosen_by: "--with",
                search_path: &[],
                stdout_to_stderr: false,
            }
        }

        #[test]
        fn runs_mstsc_with_the_file_and_leaves_nothing_behind() {
            let Some(s) = setup("run", Some(3390)) else { return };
            let _lock = windows::cred_test_lock();
            let password = SecretString::from(PASSWORD.to_owned());
            let launch = launch(&s, Some(&password), false, true);
            let code = run_with(&s.program, &launch, |c| {
                c.env("RDPL_FAKE_DIR", &s.fake_dir).env("RDPL_FAKE_EXIT", "5");
            })
            .expect("run");
            assert_eq!(code, 5, "the exit code passes through");

            let rec = record(&s.fake_dir);
            let argv_json = std::fs::read_to_string(rec.join("argv.json")).expect("argv.json");
            let env_json = std::fs::read_to_string(rec.join("env.json")).expect("env.json");
            assert!(!argv_json.contains(PASSWORD), "password in argv: {argv_json}");
            assert!(!env_json.contains(PASSWORD), "password in the environment");
            let argv: Vec<String> = serde_json::from_str(&argv_json).expect("argv");
            assert_eq!(argv.len(), 3, "{argv:?}");
            let rdp = PathBuf::from(&argv[1]);
            assert!(rdp.starts_with(&s.private), "{argv:?}");
            assert_eq!(rdp.extension().and_then(|e| e.to_str()), Some("rdp"));
            assert_eq!(argv[2], "/admin");
            assert!(!rdp.exists(), "the temporary .rdp is deleted after the run");

            let name = rdp.file_name().expect("file name");
            let bytes = std::fs::read(rec.join("files").join(name)).expect("the client read the .rdp");
            assert_eq!(bytes.get(..2), Some(&[0xFF, 0xFE][..]), "UTF-16LE with BOM");
            let units: Vec<u16> = bytes[2..]
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            let text = String::from_utf16(&units).expect("UTF-16");
            assert!(
                text.contains(&format!("full address:s:{}:3390", s.host)),
                "{text}"
            );
            assert!(!text.contains(PASSWORD), "password in the .rdp");
            assert!(!String::from_utf8_lossy(&bytes).contains(PASSWORD));

            // The session credential for mstsc is gone; nothing was kept.
            assert_eq!(termsrv(&s.host), vec![]);
        }

        #[test]
        fn a_session_credential_is_written_for_the_host_and_deleted_after() {
            let Some(s) = setup("session", Some(3390)) else {
                return;
            };
            let _lock = windows::cred_test_lock();
            let password = SecretString::from(PASSWORD.to_owned());
            let launch = launch(&s, Some(&password), false, false);
            let guard: Option<SessionCred> = seed(&launch).expect("seed");
            assert!(guard.is_some());
            assert_eq!(credential_host(&s.plan.address), s.host);
            assert_eq!(
                termsrv(&s.host),
                vec![TermsrvCred {
                    target: format!("TERMSRV/{}", s.host),
                    kind: TermsrvKind::DomainPassword,
                    user: Some(r"CORP\alice".to_owned()),
                }]
            );
            drop(guard);
            assert_eq!(termsrv(&s.host), vec![]);
        }

        #[test]
        fn save_password_keeps_the_credential() {
            let Some(s) = setup("save", None) else { return };
            let _lock = windows::cred_test_lock();
            let password = SecretString::from(PASSWORD.to_owned());
            let launch = launch(&s, Some(&password), true, false);
            let code = run_with(&s.program, &launch, |c| {
                c.env("RDPL_FAKE_DIR", &s.fake_dir).env_remove("RDPL_FAKE_EXIT");
            })
            .expect("run");
            assert_eq!(code, 0);
            let argv: Vec<String> = serde_json::from_str(
                &std::fs::read_to_string(record(&s.fake_dir).join("argv.json")).expect("argv"),
            )
            .expect("argv json");
            assert_eq!(argv.len(), 2, "no flags: {argv:?}");

            let target = format!("TERMSRV/{}", s.host);
            let kept = termsrv(&s.host);
            let cleanup = windows::termsrv_delete(&target, TermsrvKind::DomainPassword);
            assert_eq!(
                kept,
                vec![TermsrvCred {
                    target,
                    kind: TermsrvKind::DomainPassword,
                    user: Some(r"CORP\alice".to_owned()),
                }]
            );
            assert!(cleanup.expect("cleanup"));
        }

        #[test]
        fn a_credential_the_user_saved_is_left_alone() {
            let Some(s) = setup("existing", None) else { return };
            let _lock = windows::cred_test_lock();
            let target = format!("TERMSRV/{}", s.host);
            let theirs = SecretString::from("theirs".to_owned());
            windows::termsrv_write(&s.host, "bob", &theirs, TermsrvKind::DomainPassword, false)
                .expect("write");
            let password = SecretString::from(PASSWORD.to_owned());
            let launch = launch(&s, Some(&password), false, false);
            let code = run_with(&s.program, &launch, |c| {
                c.env("RDPL_FAKE_DIR", &s.fake_dir).env_remove("RDPL_FAKE_EXIT");
            });
            let kept = termsrv(&s.host);
            let cleanup = windows::termsrv_delete(&target, TermsrvKind::DomainPassword);
            assert_eq!(code.expect("run"), 0);
            assert_eq!(kept.len(), 1, "{kept:?}");
            assert_eq!(kept[0].user.as_deref(), Some("bob"));
            assert!(cleanup.expect("cleanup"));
        }

        #[test]
        fn without_a_password_nothing_is_written() {
            let Some(s) = setup("nopw", None) else { return };
            let _lock = windows::cred_test_lock();
            let launch = launch(&s, None, true, false);
            let code = run_with(&s.program, &launch, |c| {
                c.env("RDPL_FAKE_DIR", &s.fake_dir).env_remove("RDPL_FAKE_EXIT");
            })
            .expect("run");
            assert_eq!(code, 0);
            assert_eq!(termsrv(&s.host), vec![]);
        }

        #[test]
        fn a_missing_mstsc_is_not_installed_and_cleans_up() {
            let Some(s) = setup("missing", None) else { return };
            let _lock = windows::cred_test_lock();
            let password = SecretString::from(PASSWORD.to_owned());
            let launch = launch(&s, Some(&password), false, false);
            let missing = s.program.with_file_name("no-such-mstsc.exe");
            let err = run_with(&missing, &launch, |_| {}).expect_err("not installed");
            match err {
                HandoffError::NotInstalled { program, install } => {
                    assert_eq!(program, "mstsc.exe");
                    assert!(install.contains("Remote Desktop Connection"));
                }
                other => panic!("expected NotInstalled, got {other:?}"),
            }
            let left: Vec<_> = std::fs::read_dir(&s.private)
                .expect("private dir")
                .map(|e| e.expect("entry").path())
                .collect();
            assert_eq!(left, Vec::<PathBuf>::new(), "the temporary .rdp is deleted");
            assert_eq!(termsrv(&s.host), vec![]);
        }
    }
}

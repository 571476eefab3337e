//! Child processes that cannot outlive the test: [`ServerProcess`] (a started server, killed on drop) and
//! [`run_with_timeout`] (a client run that may not hang the suite).
//!
//! Every child is spawned in its own process group (so `Drop` also kills what it forked, like xrdp's
//! per-connection children) and with `PR_SET_PDEATHSIG = SIGKILL` (so it dies with the test binary even when
//! that is killed or interrupted and never runs destructors: no orphans across runs).

use std::fs::File;
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to listen (xrdp ~70 ms, shadow ~0.7 s, dnsmasq ~20 ms here; CI may be slower).
pub(crate) const START_TIMEOUT: Duration = Duration::from_secs(15);

/// Makes `cmd` safe to spawn from a test: own process group, killed when the spawning thread's process dies.
///
/// Note: the parent-death signal fires when the *thread* that spawned the child exits. Per-test servers are
/// dropped before their test thread ends, so that is fine; the run-wide Xvfb is spawned from a thread that
/// lives as long as the process (see `servers::Xvfb`).
pub(crate) fn harden(cmd: &mut Command) -> &mut Command {
    harden_with(cmd, libc::SIGKILL)
}

/// [`harden`] with another parent-death signal (Xvfb gets SIGTERM, so it removes its socket on the way out).
pub(crate) fn harden_with(cmd: &mut Command, death_signal: libc::c_int) -> &mut Command {
    cmd.process_group(0);
    // SAFETY: the closure runs between fork and exec and only calls prctl(2), which is async-signal-safe,
    // allocates nothing and touches no lock.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, death_signal) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd
}

/// A running server process; its stdout and stderr go to a log file. `Drop` kills its whole process group
/// with SIGKILL and reaps it.
#[derive(Debug)]
pub(crate) struct ServerProcess {
    name: String,
    child: Child,
    log: PathBuf,
}

impl ServerProcess {
    /// Spawns `cmd` (stdin from /dev/null, stdout and stderr appended to `log`).
    #[track_caller]
    pub(crate) fn spawn(name: &str, mut cmd: Command, log: &Path) -> ServerProcess {
        let out = File::options()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|e| panic!("open log {}: {e}", log.display()));
        let err = out.try_clone().expect("clone log fd");
        harden(&mut cmd).stdin(Stdio::null()).stdout(out).stderr(err);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {name} ({cmd:?}): {e}"));
        ServerProcess {
            name: name.to_owned(),
            child,
            log: log.to_owned(),
        }
    }

    /// The process id (for `ip netns exec` servers too: ip execs the server in place).
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if the process has already ended.
    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("try_wait")
    }

    /// Everything the server printed so far (its log file), for assertions and failure messages.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The log file.
    pub(crate) fn log_path(&self) -> &Path {
        &self.log
    }

    /// Polls `addr` with TCP connects (every 25 ms) until one succeeds, the process exits, or `timeout`.
    ///
    /// Returns `Err` with a description (exit status or timeout, and the log) instead of panicking, so that a
    /// caller can retry on another port.
    pub(crate) fn wait_listening(&mut self, addr: SocketAddr, timeout: Duration) -> Result<Duration, String> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.exited() {
                return Err(format!(
                    "{} exited with {status} before listening on {addr}\n--- log {}\n{}",
                    self.name,
                    self.log.display(),
                    self.log()
                ));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(250)).is_ok() {
                return Ok(start.elapsed());
            }
            if start.elapsed() > timeout {
                return Err(format!(
                    "{} not listening on {addr} after {timeout:?}\n--- log {}\n{}",
                    self.name,
                    self.log.display(),
                    self.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if self.exited().is_none() {
            let pgid = libc::pid_t::try_from(self.child.id()).expect("pid fits pid_t");
            // SAFETY: kill(2) has no memory-safety preconditions; the group is the one this child leads
            // (process_group(0) in `harden`), and it is not reaped yet, so the id cannot have been reused.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
        let _ = self.child.wait();
    }
}

/// Runs `cmd` to completion with piped output; kills it (and its group) and panics after `timeout`.
#[track_caller]
pub(crate) fn run_with_timeout(mut cmd: Command, timeout: Duration) -> Output {
    harden(&mut cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    // Drain the pipes on threads so a chatty child never blocks on a full pipe.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = io::Read::read_to_end(&mut stdout, &mut b);
        b
    });
    let err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = io::Read::read_to_end(&mut stderr, &mut b);
        b
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if start.elapsed() > timeout {
            let pgid = libc::pid_t::try_from(child.id()).expect("pid fits pid_t");
            // SAFETY: as in ServerProcess::drop: our own, not yet reaped, group leader.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
            let _ = child.wait();
            let stderr = String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned();
            panic!("{cmd:?} still running after {timeout:?}, killed\n--- stderr\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

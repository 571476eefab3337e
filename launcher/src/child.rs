//! Child processes rdpl runs briefly and must not hang on: a FreeRDP client's `/version`, a vault's
//! `password.command`.

use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// Waits at most `limit` for `child`: its status, or `Ok(None)` after it was killed and reaped at the limit.
pub fn wait_at_most(child: &mut Child, limit: Duration) -> std::io::Result<Option<ExitStatus>> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if start.elapsed() >= limit {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

//! Child processes that a test starts and must not leave behind.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A child process that is stopped when the test ends, pass or fail.
pub struct Guard {
    child: Child,
    name: &'static str,
}

impl Guard {
    /// Takes charge of `child`, named `name` in messages.
    pub fn new(child: Child, name: &'static str) -> Guard {
        Guard { child, name }
    }

    /// The process's id (its `/proc/<pid>`).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `timeout` for the process to exit by itself; its status, or `None`.
    pub fn wait_for_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // SIGTERM, not SIGKILL: tauri-driver then stops its WebKitWebDriver too; a killed one
        // leaves WebKitWebDriver running and the next run talks to the stale one.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("{} did not stop on SIGTERM; killing it", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

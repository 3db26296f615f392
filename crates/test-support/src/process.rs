//! Shared plumbing of the agent runners: a minimal environment, a timeout with process-group
//! kill, and `TINYVEX_KEEP_SESSIONS`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Default kill timeout of one agent run; `TINYVEX_AGENT_TIMEOUT_SECS` overrides it (and
/// `TINYVEX_CODEX_TIMEOUT_SECS` for codex, kept for compatibility).
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

pub(crate) fn timeout_from_env(vars: &[&str]) -> Duration {
    vars.iter()
        .find_map(|var| std::env::var(var).ok()?.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TIMEOUT)
}

/// `env_clear()` plus the few host variables an agent needs (`PATH`, `TMPDIR`, `TZ`, `SHELL`)
/// and `LANG=C.UTF-8`, `NO_COLOR=1`; no real credentials or user config leak in. Also puts the
/// child in its own process group (Unix) so a timeout kills wrappers *and* native binaries.
pub(crate) fn minimal_env(cmd: &mut Command) {
    cmd.env_clear()
        .env("LANG", "C.UTF-8")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in ["PATH", "TMPDIR", "TZ", "SHELL"] {
        if let Some(value) = std::env::var_os(var) {
            cmd.env(var, value);
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
}

/// What one run of a command (an agent's CLI, the browser tests) left: its output (also as
/// text), how long it took and whether it was killed at the timeout. Each agent's run type
/// (`ClaudeRun`, `CodexRun`, ...) derefs to it (`agent_run!`) and adds where the agent wrote
/// its sessions.
#[derive(Debug)]
pub struct ProcessRun {
    pub output: Output,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    pub timed_out: bool,
    /// The command, for messages (`claude -p`, `codex exec`, ...).
    pub what: &'static str,
}

impl ProcessRun {
    /// Exited 0 before the timeout.
    pub fn success(&self) -> bool {
        !self.timed_out && self.output.status.success()
    }

    /// Panics (printing stdout/stderr) unless the command exited 0 in time.
    #[track_caller]
    pub fn assert_success(&self) {
        assert!(
            self.success(),
            "{} failed (status {:?}, timed out: {}) after {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.what,
            self.output.status.code(),
            self.timed_out,
            self.elapsed,
            self.stdout,
            self.stderr
        );
    }

    /// The JSON value of each stdout line that holds one (event streams print one per
    /// line); other lines are skipped.
    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter_map(|line| serde_json::from_str(line.trim()).ok())
            .collect()
    }
}

/// For an agent's run type (a struct with a `process: ProcessRun` field): `Deref` to that
/// [`ProcessRun`] (`run.stdout`, `run.success()`, ...) and an `assert_success` that returns
/// the run, for chaining.
macro_rules! agent_run {
    ($run:ident) => {
        impl std::ops::Deref for $run {
            type Target = $crate::process::ProcessRun;

            fn deref(&self) -> &Self::Target {
                &self.process
            }
        }

        impl $run {
            /// Panics (printing stdout/stderr) unless the agent exited 0 in time.
            #[track_caller]
            pub fn assert_success(self) -> Self {
                self.process.assert_success();
                self
            }
        }
    };
}
pub(crate) use agent_run;

/// Runs `cmd` (prepared by [`minimal_env`]) to completion or until `timeout`, then kills its
/// process group.
pub(crate) fn run(mut cmd: Command, timeout: Duration, what: &'static str) -> ProcessRun {
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {what}: {e}"));
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout piped")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr piped")));

    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for agent") {
            break status;
        }
        if started.elapsed() > timeout {
            timed_out = true;
            #[cfg(unix)]
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            break child.wait().expect("wait for killed agent");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    // A grandchild that inherited the pipes may outlive the agent; don't wait for it forever.
    let join = |handle: std::thread::JoinHandle<Vec<u8>>| {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !handle.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        if handle.is_finished() {
            handle.join().unwrap_or_default()
        } else {
            b"(output pipe still open after exit; not collected)".to_vec()
        }
    };
    let output = Output {
        status,
        stdout: join(stdout),
        stderr: join(stderr),
    };
    ProcessRun {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        output,
        elapsed,
        timed_out,
        what,
    }
}

/// When `TINYVEX_KEEP_SESSIONS=<dir>` is set, copies `files` (session files an agent wrote
/// under `root`) to `<dir>/<agent>/<path relative to root>`, so they can be inspected after
/// the temp homes are gone. Returns the copies. Never fails a test: errors are printed.
pub fn keep_sessions(agent: &str, root: &Path, files: &[PathBuf]) -> Vec<PathBuf> {
    let Some(dir) = std::env::var_os("TINYVEX_KEEP_SESSIONS").filter(|d| !d.is_empty()) else {
        return Vec::new();
    };
    let mut copies = Vec::new();
    for file in files {
        let relative = file.strip_prefix(root).unwrap_or(file);
        let relative = relative.strip_prefix("/").unwrap_or(relative);
        let target = PathBuf::from(&dir).join(agent).join(relative);
        let copied = target
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::copy(file, &target));
        match copied {
            Ok(_) => {
                eprintln!("TINYVEX_KEEP_SESSIONS: kept {}", target.display());
                copies.push(target);
            }
            Err(e) => eprintln!(
                "TINYVEX_KEEP_SESSIONS: could not copy {} to {}: {e}",
                file.display(),
                target.display()
            ),
        }
    }
    copies
}

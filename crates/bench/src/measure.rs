//! Whole-process measurements of a child: wall time, peak RSS, CPU time.
//!
//! Peak RSS comes from GNU time (`/usr/bin/time -f '%M …' -o FILE cmd…`), which reads
//! `ru_maxrss` from `wait4()` for the exact child, so it is exact and costs nothing during
//! the run (the workspace forbids `unsafe`, so we cannot call `wait4` ourselves). Without
//! GNU time we fall back to polling `/proc/<pid>/status` `VmHWM` every 2 ms, which misses
//! the last moments of the process and is a lower bound.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// How peak RSS is measured.
#[derive(Debug, Clone)]
pub enum RssMethod {
    /// GNU time at this path (exact `ru_maxrss` of the child).
    GnuTime(PathBuf),
    /// Polling `/proc/<pid>/status` `VmHWM` (lower bound).
    ProcPoll,
}

impl RssMethod {
    /// GNU time at `/usr/bin/time` when it works, else `/proc` polling.
    pub fn detect() -> RssMethod {
        let time = PathBuf::from("/usr/bin/time");
        let ok = Command::new(&time)
            .args(["-f", "%M", "-o", "/dev/null", "true"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            RssMethod::GnuTime(time)
        } else {
            RssMethod::ProcPoll
        }
    }

    /// A description for reports.
    pub fn describe(&self) -> String {
        match self {
            RssMethod::GnuTime(p) => format!("GNU time ({} -f %M: ru_maxrss of the child from wait4, exact)", p.display()),
            RssMethod::ProcPoll => "polling /proc/<pid>/status VmHWM every 2 ms (lower bound; install GNU time: apt-get install time)".into(),
        }
    }
}

/// What one run of a child process cost.
#[derive(Debug, Clone)]
pub struct Measured {
    /// Wall time from spawn to exit, as seen by the bench (includes ~1 ms of GNU time's own exec).
    pub wall: Duration,
    /// Peak resident set size in KiB.
    pub max_rss_kib: Option<u64>,
    /// User CPU seconds (GNU time only).
    pub user_s: Option<f64>,
    /// System CPU seconds (GNU time only).
    pub sys_s: Option<f64>,
    /// Exit status.
    pub status: ExitStatus,
    /// Captured stdout.
    pub stdout: String,
    /// Captured stderr.
    pub stderr: String,
}

/// Runs `program args…` with `env` set (and `env_remove` removed), measuring it.
pub fn run(
    method: &RssMethod,
    program: &Path,
    args: &[&str],
    env: &[(&str, &Path)],
    env_remove: &[&str],
    scratch: &Path,
) -> Result<Measured> {
    let time_out = scratch.join("gnu-time.out");
    let mut cmd = match method {
        RssMethod::GnuTime(time) => {
            let mut c = Command::new(time);
            c.args(["-f", "%M %U %S", "-o"]).arg(&time_out).arg(program);
            c
        }
        RssMethod::ProcPoll => Command::new(program),
    };
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for k in env_remove {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {}", program.display()))?;
    let pid = child.id();
    let mut out_pipe = child.stdout.take().expect("stdout is piped");
    let mut err_pipe = child.stderr.take().expect("stderr is piped");
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out_pipe.read_to_string(&mut s);
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err_pipe.read_to_string(&mut s);
        s
    });
    let mut hwm = None;
    let status = match method {
        RssMethod::GnuTime(_) => child.wait()?,
        RssMethod::ProcPoll => loop {
            if let Some(s) = child.try_wait()? {
                break s;
            }
            if let Some(kib) = vm_hwm(pid) {
                hwm = Some(hwm.unwrap_or(0).max(kib));
            }
            std::thread::sleep(Duration::from_millis(2));
        },
    };
    let wall = started.elapsed();
    let stdout = out_thread.join().unwrap_or_default();
    let stderr = err_thread.join().unwrap_or_default();
    let (mut user_s, mut sys_s) = (None, None);
    if let RssMethod::GnuTime(_) = method {
        let text = std::fs::read_to_string(&time_out).unwrap_or_default();
        // A failing command adds a "Command exited with non-zero status N" line first.
        let last = text.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
        let f: Vec<&str> = last.split_whitespace().collect();
        hwm = f.first().and_then(|s| s.parse().ok());
        user_s = f.get(1).and_then(|s| s.parse().ok());
        sys_s = f.get(2).and_then(|s| s.parse().ok());
    }
    Ok(Measured {
        wall,
        max_rss_kib: hwm,
        user_s,
        sys_s,
        status,
        stdout,
        stderr,
    })
}

fn vm_hwm(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

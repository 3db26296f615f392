//! Reporting: machine facts, the human summary, and run folders
//! (`benchsuite/runs/<date>-<label>/` with `README.md` and `results.json`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use serde_json::{json, Value};

use crate::clock::date;
use crate::size::format_bytes;

/// `benchsuite/runs` of the source tree this binary was built from.
pub const DEFAULT_RUNS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../benchsuite/runs");

fn cmd_out(program: &str, args: &[&str]) -> Option<String> {
    let o = Command::new(program).args(args).output().ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).trim_end().to_string())
}

/// `nproc`, `free -h`, CPU model, kernel, and the source tree's git commit.
pub fn machine_info() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|s| {
        s.lines()
            .find(|l| l.starts_with("model name"))
            .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
    });
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    json!({
        "nproc": cmd_out("nproc", &[]).or_else(|| std::thread::available_parallelism().ok().map(|n| n.to_string())),
        "free_h": cmd_out("free", &["-h"]),
        "cpu": cpu,
        "kernel": cmd_out("uname", &["-srm"]),
        "git_commit": cmd_out("git", &["-C", src, "rev-parse", "--short", "HEAD"]),
        "git_dirty": cmd_out("git", &["-C", src, "status", "--porcelain"]).map(|s| !s.is_empty()),
    })
}

/// Write `results.json` into `dir` (created if missing) and start its
/// README: `# {title}: {date}`, the command and the figures.
pub fn start_run_readme(
    dir: &Path,
    results: &Value,
    title: &str,
    summary: &str,
    argv: &[String],
) -> Result<String> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let pretty = serde_json::to_string_pretty(results)?;
    std::fs::write(dir.join("results.json"), format!("{pretty}\n"))?;
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# {title}: {}\n",
        results["bench"]["date"].as_str().unwrap_or("?")
    );
    let _ = writeln!(md, "Command:\n\n```console\n$ {}\n```\n", argv.join(" "));
    let _ = writeln!(md, "## Figures\n\n```text\n{summary}```\n");
    Ok(md)
}

/// The `- tinyvex: `version` (path)` line of a run README, for a
/// `{version, path}` object.
pub fn binary_line(md: &mut String, label: &str, binary: &Value) {
    let _ = writeln!(
        md,
        "- {label}: `{}` ({})",
        binary["version"].as_str().unwrap_or("?"),
        binary["path"].as_str().unwrap_or("")
    );
}

/// The `- source tree:` line of a run README, from [`machine_info`].
pub fn source_line(md: &mut String, m: &Value) {
    let _ = writeln!(
        md,
        "- source tree: {} (dirty: {})",
        m["git_commit"].as_str().unwrap_or("?"),
        m["git_dirty"]
    );
}

/// The `## Machine` section of a run README, from [`machine_info`]: CPU,
/// kernel, `extra` lines, then `free -h`.
pub fn machine_section(md: &mut String, m: &Value, extra: &[String]) {
    let _ = writeln!(md, "## Machine\n");
    let _ = writeln!(
        md,
        "- CPU: {} (`nproc`: {})",
        m["cpu"].as_str().unwrap_or("?"),
        m["nproc"].as_str().unwrap_or("?")
    );
    let _ = writeln!(md, "- kernel: {}", m["kernel"].as_str().unwrap_or("?"));
    for line in extra {
        let _ = writeln!(md, "{line}");
    }
    let _ = writeln!(
        md,
        "\n```text\n$ free -h\n{}\n```\n",
        m["free_h"].as_str().unwrap_or("?")
    );
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn ms(v: &Value) -> String {
    format!("{:.1} ms", f(v) * 1000.0)
}

fn rss(v: &Value) -> String {
    v.as_u64()
        .map(|k| format_bytes(k * 1024))
        .unwrap_or_else(|| "?".into())
}

/// The human summary of a results object.
pub fn human_summary(r: &Value) -> String {
    let mut s = String::new();
    let (full, un, cu) = (&r["full"], &r["unchanged"], &r["catch_up"]);
    let _ = writeln!(
        s,
        "tinyvex   {}",
        r["tinyvex"]["version"].as_str().unwrap_or("?")
    );
    let _ = writeln!(
        s,
        "corpus    {} files, {} ({})",
        r["corpus"]["files"],
        format_bytes(r["corpus"]["bytes"].as_u64().unwrap_or(0)),
        r["corpus"]["dir"].as_str().unwrap_or("")
    );
    let _ = writeln!(
        s,
        "startup   {} median (`tinyvex --version`: the floor of every figure below)",
        ms(&r["startup"]["median_s"])
    );
    let items = full["items"]
        .as_u64()
        .map(|n| n.to_string())
        .unwrap_or_else(|| "?".into());
    let _ = writeln!(
        s,
        "full      {:.2} s, {:.1} MB/s, {items} items ({:.0} items/s), peak RSS {}, CPU user {:.2} s sys {:.2} s, store {}",
        f(&full["wall_s"]),
        f(&full["mb_per_s"]),
        f(&full["items_per_s"]),
        rss(&full["max_rss_kib"]),
        f(&full["user_s"]),
        f(&full["sys_s"]),
        format_bytes(full["db_bytes"].as_u64().unwrap_or(0))
    );
    if let Some(e) = full["summary"]["elapsed_ms"].as_f64() {
        let _ = writeln!(
            s,
            "          (tinyvex's own elapsed_ms: {e:.0}; errors in status: {})",
            full["errors"]
        );
    }
    let runs = |v: &Value, path: &str| -> String {
        v["runs"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| ms(x.pointer(path).unwrap_or(&Value::Null)))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    let un_rss = un["runs"]
        .get(0)
        .map(|x| rss(&x["max_rss_kib"]))
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "unchanged {} median ({}), peak RSS {un_rss}, items {}",
        ms(&un["median_s"]),
        runs(un, "/wall_s"),
        if un["items_changed"] == true {
            "CHANGED (should not)"
        } else {
            "unchanged"
        }
    );
    let appended: Vec<String> = cu["runs"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| format_bytes(x["appended_bytes"].as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default();
    let added: Vec<String> = cu["runs"]
        .as_array()
        .map(|a| a.iter().map(|x| x["items_added"].to_string()).collect())
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "catch-up  {} median ({}) for {} appended; items added {}; target < {}: {}",
        ms(&cu["median_s"]),
        runs(cu, "/run/wall_s"),
        appended.join(", "),
        added.join(", "),
        ms(&cu["target_s"]),
        if cu["meets_target"] == true {
            "met"
        } else {
            "NOT met"
        }
    );
    s
}

/// Writes `<runs_dir>/<date>-<label>[-N]/` with `results.json` and `README.md`; returns it.
pub fn save(
    runs_dir: &Path,
    label: &str,
    results: &Value,
    summary: &str,
    argv: &[String],
) -> Result<PathBuf> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64;
    let base = format!("{}-{}", date(now), label.replace(['/', ' '], "-"));
    let mut dir = runs_dir.join(&base);
    let mut n = 2;
    while dir.exists() {
        dir = runs_dir.join(format!("{base}-{n}"));
        n += 1;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let pretty = serde_json::to_string_pretty(results)?;
    std::fs::write(dir.join("results.json"), format!("{pretty}\n"))?;
    let m = &results["machine"];
    let mut md = String::new();
    let _ = writeln!(md, "# Ingest benchmark: {} ({})\n", date(now), label);
    let _ = writeln!(md, "Command:\n\n```console\n$ {}\n```\n", argv.join(" "));
    let _ = writeln!(md, "## Figures\n\n```text\n{summary}```\n");
    let _ = writeln!(md, "What they mean: `benchsuite/README.md`.\n");
    let _ = writeln!(md, "## Versions\n");
    binary_line(&mut md, "tinyvex", &results["tinyvex"]);
    let _ = writeln!(
        md,
        "- tinyvex-bench: {}",
        results["bench"]["version"].as_str().unwrap_or("?")
    );
    source_line(&mut md, m);
    let _ = writeln!(
        md,
        "- peak RSS: {}\n",
        results["bench"]["rss_method"].as_str().unwrap_or("?")
    );
    machine_section(&mut md, m, &[]);
    let _ = writeln!(
        md,
        "## Raw results\n\nIn `results.json`:\n\n```json\n{pretty}\n```"
    );
    std::fs::write(dir.join("README.md"), md)?;
    Ok(dir)
}

//! Reporting of `tinyvex-bench latency`: percentiles, the table, the targets, and the run
//! folder (`results.json` and `README.md` in the `--out` directory).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use serde_json::{json, Value};

use crate::report::{binary_line, machine_section, source_line, start_run_readme};
use crate::size::format_bytes;

/// Summary of a set of durations, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// How many durations.
    pub n: usize,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
}

/// Nearest-rank percentile of sorted values: the smallest value with at least `p`% of the
/// values at or below it (no interpolation: every figure reported was actually observed).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

impl Stats {
    /// Stats of `d` (all NaN when empty).
    pub fn of(d: &[Duration]) -> Stats {
        let mut v: Vec<f64> = d.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        let mean = if v.is_empty() {
            f64::NAN
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        };
        Stats {
            n: v.len(),
            p50: percentile(&v, 50.0),
            p90: percentile(&v, 90.0),
            p99: percentile(&v, 99.0),
            max: v.last().copied().unwrap_or(f64::NAN),
            mean,
        }
    }

    /// `{"n", "p50_ms", …}`; NaN (no data) becomes null.
    pub fn to_json(self) -> Value {
        let n = |x: f64| if x.is_finite() { json!(x) } else { Value::Null };
        json!({"n": self.n, "p50_ms": n(self.p50), "p90_ms": n(self.p90), "p99_ms": n(self.p99),
               "max_ms": n(self.max), "mean_ms": n(self.mean)})
    }
}

/// The project's targets: (clients, which figure, limit in ms). Startup is judged on the
/// time to the first `hello` answer: when a client can actually use the server.
const TARGETS: &[(usize, &str, f64)] = &[(1, "p50", 10.0), (1, "p99", 50.0), (500, "p99", 100.0)];
const STARTUP_TARGET_MS: f64 = 200.0;

/// The targets, for results.json.
pub fn targets_json() -> Value {
    let t: Vec<Value> = TARGETS
        .iter()
        .map(|(c, k, ms)| json!({"clients": c, "figure": k, "max_ms": ms}))
        .collect();
    json!({"latency": t, "startup_hello_median_max_ms": STARTUP_TARGET_MS})
}

fn ms(v: &Value) -> String {
    v.as_f64()
        .map(|x| format!("{x:.2}"))
        .unwrap_or_else(|| "-".into())
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT met"
    }
}

/// The targets of one client count's run, e.g. `p50 ≤ 10 ms met, p99 ≤ 50 ms NOT met`.
fn target_text(run: &Value) -> String {
    let c = run["clients"].as_u64().unwrap_or(0) as usize;
    TARGETS
        .iter()
        .filter(|(tc, _, _)| *tc == c)
        .map(|(_, k, limit)| {
            let v = run["latency"][format!("{k}_ms")].as_f64();
            let met = v.is_some_and(|v| v <= *limit);
            format!("{k} ≤ {limit} ms {}", verdict(met))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The human table of a results object.
pub fn table(r: &Value) -> String {
    let mut s = String::new();
    let m = &r["machine"];
    let b = &r["bench"];
    let _ = writeln!(
        s,
        "tinyvex   {}   machine: {} cores, {}   date {}",
        r["tinyvex"]["version"].as_str().unwrap_or("?"),
        m["nproc"].as_str().unwrap_or("?"),
        m["kernel"].as_str().unwrap_or("?"),
        b["date"].as_str().unwrap_or("?")
    );
    let _ = writeln!(
        s,
        "\nappend → `changes` on every client ({} samples per client count after {} warm-up, {} ms pause)\n",
        b["samples"], b["warmup"], b["interval_ms"]
    );
    let _ = writeln!(
        s,
        "{:>7} {:>8} {:>5} {:>8} {:>8} {:>8} {:>8} {:>8} {:>11}  targets",
        "clients",
        "received",
        "lost",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "mean ms",
        "slowest p99"
    );
    for run in r["latency"].as_array().into_iter().flatten() {
        let l = &run["latency"];
        let _ = writeln!(
            s,
            "{:>7} {:>8} {:>5} {:>8} {:>8} {:>8} {:>8} {:>8} {:>11}  {}",
            run["clients"].to_string(),
            run["received"].to_string(),
            run["lost"].to_string(),
            ms(&l["p50_ms"]),
            ms(&l["p90_ms"]),
            ms(&l["p99_ms"]),
            ms(&l["max_ms"]),
            ms(&l["mean_ms"]),
            ms(&run["slowest_client"]["p99_ms"]),
            target_text(run)
        );
    }
    let _ = writeln!(
        s,
        "\n(latency: per client per sample; `slowest p99`: p99 over samples of the slowest client)"
    );
    for run in r["latency"].as_array().into_iter().flatten() {
        let _ = writeln!(
            s,
            "{} client(s): connect+subscribe {:.2} s, warm-up lost {}, timed out lines {}, order/duplicate violations {}, client failures {}, closed cleanly {}, server exit: {}",
            run["clients"],
            run["connect_and_subscribe_s"].as_f64().unwrap_or(f64::NAN),
            run["warmup_lost"],
            run["timed_out_lines"].as_array().map_or(0, |a| a.len()),
            run["violations_count"],
            run["failures_count"],
            run["closed_cleanly"],
            run["server_exit"].as_str().unwrap_or("?")
        );
        for v in run["violations"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(run["failures"].as_array().into_iter().flatten())
        {
            let _ = writeln!(s, "  PROBLEM: {}", v.as_str().unwrap_or(""));
        }
    }
    let st = &r["startup"];
    if !st.is_null() {
        let _ = writeln!(
            s,
            "\nstartup of `tinyvex serve` on {} ({}), empty HOME, {} timed starts:",
            st["store"].as_str().unwrap_or("?"),
            format_bytes(st["store_bytes"].as_u64().unwrap_or(0)),
            st["runs_count"]
        );
        for (k, what) in [
            ("tcp", "spawn → TCP accept"),
            ("hello", "spawn → `hello` answer"),
            ("json_line", "spawn → JSON line"),
        ] {
            let _ = writeln!(
                s,
                "  {what:<24} median {:>8} ms  max {:>8} ms",
                ms(&st[k]["p50_ms"]),
                ms(&st[k]["max_ms"])
            );
        }
        let f = &st["first_start"];
        let _ = writeln!(
            s,
            "  first start (untimed; creates the token if missing): TCP accept {} ms, JSON line {} ms",
            ms(&f["tcp_s"].as_f64().map(|x| x * 1000.0).into()),
            ms(&f["json_line_s"].as_f64().map(|x| x * 1000.0).into())
        );
        let med = st["hello"]["p50_ms"].as_f64();
        let _ = writeln!(
            s,
            "  target: `hello` ≤ {STARTUP_TARGET_MS} ms: {}",
            verdict(med.is_some_and(|m| m <= STARTUP_TARGET_MS))
        );
    }
    s
}

/// Writes `results.json` and `README.md` into `dir`.
pub fn save(dir: &Path, results: &Value, summary: &str, argv: &[String]) -> Result<()> {
    let m = &results["machine"];
    let mut md = start_run_readme(dir, results, "Latency benchmark", summary, argv)?;
    let _ = writeln!(
        md,
        "## Method\n\n\
         - Whole process: `tinyvex serve --listen 127.0.0.1:0 --json --rescan-every 60` on a fresh \
         temp HOME and store per client count, stopped with SIGTERM. The long rescan period means \
         every delivery comes from filesystem events.\n\
         - One Codex session; every client subscribes to its thread. Each sample is one `write(2)` \
         of one `user_message` line on a handle opened with O_APPEND; t0 is taken just before it. A \
         client's time is when it read the WebSocket frame holding `bench-<i>` (before parsing).\n\
         - The next append waits until every client has the previous one (timeout {} s), then the \
         pause. Every client must see every line exactly once and in order, or the run fails.\n\
         - The bench's clients run on the same cores as the server (tokio multi-thread runtime), \
         so with many clients the figures include the bench's own receive work.\n\
         - Startup: `--listen` on a port found free just before; TCP connect polled every 1 ms, then \
         an authenticated WebSocket `hello`. One unrecorded start first (it creates the token).\n",
        results["bench"]["delivery_timeout_s"]
    );
    let _ = writeln!(md, "## Versions\n");
    binary_line(&mut md, "tinyvex", &results["tinyvex"]);
    let _ = writeln!(
        md,
        "- tinyvex-bench: {}",
        results["bench"]["version"].as_str().unwrap_or("?")
    );
    source_line(&mut md, m);
    md.push('\n');
    let limit = format!(
        "- open-file soft limit: {}",
        results["bench"]["open_files_limit"]
    );
    machine_section(&mut md, m, &[limit]);
    let _ = writeln!(md, "## Raw results\n\nIn `results.json`.");
    std::fs::write(dir.join("README.md"), md)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let d: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let s = Stats::of(&d);
        assert_eq!(s.n, 100);
        assert!((s.p50 - 50.0).abs() < 1e-9);
        assert!((s.p90 - 90.0).abs() < 1e-9);
        assert!((s.p99 - 99.0).abs() < 1e-9);
        assert!((s.max - 100.0).abs() < 1e-9);
        assert!((s.mean - 50.5).abs() < 1e-9);
        assert!(Stats::of(&[]).to_json()["p50_ms"].is_null());
        let one = Stats::of(&[Duration::from_millis(3)]);
        assert!((one.p99 - 3.0).abs() < 1e-9);
    }

    #[test]
    fn targets_are_judged() {
        let run = json!({"clients": 1, "latency": {"p50_ms": 4.0, "p99_ms": 60.0}});
        assert_eq!(target_text(&run), "p50 ≤ 10 ms met, p99 ≤ 50 ms NOT met");
        assert_eq!(target_text(&json!({"clients": 7})), "");
    }
}

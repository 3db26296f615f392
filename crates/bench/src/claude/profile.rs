//! What is fixed for one session: its generation, project, branch, version and model.

use crate::clock::{date_ms, Millis};
use crate::rng::Rng;
use crate::text;

use super::{Gen, GEN_MIX};

/// Everything fixed for one session (and its sub-agents).
#[derive(Debug, Clone)]
pub(super) struct Profile {
    pub(super) gen: Gen,
    pub(super) session_id: String,
    pub(super) cwd: String,
    pub(super) branch: String,
    pub(super) version: String,
    pub(super) model: &'static str,
    pub(super) entrypoint: &'static str,
}

const USERS: &[&str] = &["dev", "alice", "jnarowski", "mchen", "sam", "r.ortiz"];
const REPOS: &[&str] = &[
    "tinyvex",
    "monorepo-v2",
    "billing_service",
    "web-dashboard",
    "ml.pipeline",
    "infra",
    "mobile-app",
    "cli-tools",
    "docs-site",
    "payments",
    "search-api",
    "data_ingest",
];
const SUBDIRS: &[&str] = &[
    "",
    "",
    "",
    "apps/web",
    "crates/core",
    "services/api",
    "packages/ui",
];
const BRANCHES: &[&str] = &[
    "main",
    "main",
    "master",
    "feat/team-optimization",
    "fix/cursor-offsets",
    "refactor/store",
    "HEAD",
    "",
];

/// The project working directories of a corpus (a few dozen, fixed by the seed).
pub(super) fn projects(seed: u64) -> Vec<String> {
    let mut r = Rng::derive(seed ^ 0xC1A0, 0);
    let mut out: Vec<String> = Vec::new();
    while out.len() < 36 {
        let user = r.pick(USERS);
        let repo = r.pick(REPOS);
        let sub = r.pick(SUBDIRS);
        let base = match r.below(3) {
            0 => format!("/Users/{user}/Dev/{repo}"),
            1 => format!("/home/{user}/src/{repo}"),
            _ => format!("/home/{user}/work/{repo}"),
        };
        let cwd = if sub.is_empty() {
            base
        } else {
            format!("{base}/{sub}")
        };
        if !out.contains(&cwd) {
            out.push(cwd);
        }
    }
    out
}

pub(super) fn profile(rng: &mut Rng, projects: &[String]) -> (Profile, Millis) {
    let weights: Vec<u32> = GEN_MIX.iter().map(|(_, w)| *w).collect();
    let gen = GEN_MIX[rng.weighted(&weights)].0;
    let frac = rng.unit();
    let (from, to, version) = match gen {
        Gen::V1 => (
            date_ms(2025, 7, 1),
            date_ms(2025, 9, 28),
            format!("1.0.{}", 60 + (frac * 68.0) as u32),
        ),
        Gen::V20 => (
            date_ms(2025, 10, 1),
            date_ms(2025, 12, 31),
            format!("2.0.{}", (frac * 76.0) as u32),
        ),
        Gen::V21 => (
            date_ms(2026, 1, 5),
            date_ms(2026, 11, 20),
            format!("2.1.{}", (frac * 330.0) as u32),
        ),
    };
    let start = from + ((to - from) as f64 * frac) as u64;
    // Zipf-like: a few projects get most sessions.
    let i = ((projects.len() as f64) * rng.unit().powi(2)) as usize;
    let model = match gen {
        Gen::V1 => *rng.pick(&["claude-sonnet-4-20250514", "claude-opus-4-1-20250805"]),
        Gen::V20 => *rng.pick(&[
            "claude-sonnet-4-5-20250929",
            "claude-sonnet-4-5-20250929",
            "claude-opus-4-5-20251101",
        ]),
        Gen::V21 => *rng.pick(&["claude-opus-4-6", "claude-opus-4-6", "claude-sonnet-4-6"]),
    };
    let entrypoint = if rng.chance(0.8) {
        "cli"
    } else {
        "claude-vscode"
    };
    (
        Profile {
            gen,
            session_id: text::uuid_v4(rng),
            cwd: projects[i.min(projects.len() - 1)].clone(),
            branch: (*rng.pick(BRANCHES)).to_string(),
            version,
            model,
            entrypoint,
        },
        start,
    )
}

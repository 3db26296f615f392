//! Turn structure: which records a user turn and each model request produce, per format.

use super::tools::Pending;
use super::{Format, Session};
use crate::text::uuid_v7;

/// Most lines a turn's closing writes (reasoning, answer, usage, task_complete).
pub(super) const CLOSE_LINES: usize = 7;

/// The tool a model request calls.
#[derive(Debug, Clone, Copy)]
pub(super) enum Action {
    Exec,
    Parallel,
    Patch,
    Plan,
    WebSearch,
    Mcp,
    WriteStdin,
}

impl Session<'_> {
    /// Whether this version persists `task_started`/`task_complete` (≈0.80+).
    fn task_events(&self) -> bool {
        match self.p.format {
            Format::Legacy | Format::V040 => false,
            Format::Current => self.p.minor >= 80,
            Format::Paginated => true,
        }
    }

    /// One user turn: prompt, model requests with tool calls, final answer.
    pub(super) fn turn(&mut self) {
        let first = self.turns == 0;
        self.turns += 1;
        if first {
            self.tick(5, 2_000);
        } else {
            self.tick(30_000, 3_600_000);
        }
        self.turn_id = uuid_v7(self.rng, self.now);
        // Optional records are left out when the line budget (`gen --append`) is nearly used.
        let roomy = self.remaining_lines() > 24;
        if self.task_events() {
            self.task_started();
        }
        if first {
            self.context_messages();
        }
        match self.p.format {
            Format::Legacy => {
                self.state_record();
                self.user_prompt();
            }
            Format::V040 => {
                self.user_prompt();
                self.turn_context();
            }
            Format::Current => {
                self.user_prompt();
                self.turn_context();
                if roomy && self.rng.chance(0.6) {
                    self.token_count(None);
                }
            }
            Format::Paginated => {
                self.turn_context();
                if roomy && self.rng.chance(0.5) {
                    self.thread_settings_applied();
                }
                self.user_prompt();
            }
        }
        let steps = self.rng.count(7.0, 0, 80);
        for i in 0..steps {
            if !self.room_for_step() || !self.step(i == 0) {
                break;
            }
        }
        if self.p.format == Format::Current && self.out.len() > 1_000_000 && self.rng.chance(0.04) {
            self.compacted();
        }
        if matches!(self.p.format, Format::V040 | Format::Current) && self.rng.chance(0.03) {
            self.turn_aborted();
            return;
        }
        self.tick(1_000, 20_000);
        if self.remaining_lines() > CLOSE_LINES && self.rng.chance(0.6) {
            self.reasoning();
        }
        let len = self.size(900.0, 1.1, 40, 16_000);
        let answer = self.assistant(Some("final_answer"), len);
        let usage = self.request_usage(answer.len());
        if self.p.format == Format::Paginated {
            self.usage_record(usage);
        }
        self.token_count(Some(usage));
        if self.task_events() {
            self.task_complete(&answer);
        }
        if self.p.format == Format::Legacy {
            self.state_record();
        }
    }

    /// One model request: settings snapshot (old versions), reasoning, narration, tool
    /// calls, usage, tool outputs. Returns false, writing nothing, when even its smallest
    /// form would not leave room for closing the turn within the line budget.
    fn step(&mut self, first_in_turn: bool) -> bool {
        let f = self.p.format;
        let avail = self.remaining_lines().saturating_sub(CLOSE_LINES);
        let mut context = match f {
            Format::V040 => !first_in_turn,
            Format::Current => self.p.minor < 120 && self.rng.chance(0.7),
            Format::Legacy | Format::Paginated => false,
        };
        let mut reasoning = self.rng.chance(0.8);
        let mut commentary =
            matches!(f, Format::Current | Format::Paginated) && self.rng.chance(0.3);
        let state = f == Format::Legacy && self.rng.chance(0.5);
        let action = self.pick_action();
        let mut calls = match action {
            Action::Parallel => 2 + self.rng.below(3),
            _ => 1,
        };
        let per_call = match (f, action) {
            (Format::Current, Action::WebSearch) => 1,
            (
                Format::Paginated,
                Action::Exec
                | Action::Parallel
                | Action::WriteStdin
                | Action::Patch
                | Action::WebSearch,
            ) => 3,
            _ => 2,
        };
        let fixed = usize::from(f != Format::Legacy)
            + usize::from(f == Format::Paginated)
            + usize::from(state);
        let reasoning_lines = if f == Format::Legacy { 1 } else { 2 };
        let need = |context: bool, reasoning: bool, commentary: bool, calls: usize| {
            fixed
                + usize::from(context)
                + usize::from(reasoning) * reasoning_lines
                + usize::from(commentary) * 2
                + calls * per_call
        };
        // Shrink to fit the line budget (only matters for `gen --append`).
        if need(context, reasoning, commentary, calls) > avail {
            commentary = false;
            context = false;
            calls = 1;
            if need(context, reasoning, commentary, calls) > avail {
                reasoning = false;
            }
            if need(context, reasoning, commentary, calls) > avail {
                return false;
            }
        }
        self.tick(800, 45_000);
        if context {
            self.turn_context();
        }
        if reasoning {
            self.reasoning();
        }
        if commentary {
            let len = self.size(180.0, 0.8, 30, 2_000);
            self.assistant(Some("commentary"), len);
        }
        let pending: Vec<Pending> = match action {
            Action::Parallel => (0..calls).map(|_| self.call(Action::Exec)).collect(),
            a => vec![self.call(a)],
        };
        let usage = self.request_usage(200);
        if f == Format::Paginated {
            self.usage_record(usage);
        }
        self.tick(50, 8_000);
        for c in pending {
            self.output(c);
        }
        self.token_count(Some(usage));
        if state {
            self.state_record();
        }
        true
    }

    fn pick_action(&mut self) -> Action {
        const ACTIONS: [Action; 7] = [
            Action::Exec,
            Action::Parallel,
            Action::Patch,
            Action::Plan,
            Action::WebSearch,
            Action::Mcp,
            Action::WriteStdin,
        ];
        let weights: &[u32; 7] = match self.p.format {
            Format::Legacy => &[90, 0, 0, 10, 0, 0, 0],
            Format::V040 => &[82, 0, 6, 10, 0, 2, 0],
            Format::Current => &[58, 8, 16, 5, 3, 6, 4],
            Format::Paginated => &[62, 6, 20, 4, 4, 2, 2],
        };
        ACTIONS[self.rng.weighted(weights)]
    }
}

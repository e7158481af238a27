//! The state of the watch screen and every change to it: [`App::update`]
//! takes an [`Action`] and returns what the collector should be told. Pure:
//! no terminal, no threads, no clock, so every key path is unit-tested.
//!
//! The visible rows are cached (`rules`, `states`: index lists into the
//! snapshot) and rebuilt only when the data, the filter, the sort or the
//! selected rule changes; moving the cursor touches nothing else, which
//! keeps a key press cheap at a million states.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use ratatui::layout::{Position, Rect};

use crate::analyze::{Analysis, RuleRow, Verdict};
use crate::lint::FindingSeverity;
use crate::model::{RuleKey, State};
use crate::tui::action::{Action, Command, Input};
use crate::tui::event::Control;
use crate::tui::kill::{self, KillAccess, KillPrompt};
use crate::tui::snapshot::{Snapshot, StateIdent};
use crate::tui::theme::Theme;
use crate::tui::view::{self, Areas};

/// The intervals `+` and `-` step through, in seconds.
pub const INTERVAL_STEPS: &[f64] = &[0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 15.0, 30.0, 60.0];

/// Which pane the movement keys act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Rules,
    States,
    Details,
}

/// The column the rules table is sorted by (`s` cycles, `r` reverses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortColumn {
    /// Listing order (rule number).
    Rule,
    ServerStates,
    AllStates,
    Rate,
    Verdict,
    /// The worst finding first (a bypass of a routing rule, then warnings).
    Finding,
}

impl SortColumn {
    fn next(self) -> Self {
        match self {
            SortColumn::Rule => SortColumn::ServerStates,
            SortColumn::ServerStates => SortColumn::AllStates,
            SortColumn::AllStates => SortColumn::Rate,
            SortColumn::Rate => SortColumn::Verdict,
            SortColumn::Verdict => SortColumn::Finding,
            SortColumn::Finding => SortColumn::Rule,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SortColumn::Rule => "rule",
            SortColumn::ServerStates => "server states",
            SortColumn::AllStates => "all states",
            SortColumn::Rate => "new/s",
            SortColumn::Verdict => "verdict",
            SortColumn::Finding => "finding",
        }
    }
}

/// The filter typed after `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    None,
    /// Case-insensitive text of the rule (text, anchor, labels, `@N`).
    Text(String),
    /// An address or prefix: rules with a state touching it, and those states.
    Net(IpNet),
}

impl Filter {
    /// An address or prefix is matched as parsed addresses (so
    /// `2001:db8:0::10` finds `2001:db8::10`); anything else as rule text.
    pub fn parse(text: &str) -> Self {
        let t = text.trim();
        if t.is_empty() {
            Filter::None
        } else if let Ok(net) = t.parse::<IpNet>() {
            Filter::Net(net.trunc())
        } else if let Ok(ip) = t.parse::<IpAddr>() {
            Filter::Net(IpNet::from(ip))
        } else {
            Filter::Text(t.to_lowercase())
        }
    }

    fn matches_state(&self, state: &State) -> bool {
        match self {
            Filter::Net(net) => state
                .addrs()
                .any(|e| e.addr.ip().is_some_and(|ip| net.contains(&ip))),
            _ => true,
        }
    }
}

/// What the header shows about the session (set once, at start).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The servers and ports, as the user gave them.
    pub servers: String,
    /// The source's own description (`pfctl (live)`, `recorded: …`).
    pub source: String,
    pub strategy: String,
    pub interval: Duration,
}

/// A one-line message for the banner (a refused `K`, a kill's result),
/// shown until the next key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    /// Something failed (shown like a pfctl failure).
    pub error: bool,
}

/// The watch screen's state.
#[derive(Debug)]
pub struct App {
    pub settings: Settings,
    pub theme: Theme,
    /// The last good poll.
    pub snapshot: Option<Snapshot>,
    /// A poll that arrived while paused, shown on resume.
    held: Option<Snapshot>,
    /// The last poll failed: shown as a banner over the last good data.
    pub error: Option<String>,
    pub polling: bool,
    pub polls: u64,
    pub paused: bool,
    /// `R` while paused: show the next poll even though paused.
    take_next_while_paused: bool,
    pub show_all_rules: bool,
    pub show_all_states: bool,
    /// `A` was pressed and the poll with the new set of states is pending.
    pub states_pending: bool,
    pub sort: SortColumn,
    pub reverse: bool,
    pub filter_text: String,
    pub filter: Filter,
    pub editing_filter: bool,
    /// The rule being typed after `:` (jump), while the prompt is open.
    pub jump: Option<String>,
    /// What `y` showed in the footer (the selected state's kill command),
    /// until the next key.
    pub copied: Option<String>,
    pub focus: Focus,
    pub details_open: bool,
    pub help_open: bool,
    pub should_quit: bool,
    /// Whether `K` may remove states (`--allow-kill` on a live source).
    pub kill: KillAccess,
    /// The kill confirmation being shown.
    pub kill_prompt: Option<KillPrompt>,
    /// Confirmed kill commands are running on the collector thread.
    pub killing: bool,
    pub notice: Option<Notice>,

    /// Visible rules: indexes into `snapshot.analysis.rows`, filtered and sorted.
    pub rules: Vec<usize>,
    pub rule_cursor: usize,
    pub rule_offset: usize,
    /// For an address filter: matching states per row.
    net_matches: Vec<u64>,
    /// Visible states of the selected rule: indexes into `analysis.states`.
    pub states: Arc<[u32]>,
    pub state_cursor: usize,
    pub state_offset: usize,
    /// How many of `states` are new since the previous poll.
    pub states_new: usize,
    /// The row `states` was built for, and whether data or filter changed
    /// since (only then is the list rebuilt: a sort keeps it).
    states_source: Option<usize>,
    states_stale: bool,
    pub details_scroll: u16,
    /// How far the details pane can scroll: its wrapped lines less its height.
    pub details_max_scroll: u16,
    selected_rule: Option<RuleKey>,
    selected_state: Option<StateIdent>,

    /// The whole screen, and where each pane was laid out on it.
    screen: Rect,
    pub areas: Areas,
}

impl App {
    pub fn new(settings: Settings, theme: Theme) -> Self {
        let mut app = App {
            settings,
            theme,
            snapshot: None,
            held: None,
            error: None,
            polling: false,
            polls: 0,
            paused: false,
            take_next_while_paused: false,
            show_all_rules: false,
            show_all_states: false,
            states_pending: false,
            sort: SortColumn::Rule,
            reverse: false,
            filter_text: String::new(),
            filter: Filter::None,
            editing_filter: false,
            jump: None,
            copied: None,
            focus: Focus::Rules,
            details_open: false,
            help_open: false,
            should_quit: false,
            kill: KillAccess::Refused(crate::kill::KillRefused::NotAllowed),
            kill_prompt: None,
            killing: false,
            notice: None,
            rules: Vec::new(),
            rule_cursor: 0,
            rule_offset: 0,
            net_matches: Vec::new(),
            states: Arc::from([]),
            state_cursor: 0,
            state_offset: 0,
            states_new: 0,
            states_source: None,
            states_stale: true,
            details_scroll: 0,
            details_max_scroll: 0,
            selected_rule: None,
            selected_state: None,
            screen: Rect::new(0, 0, 120, 32),
            areas: Areas::default(),
        };
        app.relayout();
        app
    }

    /// Tells the app the screen's size (before each draw).
    pub fn set_screen(&mut self, area: Rect) {
        if area != self.screen {
            self.screen = area;
            self.relayout();
        }
    }

    /// Where typed keys go now.
    pub fn input(&self) -> Input {
        if self.jump.is_some() {
            Input::Jump
        } else if self.editing_filter {
            Input::Filter
        } else {
            Input::Keys
        }
    }

    /// Applies an action. Returns what the collector must be told, if anything.
    pub fn update(&mut self, action: Action) -> Option<Control> {
        if self.is_key(&action) {
            self.copied = None;
            if !self.killing {
                self.notice = None;
            }
        }
        let control = match action {
            Action::Command(cmd) => self.command(cmd),
            Action::ConfirmKill(yes) => self.answer_kill(yes),
            Action::Killed(result) => {
                self.killing = false;
                let error = result.is_err();
                let text = result.unwrap_or_else(|e| e);
                self.notice = Some(Notice { text, error });
                None
            }
            Action::FilterChar(ch) => {
                self.filter_text.push(ch);
                self.filter_changed();
                None
            }
            Action::FilterBackspace => {
                self.filter_text.pop();
                self.filter_changed();
                None
            }
            Action::FilterAccept => {
                self.editing_filter = false;
                None
            }
            Action::FilterCancel => {
                self.editing_filter = false;
                self.clear_filter();
                None
            }
            Action::JumpChar(ch) => {
                if let Some(j) = &mut self.jump {
                    j.push(ch);
                }
                None
            }
            Action::JumpBackspace => {
                if let Some(j) = &mut self.jump {
                    j.pop();
                }
                None
            }
            Action::JumpAccept => {
                if let Some(target) = self.jump.take() {
                    self.jump_to(&target);
                }
                None
            }
            Action::JumpCancel => {
                self.jump = None;
                None
            }
            Action::ScrollUp(x, y) => {
                self.scroll_at(x, y, -3);
                None
            }
            Action::ScrollDown(x, y) => {
                self.scroll_at(x, y, 3);
                None
            }
            Action::Click(x, y) => {
                self.click(x, y);
                None
            }
            Action::PollStarted => {
                self.polling = true;
                None
            }
            Action::Polled(snapshot) => {
                self.polling = false;
                self.receive(*snapshot);
                None
            }
            Action::PollFailed(message) => {
                self.polling = false;
                self.error = Some(message);
                None
            }
        };
        self.relayout();
        control
    }

    /// True for what the user did (keys, mouse), which clears a notice.
    fn is_key(&self, action: &Action) -> bool {
        matches!(
            action,
            Action::Command(_)
                | Action::FilterChar(_)
                | Action::FilterBackspace
                | Action::FilterAccept
                | Action::FilterCancel
                | Action::JumpChar(_)
                | Action::JumpBackspace
                | Action::JumpAccept
                | Action::JumpCancel
                | Action::Click(..)
                | Action::ConfirmKill(_)
        )
    }

    fn command(&mut self, cmd: Command) -> Option<Control> {
        if self.kill_prompt.is_some() {
            // The confirmation is modal: it takes y / n (see
            // `action::confirm_key`); only quitting gets past it.
            if cmd == Command::Quit {
                self.should_quit = true;
                return Some(Control::Quit);
            }
            return None;
        }
        if self.help_open {
            // The help is modal: it closes with ?, Esc or q (Ctrl-C still quits).
            match cmd {
                Command::ToggleHelp | Command::Back => self.help_open = false,
                Command::Quit => self.should_quit = true,
                _ => {}
            }
            return self.should_quit.then_some(Control::Quit);
        }
        match cmd {
            Command::Up => self.move_by(-1),
            Command::Down => self.move_by(1),
            Command::PageUp => self.move_by(-self.page()),
            Command::PageDown => self.move_by(self.page()),
            Command::Home => self.move_by(isize::MIN / 2),
            Command::End => self.move_by(isize::MAX / 2),
            Command::FocusNext => self.cycle_focus(true),
            Command::FocusPrev => self.cycle_focus(false),
            Command::ToggleDetails => self.toggle_details(),
            Command::StartFilter => self.editing_filter = true,
            Command::CycleSort => {
                self.sort = self.sort.next();
                self.refresh_rules();
            }
            Command::ReverseSort => {
                self.reverse = !self.reverse;
                self.refresh_rules();
            }
            Command::ToggleAllRules => {
                self.show_all_rules = !self.show_all_rules;
                self.refresh_rules();
            }
            Command::ToggleAllStates => {
                // A view: the data stays. The states shown now are what
                // this poll kept; with all states asked for and only server
                // states kept, the rest comes with the next poll.
                self.show_all_states = !self.show_all_states;
                self.refresh_states(true);
                return Some(Control::KeepAllStates(self.show_all_states));
            }
            Command::TogglePause => return Some(self.toggle_pause()),
            Command::ShorterInterval => return self.step_interval(false),
            Command::LongerInterval => return self.step_interval(true),
            Command::RefreshNow => {
                if self.paused {
                    self.take_next_while_paused = true;
                }
                return Some(Control::RefreshNow);
            }
            Command::Kill => self.ask_kill(),
            Command::ToggleHelp => self.help_open = true,
            Command::StartJump => self.jump = Some(String::new()),
            Command::NextHarmful => self.next_harmful(true),
            Command::PrevHarmful => self.next_harmful(false),
            Command::CopyState => self.copy_state(),
            Command::Back => self.back(),
            Command::Quit => {
                self.should_quit = true;
                return Some(Control::Quit);
            }
        }
        None
    }

    /// `K`: the confirmation for the selected rule's spurious server
    /// states, or a notice saying why there is none.
    fn ask_kill(&mut self) {
        let refused = |text: String| Some(Notice { text, error: false });
        let pfctl = match &self.kill {
            KillAccess::Refused(why) => {
                self.notice = refused(kill::refusal_text(*why).to_string());
                return;
            }
            KillAccess::Allowed(pfctl) => pfctl,
        };
        if self.killing {
            self.notice = refused("K: the previous kill is still running".into());
            return;
        }
        let (Some(snap), Some(&row)) = (&self.snapshot, self.rules.get(self.rule_cursor)) else {
            self.notice = refused("K: no rule selected".into());
            return;
        };
        match kill::prompt(&snap.analysis, row, pfctl) {
            Ok(prompt) => self.kill_prompt = Some(prompt),
            Err(text) => self.notice = refused(text),
        }
    }

    /// `y` or `n` on the kill confirmation.
    fn answer_kill(&mut self, yes: bool) -> Option<Control> {
        let prompt = self.kill_prompt.take()?;
        if !yes {
            self.notice = Some(Notice {
                text: format!("K: nothing was removed from {}", prompt.rule),
                error: false,
            });
            return None;
        }
        let n = prompt.plan.len();
        let rule = prompt.rule;
        match kill::confirm(&self.kill, prompt) {
            Ok(job) => {
                self.killing = true;
                // The poll that follows the kill shows what is left, paused or not.
                if self.paused {
                    self.take_next_while_paused = true;
                }
                self.notice = Some(Notice {
                    text: format!(
                        "removing {n} state{} of {rule}…",
                        if n == 1 { "" } else { "s" }
                    ),
                    error: false,
                });
                Some(Control::Kill(Box::new(job)))
            }
            Err(why) => {
                self.notice = Some(Notice {
                    text: kill::refusal_text(why).to_string(),
                    error: false,
                });
                None
            }
        }
    }

    /// Esc: undo the last thing opened. It never quits (q, F10, Ctrl-C do):
    /// one Esc too many must not end a session.
    fn back(&mut self) {
        if !self.filter_text.is_empty() {
            self.clear_filter();
        } else if self.details_open {
            self.toggle_details();
        }
    }

    /// `:` then Enter: selects the rule typed (`@17`, `17`, `relayd/0`,
    /// `@1:2`), showing all rules when it is not among those listed.
    fn jump_to(&mut self, target: &str) {
        let Some(snap) = &self.snapshot else {
            return;
        };
        let Some(want) = parse_jump(target) else {
            self.notice = Some(Notice {
                text: format!(": `{}` is not a rule (try @17 or relayd/0)", target.trim()),
                error: false,
            });
            return;
        };
        let Some(row) = snap.analysis.rows.iter().position(|r| want.matches(r)) else {
            self.notice = Some(Notice {
                text: format!(": no rule {} in this ruleset", target.trim()),
                error: false,
            });
            return;
        };
        if !self.rules.contains(&row) {
            self.show_all_rules = true;
            self.clear_filter();
            self.refresh_rules();
        }
        if let Some(at) = self.rules.iter().position(|i| *i == row) {
            self.focus = Focus::Rules;
            self.rule_cursor = at;
            self.rule_selected();
        }
    }

    /// `n` / `N`: the next (previous) harmful rule in the table, wrapping.
    fn next_harmful(&mut self, forward: bool) {
        let Some(snap) = &self.snapshot else {
            return;
        };
        let a = &snap.analysis;
        let harmful = |i: usize| {
            a.rows
                .get(i)
                .is_some_and(|r| r.verdict.is_some_and(Verdict::is_failure))
                || a.findings_for(i).next().is_some()
        };
        let n = self.rules.len();
        let found = (1..=n)
            .map(|d| {
                if forward {
                    (self.rule_cursor + d) % n
                } else {
                    (self.rule_cursor + n - d % n) % n
                }
            })
            .find(|at| harmful(self.rules[*at]));
        match found {
            Some(at) => {
                self.focus = Focus::Rules;
                if at != self.rule_cursor {
                    self.rule_cursor = at;
                    self.rule_selected();
                }
            }
            None => {
                self.notice = Some(Notice {
                    text: "n: no harmful rule in this list (a: all rules)".into(),
                    error: false,
                });
            }
        }
    }

    /// `y`: the selected state's kill command, shown in the footer to be
    /// copied with the terminal's own selection (no escape sequences).
    fn copy_state(&mut self) {
        let Some(state) = self.current_state() else {
            self.notice = Some(Notice {
                text: "y: no state selected".into(),
                error: false,
            });
            return;
        };
        let text = match crate::kill::plan(std::slice::from_ref(&state)).first() {
            Some(args) => {
                let args: Vec<String> = args
                    .iter()
                    .map(|a| {
                        if a.contains(' ') {
                            format!("'{a}'")
                        } else {
                            a.clone()
                        }
                    })
                    .collect();
                format!("pfctl {}", args.join(" "))
            }
            None => match state.id {
                Some(id) => format!("id {id:016x}"),
                None => "this state has no id and no key pfctl can take".to_string(),
            },
        };
        self.copied = Some(text);
    }

    fn toggle_details(&mut self) {
        self.details_open = !self.details_open;
        self.details_scroll = 0;
        if !self.details_open && self.focus == Focus::Details {
            self.focus = Focus::Rules;
        }
        self.relayout();
        // When details take the states pane's place, keep focus somewhere visible.
        if self.focus == Focus::States && self.areas.states.is_none() {
            self.focus = Focus::Details;
        }
    }

    fn toggle_pause(&mut self) -> Control {
        self.paused = !self.paused;
        if self.paused {
            Control::Pause
        } else {
            self.take_next_while_paused = false;
            if let Some(held) = self.held.take() {
                self.show(held);
            }
            Control::Resume
        }
    }

    fn step_interval(&mut self, longer: bool) -> Option<Control> {
        let now = self.settings.interval.as_secs_f64();
        let next = if longer {
            INTERVAL_STEPS.iter().copied().find(|s| *s > now + 1e-9)
        } else {
            INTERVAL_STEPS
                .iter()
                .rev()
                .copied()
                .find(|s| *s < now - 1e-9)
        }?;
        self.settings.interval = Duration::from_secs_f64(next);
        Some(Control::SetInterval(self.settings.interval))
    }

    fn cycle_focus(&mut self, forward: bool) {
        let mut order = vec![Focus::Rules];
        if self.areas.states.is_some() {
            order.push(Focus::States);
        }
        if self.areas.details.is_some() {
            order.push(Focus::Details);
        }
        let at = order.iter().position(|f| *f == self.focus).unwrap_or(0);
        let n = order.len();
        let next = if forward {
            (at + 1) % n
        } else {
            (at + n - 1) % n
        };
        self.focus = order[next];
    }

    /// Rows a page key moves: the visible rows of the focused pane, less one.
    fn page(&self) -> isize {
        let h = match self.focus {
            Focus::Rules => self.areas.rules_body.height,
            Focus::States => self.areas.states_body.height,
            Focus::Details => self.areas.details.map_or(1, |r| r.height.saturating_sub(2)),
        };
        (h as isize - 1).max(1)
    }

    fn move_by(&mut self, delta: isize) {
        match self.focus {
            Focus::Rules => {
                let to = step(self.rule_cursor, delta, self.rules.len());
                if to != self.rule_cursor {
                    self.rule_cursor = to;
                    self.rule_selected();
                }
            }
            Focus::States => {
                self.state_cursor = step(self.state_cursor, delta, self.states.len());
                self.remember_state();
            }
            Focus::Details => {
                let max = self.details_max_scroll as isize;
                let to = (self.details_scroll as isize)
                    .saturating_add(delta)
                    .clamp(0, max);
                self.details_scroll = to as u16;
            }
        }
    }

    /// The rule cursor moved: show the states of the new rule.
    fn rule_selected(&mut self) {
        self.selected_rule = self.current_row().map(|r| r.key);
        self.state_cursor = 0;
        self.state_offset = 0;
        self.details_scroll = 0;
        self.refresh_states(false);
    }

    fn scroll_at(&mut self, x: u16, y: u16, delta: isize) {
        let p = Position::new(x, y);
        let focus = if self.areas.rules.contains(p) {
            Focus::Rules
        } else if self.areas.states.is_some_and(|r| r.contains(p)) {
            Focus::States
        } else if self.areas.details.is_some_and(|r| r.contains(p)) {
            Focus::Details
        } else {
            return;
        };
        let before = self.focus;
        self.focus = focus;
        self.move_by(delta);
        self.focus = before;
    }

    fn click(&mut self, x: u16, y: u16) {
        if self.kill_prompt.is_some() {
            // Only y / n answer the confirmation.
            return;
        }
        if self.help_open {
            self.help_open = false;
            return;
        }
        self.jump = None;
        let p = Position::new(x, y);
        if let Some(col) = self.header_column_at(p) {
            self.focus = Focus::Rules;
            self.sort_by(col);
        } else if self.areas.rules_body.contains(p) {
            self.focus = Focus::Rules;
            let at = self.rule_offset + usize::from(y - self.areas.rules_body.y);
            if at < self.rules.len() && at != self.rule_cursor {
                self.rule_cursor = at;
                self.rule_selected();
            }
        } else if self.areas.states.is_some() && self.areas.states_body.contains(p) {
            self.focus = Focus::States;
            let at = self.state_offset + usize::from(y - self.areas.states_body.y);
            if at < self.states.len() {
                self.state_cursor = at;
                self.remember_state();
            }
        } else if self.areas.details.is_some_and(|r| r.contains(p)) {
            self.focus = Focus::Details;
        } else if self.areas.states.is_some_and(|r| r.contains(p)) {
            self.focus = Focus::States;
        } else if self.areas.rules.contains(p) {
            self.focus = Focus::Rules;
        }
    }

    /// The sortable column of the rules table's header row at `p`, if any.
    fn header_column_at(&self, p: Position) -> Option<SortColumn> {
        let body = self.areas.rules_body;
        self.snapshot.as_ref()?;
        if self.rules.is_empty() || p.y + 1 != body.y {
            return None;
        }
        view::rules::columns_of(self)
            .into_iter()
            .find(|c| p.x >= body.x + c.x && p.x < body.x + c.x + c.width)
            .and_then(|c| c.sort)
    }

    /// A click on a column header: sort by it; a second click reverses.
    fn sort_by(&mut self, col: SortColumn) {
        if self.sort == col {
            self.reverse = !self.reverse;
        } else {
            self.sort = col;
            self.reverse = false;
        }
        self.refresh_rules();
    }

    fn receive(&mut self, snapshot: Snapshot) {
        if self.paused && !self.take_next_while_paused {
            self.held = Some(snapshot);
            return;
        }
        self.take_next_while_paused = false;
        self.show(snapshot);
    }

    fn show(&mut self, snapshot: Snapshot) {
        self.polls += 1;
        self.error = None;
        self.snapshot = Some(snapshot);
        self.states_stale = true;
        self.compute_net_matches();
        self.refresh_rules();
    }

    fn clear_filter(&mut self) {
        self.filter_text.clear();
        self.filter_changed();
    }

    fn filter_changed(&mut self) {
        let filter = Filter::parse(&self.filter_text);
        if filter != self.filter {
            self.filter = filter;
            self.states_stale = true;
            self.compute_net_matches();
            self.refresh_rules();
        }
    }

    /// One pass over the states: how many states of each row the address
    /// filter matches (done when the data or the filter changes, not per key).
    fn compute_net_matches(&mut self) {
        self.net_matches.clear();
        let (Some(snap), Filter::Net(_)) = (&self.snapshot, &self.filter) else {
            return;
        };
        self.net_matches = vec![0; snap.analysis.rows.len()];
        for (state, row) in snap.analysis.states.iter() {
            if self.filter.matches_state(&state)
                && let Some(n) = self.net_matches.get_mut(row)
            {
                *n += 1;
            }
        }
    }

    /// Rebuilds the visible rules (filter + sort) and puts the cursor back on
    /// the selected rule; on the first poll, on the first spurious rule.
    fn refresh_rules(&mut self) {
        let Some(snap) = &self.snapshot else {
            self.rules.clear();
            self.states = Arc::from([]);
            return;
        };
        let rows = &snap.analysis.rows;
        let mut visible: Vec<usize> = (0..rows.len())
            .filter(|i| self.row_visible(*i, &rows[*i]))
            .collect();
        sort_rows(&mut visible, &snap.analysis, self.sort, self.reverse);
        self.rules = visible;

        let old_cursor = self.rule_cursor;
        let found = self.selected_rule.and_then(|key| {
            self.rules
                .iter()
                .position(|i| rows.get(*i).is_some_and(|r| r.key == key))
        });
        self.rule_cursor = match (found, self.selected_rule) {
            (Some(at), _) => at,
            (None, None) => self
                .rules
                .iter()
                .position(|i| {
                    rows.get(*i)
                        .is_some_and(|r| r.verdict.is_some_and(Verdict::is_failure))
                })
                .unwrap_or(0),
            (None, Some(_)) => old_cursor.min(self.rules.len().saturating_sub(1)),
        };
        let same_rule = found.is_some();
        let key = self.current_row().map(|r| r.key);
        if key.is_some() {
            self.selected_rule = key;
        }
        if self.states_stale || self.rules.get(self.rule_cursor).copied() != self.states_source {
            self.refresh_states(same_rule);
        }
    }

    fn row_visible(&self, index: usize, row: &RuleRow) -> bool {
        if !self.show_all_rules && row.server_states == 0 {
            return false;
        }
        match &self.filter {
            Filter::None => true,
            Filter::Net(_) => self.net_matches.get(index).is_some_and(|n| *n > 0),
            Filter::Text(t) => row_text_matches(row, t),
        }
    }

    /// Rebuilds the visible states of the selected rule. With `keep`, the
    /// cursor goes back to the selected state (by id or 5-tuple).
    fn refresh_states(&mut self, keep: bool) {
        self.states = Arc::from([]);
        self.states_new = 0;
        self.states_stale = false;
        self.states_source = self.rules.get(self.rule_cursor).copied();
        self.states_pending = self.show_all_states
            && self
                .snapshot
                .as_ref()
                .is_some_and(|s| !s.all_kept && !s.analysis.servers.nets.is_empty());
        let (Some(snap), Some(&row)) = (&self.snapshot, self.rules.get(self.rule_cursor)) else {
            self.state_cursor = 0;
            return;
        };
        let Some(list) = snap.by_row.get(row) else {
            return;
        };
        // A poll that kept every state also serves the server-only view.
        let servers = &snap.analysis.servers;
        let server_only = !self.show_all_states && snap.all_kept && !servers.nets.is_empty();
        let filtering = server_only || matches!(self.filter, Filter::Net(_));
        self.states = if filtering {
            list.iter()
                .copied()
                .filter(|i| {
                    snap.state(*i).is_some_and(|s| {
                        self.filter.matches_state(&s) && (!server_only || servers.matches(&s))
                    })
                })
                .collect()
        } else {
            Arc::clone(list)
        };
        let found = if keep {
            self.selected_state.as_ref().and_then(|want| {
                self.states
                    .iter()
                    .position(|i| snap.state(*i).is_some_and(|s| want.is(&s)))
            })
        } else {
            None
        };
        // New states come first in each list (see `Snapshot::build`).
        self.states_new = self.states.iter().take_while(|i| snap.is_new(**i)).count();
        self.state_cursor = match found {
            Some(at) => at,
            None if keep => self.state_cursor.min(self.states.len().saturating_sub(1)),
            None => 0,
        };
        self.remember_state();
    }

    fn remember_state(&mut self) {
        self.selected_state = self.current_state().as_ref().map(StateIdent::of);
    }

    /// The index (into `analysis.rows`) of the selected row.
    pub fn current_row_index(&self) -> Option<usize> {
        self.snapshot.as_ref()?;
        self.rules.get(self.rule_cursor).copied()
    }

    /// The selected row of the rules table.
    pub fn current_row(&self) -> Option<&RuleRow> {
        let snap = self.snapshot.as_ref()?;
        snap.analysis.rows.get(*self.rules.get(self.rule_cursor)?)
    }

    /// The selected state (built from the analysis' compact store).
    pub fn current_state(&self) -> Option<State> {
        let snap = self.snapshot.as_ref()?;
        snap.state(*self.states.get(self.state_cursor)?)
    }

    /// Recomputes the layout for the current screen and state, and scrolls
    /// each table so its cursor is visible.
    fn relayout(&mut self) {
        self.areas = view::layout(self.screen, self);
        if self.focus == Focus::States && self.areas.states.is_none() {
            self.focus = if self.areas.details.is_some() {
                Focus::Details
            } else {
                Focus::Rules
            };
        }
        if self.focus == Focus::Details && self.areas.details.is_none() {
            self.focus = Focus::Rules;
        }
        self.rule_offset = keep_visible(
            self.rule_cursor,
            self.rule_offset,
            self.areas.rules_body.height as usize,
            self.rules.len(),
        );
        let height = self.areas.states_body.height as usize;
        self.state_offset = keep_visible(
            self.state_cursor,
            self.state_offset,
            height,
            self.states.len(),
        );
        // New states are listed first: scroll back up to them when the
        // cursor stays visible, so what just appeared is not hidden.
        if self.states_new > 0 && self.state_offset > 0 {
            self.state_offset = (self.state_cursor + 1).saturating_sub(height);
        }
        self.details_max_scroll = self.areas.details.map_or(0, |area| {
            let inner = area.height.saturating_sub(2);
            let lines = view::details::lines(self, area.width.saturating_sub(2)).len();
            u16::try_from(lines)
                .unwrap_or(u16::MAX)
                .saturating_sub(inner)
        });
        self.details_scroll = self.details_scroll.min(self.details_max_scroll);
    }
}

/// Moves `at` by `delta` within `0..len`.
fn step(at: usize, delta: isize, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    (at as isize)
        .saturating_add(delta)
        .clamp(0, len as isize - 1) as usize
}

/// The first visible row so that `cursor` is on screen, moving as little as
/// possible from `offset`.
fn keep_visible(cursor: usize, offset: usize, height: usize, len: usize) -> usize {
    if height == 0 {
        return cursor;
    }
    let max_offset = len.saturating_sub(height);
    let offset = offset.min(max_offset);
    if cursor < offset {
        cursor
    } else if cursor >= offset + height {
        cursor + 1 - height
    } else {
        offset
    }
}

/// A rule typed after `:`: a number in an anchor path (empty: the main
/// ruleset), or a key as the table prints it (`@1:2`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum JumpTarget {
    Path(String, u32),
    Key(String),
}

impl JumpTarget {
    fn matches(&self, row: &RuleRow) -> bool {
        match self {
            JumpTarget::Path(path, n) => row.anchor_path == *path && row.key.number == Some(*n),
            JumpTarget::Key(key) => row.key.to_string() == *key,
        }
    }
}

/// `@17` / `17` (main ruleset), `relayd/0` (rule 0 of anchor `relayd`),
/// `@1:2` (a key as listed).
fn parse_jump(text: &str) -> Option<JumpTarget> {
    let t = text.trim();
    let bare = t.strip_prefix('@').unwrap_or(t);
    if let Ok(n) = bare.parse::<u32>() {
        return Some(JumpTarget::Path(String::new(), n));
    }
    if let Some((path, n)) = bare.rsplit_once('/')
        && let Ok(n) = n.parse::<u32>()
        && !path.is_empty()
    {
        return Some(JumpTarget::Path(path.to_string(), n));
    }
    (t.starts_with('@') && t.len() > 1).then(|| JumpTarget::Key(t.to_string()))
}

fn row_text_matches(row: &RuleRow, needle: &str) -> bool {
    let has = |s: &str| s.to_lowercase().contains(needle);
    has(&row.key.to_string())
        || has(&row.anchor_path)
        || row
            .rule
            .as_ref()
            .is_some_and(|r| has(&r.text) || r.labels.iter().any(|l| has(l)))
}

/// The row's worst finding (a bypass of a routing rule is an error), if any.
fn finding_rank(a: &Analysis, row: usize) -> Option<FindingSeverity> {
    a.findings_for(row).map(|f| f.severity).max()
}

fn verdict_rank(v: Option<Verdict>) -> u8 {
    match v {
        Some(v) if v.is_failure() => 3,
        Some(Verdict::Unexplained | Verdict::Stateful) => 2,
        Some(_) => 1,
        None => 0,
    }
}

/// Sorts row indexes. Counts sort most first, the rule column in listing
/// order; `reverse` flips either. Ties keep listing order.
fn sort_rows(visible: &mut [usize], analysis: &Analysis, by: SortColumn, reverse: bool) {
    use std::cmp::Ordering;
    let rows = &analysis.rows;
    let key = |i: &usize| rows.get(*i);
    visible.sort_by(|a, b| {
        let (Some(ra), Some(rb)) = (key(a), key(b)) else {
            return a.cmp(b);
        };
        let primary = match by {
            SortColumn::Rule => Ordering::Equal,
            SortColumn::ServerStates => rb.server_states.cmp(&ra.server_states),
            SortColumn::AllStates => rb.all_states.cmp(&ra.all_states),
            SortColumn::Rate => rb.rate.unwrap_or(0.0).total_cmp(&ra.rate.unwrap_or(0.0)),
            SortColumn::Verdict => verdict_rank(rb.verdict)
                .cmp(&verdict_rank(ra.verdict))
                .then(rb.server_states.cmp(&ra.server_states)),
            SortColumn::Finding => finding_rank(analysis, *b)
                .cmp(&finding_rank(analysis, *a))
                .then(rb.server_states.cmp(&ra.server_states)),
        };
        let ord = primary.then(a.cmp(b));
        if reverse { ord.reverse() } else { ord }
    });
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::tui::fake;
    use crate::tui::snapshot::NewStateTracker;
    use std::sync::Arc;

    fn settings() -> Settings {
        Settings {
            servers: "2001:db8::10 port 443".into(),
            source: "recorded: test".into(),
            strategy: "auto".into(),
            interval: Duration::from_secs(2),
        }
    }

    fn app() -> App {
        let mut app = App::new(settings(), Theme::new(false));
        app.update(Action::Polled(Box::new(fake::snapshot())));
        app
    }

    fn cmd(app: &mut App, c: Command) -> Option<Control> {
        app.update(Action::Command(c))
    }

    fn selected_key(app: &App) -> Option<String> {
        app.current_row().map(|r| r.key.to_string())
    }

    #[test]
    fn first_poll_selects_the_first_spurious_rule() {
        let app = app();
        assert_eq!(selected_key(&app).as_deref(), Some("@5"));
        // Only rules with server states: @5 and @6.
        assert_eq!(app.rules.len(), 2);
        assert_eq!(app.states.len(), 5);
    }

    #[test]
    fn all_rules_toggle_shows_every_row() {
        let mut app = app();
        cmd(&mut app, Command::ToggleAllRules);
        assert_eq!(app.rules.len(), 9);
        assert_eq!(selected_key(&app).as_deref(), Some("@5"), "selection kept");
        cmd(&mut app, Command::ToggleAllRules);
        assert_eq!(app.rules.len(), 2);
    }

    #[test]
    fn moving_changes_the_states_shown() {
        let mut app = app();
        cmd(&mut app, Command::Down);
        assert_eq!(selected_key(&app).as_deref(), Some("@6"));
        assert_eq!(app.states.len(), 1);
        cmd(&mut app, Command::Down);
        assert_eq!(
            selected_key(&app).as_deref(),
            Some("@6"),
            "stops at the end"
        );
        cmd(&mut app, Command::Home);
        assert_eq!(selected_key(&app).as_deref(), Some("@5"));
    }

    #[test]
    fn sort_cycles_and_reverses() {
        let mut app = app();
        cmd(&mut app, Command::ToggleAllRules);
        cmd(&mut app, Command::CycleSort);
        assert_eq!(app.sort, SortColumn::ServerStates);
        let first = |app: &App| {
            let snap = app.snapshot.as_ref().unwrap();
            snap.analysis.rows[app.rules[0]].key.to_string()
        };
        assert_eq!(first(&app), "@5");
        cmd(&mut app, Command::CycleSort);
        assert_eq!(app.sort, SortColumn::AllStates);
        assert_eq!(first(&app), "@6", "40 states in all");
        cmd(&mut app, Command::ReverseSort);
        assert_ne!(first(&app), "@6");
        assert_eq!(
            selected_key(&app).as_deref(),
            Some("@5"),
            "selection follows the rule"
        );
    }

    #[test]
    fn address_filter_matches_parsed_addresses() {
        let mut app = app();
        cmd(&mut app, Command::StartFilter);
        assert!(app.editing_filter);
        // A non-canonical spelling of a client of @6 (2001:db8:0:aaaa::9).
        for ch in "2001:0db8:0:aaaa:0::9".chars() {
            app.update(Action::FilterChar(ch));
        }
        assert!(matches!(app.filter, Filter::Net(_)));
        assert_eq!(app.rules.len(), 1);
        assert_eq!(selected_key(&app).as_deref(), Some("@6"));
        app.update(Action::FilterAccept);
        assert!(!app.editing_filter);
        assert_eq!(app.filter_text, "2001:0db8:0:aaaa:0::9");
    }

    #[test]
    fn prefix_filter_narrows_states() {
        let mut app = app();
        for ch in "2001:db8:0:1::3/128".chars() {
            app.update(Action::FilterChar(ch));
        }
        assert_eq!(app.rules.len(), 1);
        assert_eq!(app.states.len(), 1);
        app.update(Action::FilterCancel);
        assert_eq!(app.filter, Filter::None);
        assert_eq!(app.states.len(), 5);
    }

    #[test]
    fn text_filter_matches_rule_text() {
        let mut app = app();
        cmd(&mut app, Command::ToggleAllRules);
        for ch in "GIF0".chars() {
            app.update(Action::FilterChar(ch));
        }
        assert_eq!(app.filter, Filter::Text("gif0".into()));
        // @1, @3 (route-to gif0), @4.
        assert_eq!(app.rules.len(), 3);
        app.update(Action::FilterBackspace);
        assert_eq!(app.filter, Filter::Text("gif".into()));
    }

    #[test]
    fn esc_closes_things_before_quitting() {
        let mut app = app();
        cmd(&mut app, Command::ToggleHelp);
        assert!(app.help_open);
        assert_eq!(cmd(&mut app, Command::Down), None);
        assert_eq!(selected_key(&app).as_deref(), Some("@5"), "help is modal");
        assert_eq!(cmd(&mut app, Command::Back), None);
        assert!(!app.help_open);
        app.update(Action::FilterChar('x'));
        cmd(&mut app, Command::ToggleDetails);
        assert_eq!(cmd(&mut app, Command::Back), None);
        assert!(app.filter_text.is_empty());
        assert!(app.details_open);
        assert_eq!(cmd(&mut app, Command::Back), None);
        assert!(!app.details_open);
        assert_eq!(cmd(&mut app, Command::Back), None, "Esc never quits");
        assert!(!app.should_quit);
        assert_eq!(cmd(&mut app, Command::Quit), Some(Control::Quit));
        assert!(app.should_quit);
    }

    #[test]
    fn pause_freezes_data_until_resumed() {
        let mut app = app();
        assert_eq!(cmd(&mut app, Command::TogglePause), Some(Control::Pause));
        let mut later = fake::snapshot();
        Arc::make_mut(&mut later.analysis).server_states = 99;
        app.update(Action::Polled(Box::new(later)));
        assert_eq!(app.snapshot.as_ref().unwrap().analysis.server_states, 6);
        // Keys still work while paused.
        cmd(&mut app, Command::Down);
        assert_eq!(selected_key(&app).as_deref(), Some("@6"));
        assert_eq!(cmd(&mut app, Command::TogglePause), Some(Control::Resume));
        assert_eq!(app.snapshot.as_ref().unwrap().analysis.server_states, 99);
        assert_eq!(selected_key(&app).as_deref(), Some("@6"));
    }

    #[test]
    fn refresh_while_paused_shows_one_poll() {
        let mut app = app();
        cmd(&mut app, Command::TogglePause);
        assert_eq!(
            cmd(&mut app, Command::RefreshNow),
            Some(Control::RefreshNow)
        );
        let mut later = fake::snapshot();
        Arc::make_mut(&mut later.analysis).server_states = 7;
        app.update(Action::Polled(Box::new(later.clone())));
        assert_eq!(app.snapshot.as_ref().unwrap().analysis.server_states, 7);
        Arc::make_mut(&mut later.analysis).server_states = 8;
        app.update(Action::Polled(Box::new(later)));
        assert_eq!(app.snapshot.as_ref().unwrap().analysis.server_states, 7);
    }

    #[test]
    fn interval_steps() {
        let mut app = app();
        assert_eq!(
            cmd(&mut app, Command::LongerInterval),
            Some(Control::SetInterval(Duration::from_secs(3)))
        );
        cmd(&mut app, Command::ShorterInterval);
        cmd(&mut app, Command::ShorterInterval);
        cmd(&mut app, Command::ShorterInterval);
        assert_eq!(app.settings.interval, Duration::from_millis(500));
        assert_eq!(
            cmd(&mut app, Command::ShorterInterval),
            None,
            "already the shortest"
        );
    }

    #[test]
    fn failure_keeps_the_last_good_data() {
        let mut app = app();
        app.update(Action::PollFailed("pfctl: permission denied".into()));
        assert_eq!(app.error.as_deref(), Some("pfctl: permission denied"));
        assert_eq!(app.rules.len(), 2);
        app.update(Action::Polled(Box::new(fake::snapshot())));
        assert!(app.error.is_none());
    }

    #[test]
    fn selection_follows_rule_and_state_across_polls() {
        let mut app = app();
        cmd(&mut app, Command::FocusNext);
        assert_eq!(app.focus, Focus::States);
        cmd(&mut app, Command::Down);
        cmd(&mut app, Command::Down);
        let want = app.current_state().unwrap().id;
        // Next poll: states in another order, one state gone, one new.
        let mut a = fake::analysis();
        a.states = a.states.reordered((0..a.states.len()).rev());
        a.states.retain(|s, _| s.id != Some(0x6640_0000_0000_0001));
        a.states.push((fake::server_state(5, 7, 1, 7), 5));
        let mut tracker = NewStateTracker::default();
        let before: Vec<State> = fake::analysis().states.iter().map(|(s, _)| s).collect();
        tracker.mark(before.iter());
        let snap = Snapshot::build(Arc::new(a), None, Duration::ZERO, &mut tracker);
        assert_eq!(snap.new_count, 1);
        app.update(Action::Polled(Box::new(snap)));
        assert_eq!(selected_key(&app).as_deref(), Some("@5"));
        assert_eq!(app.current_state().unwrap().id, want);
    }

    #[test]
    fn focus_cycles_through_visible_panes() {
        let mut app = app();
        cmd(&mut app, Command::FocusNext);
        assert_eq!(app.focus, Focus::States);
        cmd(&mut app, Command::FocusNext);
        assert_eq!(app.focus, Focus::Rules, "no details pane yet");
        cmd(&mut app, Command::ToggleDetails);
        cmd(&mut app, Command::FocusPrev);
        assert_eq!(app.focus, Focus::Details);
        // Everything fits at 120x32: nothing to scroll.
        assert_eq!(app.details_max_scroll, 0);
        cmd(&mut app, Command::Down);
        assert_eq!(app.details_scroll, 0);
    }

    /// The app after every poll of `pfblame demo` (whose @14 has a finding).
    fn demo_app() -> App {
        use crate::tui::event::Poller;
        let mut p = crate::tui::pipeline::Pipeline::new(
            crate::commands::demo::source(),
            crate::commands::demo::config(),
        );
        let mut app = App::new(settings(), Theme::new(false));
        while !p.exhausted() {
            app.update(Action::Polled(Box::new(p.poll().unwrap())));
        }
        app
    }

    fn notice(app: &App) -> String {
        app.notice
            .as_ref()
            .map(|n| n.text.clone())
            .unwrap_or_default()
    }

    #[test]
    fn kill_is_refused_without_allow_kill() {
        let mut app = demo_app();
        assert_eq!(selected_key(&app).as_deref(), Some("@14"));
        assert_eq!(cmd(&mut app, Command::Kill), None);
        assert!(app.kill_prompt.is_none());
        assert!(
            notice(&app).contains("needs --allow-kill"),
            "{}",
            notice(&app)
        );
        // The next key clears the message.
        cmd(&mut app, Command::Down);
        assert!(app.notice.is_none());
    }

    #[test]
    fn kill_is_refused_on_recorded_data() {
        let mut app = demo_app();
        let pfctl = crate::source::Pfctl::new("pfctl", 5.0).unwrap();
        app.kill = KillAccess::new(true, false, Some(pfctl));
        assert_eq!(cmd(&mut app, Command::Kill), None);
        assert!(app.kill_prompt.is_none());
        assert!(
            notice(&app).contains("not possible on recorded data"),
            "{}",
            notice(&app)
        );
        // `y` without a confirmation shown does nothing either.
        assert_eq!(app.update(Action::ConfirmKill(true)), None);
    }

    /// The demo with kills allowed, as if pfctl were live.
    fn killing_app() -> App {
        let mut app = demo_app();
        let pfctl = crate::source::Pfctl::new("doas pfctl", 5.0).unwrap();
        app.kill = KillAccess::new(true, true, Some(pfctl));
        app
    }

    /// `<id>/<creator>` of the states the states pane lists for @14.
    fn listed_ids(app: &App) -> Vec<String> {
        let snap = app.snapshot.as_ref().unwrap();
        app.states
            .iter()
            .map(|i| {
                let s = snap.state(*i).unwrap();
                format!("{:016x}/{:08x}", s.id.unwrap(), s.creator_id.unwrap())
            })
            .collect()
    }

    #[test]
    fn kill_confirmation_lists_exactly_the_commands() {
        let mut app = killing_app();
        assert_eq!(selected_key(&app).as_deref(), Some("@14"));
        // The pane lists newest first; the commands follow the listing.
        let mut ids = listed_ids(&app);
        ids.sort();
        assert_eq!(
            ids.len(),
            7,
            "the scenario's last poll: 7 server states of @14"
        );
        assert_eq!(cmd(&mut app, Command::Kill), None, "nothing runs yet");
        let mut prompt = app.kill_prompt.clone().expect("a confirmation");
        prompt.plan.sort();
        prompt.lines[1..].sort();
        let want: Vec<Vec<String>> = ids
            .iter()
            .map(|id| vec!["-k".into(), "id".into(), "-k".into(), id.clone()])
            .collect();
        assert_eq!(prompt.plan, want);
        assert_eq!(prompt.prefix, ["doas", "pfctl"]);
        assert_eq!(prompt.lines[0], "pfblame will remove 7 states by running:");
        for (line, id) in prompt.lines[1..].iter().zip(&ids) {
            assert_eq!(line, &format!("  doas pfctl -k id -k {id}"));
        }
        // Other keys do nothing while it is shown; `n` cancels.
        assert_eq!(cmd(&mut app, Command::Down), None);
        assert_eq!(selected_key(&app).as_deref(), Some("@14"));
        assert_eq!(app.update(Action::ConfirmKill(false)), None);
        assert!(app.kill_prompt.is_none());
        assert!(notice(&app).contains("nothing was removed"));
        // `y` hands the same commands to the collector.
        cmd(&mut app, Command::Kill);
        match app.update(Action::ConfirmKill(true)) {
            Some(Control::Kill(job)) => {
                let mut plan = job.prompt.plan.clone();
                plan.sort();
                assert_eq!(plan, want);
            }
            other => panic!("expected a kill job, got {other:?}"),
        }
        assert!(app.killing);
        assert!(notice(&app).contains("removing 7 states of @14"));
        cmd(&mut app, Command::Down);
        assert!(app.notice.is_some(), "kept while the kill runs");
        app.update(Action::Killed(Ok("@14: 7 of 7 commands succeeded".into())));
        assert!(!app.killing);
        assert_eq!(notice(&app), "@14: 7 of 7 commands succeeded");
    }

    #[test]
    fn kill_needs_a_spurious_rule() {
        let mut app = killing_app();
        cmd(&mut app, Command::ToggleAllRules);
        cmd(&mut app, Command::Home);
        assert_ne!(selected_key(&app).as_deref(), Some("@14"));
        cmd(&mut app, Command::Kill);
        assert!(app.kill_prompt.is_none());
        assert!(
            notice(&app).contains("no spurious server state"),
            "{}",
            notice(&app)
        );
    }

    #[test]
    fn clicking_a_column_header_sorts_by_it() {
        let mut app = app();
        cmd(&mut app, Command::ToggleAllRules);
        let body = app.areas.rules_body;
        let all = view::rules::columns_of(&app)
            .into_iter()
            .find(|c| c.name == "All")
            .unwrap();
        app.update(Action::Click(body.x + all.x + 1, body.y - 1));
        assert_eq!(app.sort, SortColumn::AllStates);
        assert!(!app.reverse);
        app.update(Action::Click(body.x + all.x + 1, body.y - 1));
        assert!(app.reverse, "a second click reverses");
        let text = view::rules::columns_of(&app)
            .into_iter()
            .find(|c| c.name == "Rule text")
            .unwrap();
        app.update(Action::Click(body.x + text.x + 1, body.y - 1));
        assert_eq!(
            app.sort,
            SortColumn::AllStates,
            "the text column does not sort"
        );
    }

    #[test]
    fn details_scroll_stops_at_the_end() {
        let mut app = demo_app();
        app.set_screen(Rect::new(0, 0, 80, 24));
        cmd(&mut app, Command::ToggleDetails);
        assert_eq!(app.focus, Focus::Rules);
        cmd(&mut app, Command::FocusPrev);
        assert_eq!(app.focus, Focus::Details);
        let area = app.areas.details.unwrap();
        let lines = view::details::lines(&app, area.width - 2).len() as u16;
        let max = lines - (area.height - 2);
        assert!(max > 0, "the content is taller than the pane at 80x24");
        assert_eq!(app.details_max_scroll, max);
        cmd(&mut app, Command::Down);
        assert_eq!(app.details_scroll, 1);
        cmd(&mut app, Command::End);
        assert_eq!(app.details_scroll, max, "the last line is at the bottom");
        cmd(&mut app, Command::PageDown);
        assert_eq!(app.details_scroll, max, "no scrolling past the end");
        cmd(&mut app, Command::Up);
        assert_eq!(app.details_scroll, max - 1, "one key back up, not many");
        app.update(Action::ScrollDown(area.x + 2, area.y + 2));
        assert_eq!(app.details_scroll, max);
        // A bigger screen needs less scrolling: the offset follows.
        app.set_screen(Rect::new(0, 0, 120, 60));
        assert!(app.details_scroll <= app.details_max_scroll);
    }

    #[test]
    fn mouse_click_selects_rows() {
        let mut app = app();
        let body = app.areas.rules_body;
        app.update(Action::Click(body.x + 3, body.y + 1));
        assert_eq!(selected_key(&app).as_deref(), Some("@6"));
        let states = app.areas.states_body;
        app.update(Action::Click(states.x + 3, states.y));
        assert_eq!(app.focus, Focus::States);
        app.update(Action::ScrollUp(body.x + 1, body.y));
        assert_eq!(selected_key(&app).as_deref(), Some("@5"));
        assert_eq!(app.focus, Focus::States, "wheel does not steal focus");
    }

    #[test]
    fn all_states_toggle_changes_the_view_not_the_data() {
        let mut app = demo_app();
        let before = app.snapshot.as_ref().unwrap().analysis.clone();
        let marks = app.snapshot.as_ref().unwrap().new_count;
        let listed = listed_ids(&app);
        assert!(marks > 0, "the last poll has new states");
        assert_eq!(
            cmd(&mut app, Command::ToggleAllStates),
            Some(Control::KeepAllStates(true))
        );
        let snap = app.snapshot.as_ref().unwrap();
        assert!(Arc::ptr_eq(&snap.analysis, &before), "the same poll");
        assert_eq!(snap.new_count, marks, "new-state marks kept");
        assert_eq!(listed_ids(&app), listed, "the states shown so far stay");
        assert!(app.states_pending, "the rest comes with the next poll");
        // A poll that kept every state: no longer pending; toggling back
        // shows the server states from that same poll, at once.
        let mut all = Snapshot::build(
            Arc::clone(&before),
            None,
            Duration::ZERO,
            &mut NewStateTracker::default(),
        );
        all.all_kept = true;
        app.update(Action::Polled(Box::new(all)));
        assert!(!app.states_pending);
        assert_eq!(
            cmd(&mut app, Command::ToggleAllStates),
            Some(Control::KeepAllStates(false))
        );
        assert!(!app.states_pending);
        assert_eq!(app.states.len(), listed.len());
    }

    #[test]
    fn jump_selects_the_rule_typed_showing_all_rules_if_needed() {
        let mut app = demo_app();
        assert_eq!(app.input(), Input::Keys);
        cmd(&mut app, Command::StartJump);
        assert_eq!(app.input(), Input::Jump);
        for ch in "@17".chars() {
            app.update(Action::JumpChar(ch));
        }
        app.update(Action::JumpAccept);
        assert_eq!(app.input(), Input::Keys);
        assert_eq!(selected_key(&app).as_deref(), Some("@17"));
        assert!(app.show_all_rules, "@17 has no server states");
        cmd(&mut app, Command::StartJump);
        for ch in "99".chars() {
            app.update(Action::JumpChar(ch));
        }
        app.update(Action::JumpAccept);
        assert_eq!(selected_key(&app).as_deref(), Some("@17"));
        assert!(notice(&app).contains("no rule 99"), "{}", notice(&app));
        assert_eq!(
            parse_jump("relayd/0"),
            Some(JumpTarget::Path("relayd".into(), 0))
        );
        assert_eq!(
            parse_jump(" 13 "),
            Some(JumpTarget::Path(String::new(), 13))
        );
        assert_eq!(parse_jump("@1:2"), Some(JumpTarget::Key("@1:2".into())));
        assert_eq!(parse_jump("www"), None);
    }

    #[test]
    fn n_goes_to_the_next_harmful_rule() {
        let mut app = demo_app();
        cmd(&mut app, Command::ToggleAllRules);
        cmd(&mut app, Command::Home);
        assert_ne!(selected_key(&app).as_deref(), Some("@14"));
        cmd(&mut app, Command::NextHarmful);
        assert_eq!(selected_key(&app).as_deref(), Some("@14"));
        cmd(&mut app, Command::NextHarmful);
        assert_eq!(
            selected_key(&app).as_deref(),
            Some("@14"),
            "the only one: wraps"
        );
        cmd(&mut app, Command::End);
        cmd(&mut app, Command::PrevHarmful);
        assert_eq!(selected_key(&app).as_deref(), Some("@14"));
    }

    #[test]
    fn y_shows_the_selected_states_kill_command_until_the_next_key() {
        let mut app = demo_app();
        let state = app.current_state().unwrap().clone();
        cmd(&mut app, Command::CopyState);
        let want = format!(
            "pfctl -k id -k {:016x}/{:08x}",
            state.id.unwrap(),
            state.creator_id.unwrap()
        );
        assert_eq!(app.copied.as_deref(), Some(want.as_str()));
        cmd(&mut app, Command::Down);
        assert!(app.copied.is_none());
    }

    #[test]
    fn paging_keeps_the_cursor_visible() {
        let mut app = App::new(settings(), Theme::new(false));
        app.set_screen(Rect::new(0, 0, 80, 24));
        let snap = Snapshot::build(
            Arc::new(fake::big_analysis(1000)),
            None,
            Duration::ZERO,
            &mut NewStateTracker::default(),
        );
        app.update(Action::Polled(Box::new(snap)));
        cmd(&mut app, Command::FocusNext);
        cmd(&mut app, Command::PageDown);
        cmd(&mut app, Command::PageDown);
        let h = app.areas.states_body.height as usize;
        assert!(app.state_cursor > 0);
        assert!(app.state_offset <= app.state_cursor && app.state_cursor < app.state_offset + h);
        cmd(&mut app, Command::End);
        assert_eq!(app.state_cursor, app.states.len() - 1);
        assert_eq!(app.state_offset, app.states.len() - h);
    }

    #[test]
    fn keep_visible_scrolls_minimally() {
        assert_eq!(keep_visible(0, 0, 5, 10), 0);
        assert_eq!(keep_visible(5, 0, 5, 10), 1);
        assert_eq!(keep_visible(2, 4, 5, 10), 2);
        assert_eq!(keep_visible(3, 8, 5, 10), 3);
        assert_eq!(keep_visible(0, 9, 5, 3), 0);
    }
}

//! The state of the watch screen and every change to it: [`App::update`]
//! takes an [`Action`] and returns what the collector should be told. Pure:
//! no terminal, no threads, no clock, so every key path is unit-tested.
//!
//! The state is grouped by pane ([`RulesPane`], [`StatesPane`],
//! [`DetailsPane`], [`FilterInput`]) and by what is open over them
//! ([`Modal`]). The visible rows are cached (`rules.rows`, `states.rows`:
//! index lists into the snapshot) and rebuilt only when the data, the
//! filter, the sort or the selected rule changes; moving the cursor touches
//! nothing else, which keeps a key press cheap at a million states.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use ratatui::layout::{Position, Rect};

use crate::analyze::{Analysis, RuleRow, Verdict};
use crate::lint::FindingSeverity;
use crate::model::store::NetProbe;
use crate::model::{RuleKey, State};
use crate::tui::action::{Action, Command, Input};
use crate::tui::event::Control;
use crate::tui::kill::{self, KillAccess, KillPrompt};
use crate::tui::layout::{self, Areas, Content, keep_visible};
use crate::tui::snapshot::{Flags, Snapshot, StateIdent};
use crate::tui::theme::Theme;

/// The intervals `+` and `-` step through, in seconds.
pub(crate) const INTERVAL_STEPS: &[f64] = &[0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 15.0, 30.0, 60.0];

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
    /// Case-insensitive text of the rule (text, anchor, labels, `@N`, and
    /// the host in a fleet).
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

    /// An address filter, ready to be compared with the store's address
    /// columns (no state is built to match it).
    fn net_probe(&self) -> Option<NetProbe> {
        match self {
            Filter::Net(net) => Some(NetProbe::new(*net)),
            _ => None,
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

/// The rules table: which rows are listed, in which order, and where the
/// cursor is. The rows are cached and rebuilt only when the data, the
/// filter or the sort changes (see the module doc).
#[derive(Debug)]
pub struct RulesPane {
    /// Visible rules: indexes into `snapshot.analysis.rows`, filtered and sorted.
    pub rows: Vec<usize>,
    pub cursor: usize,
    /// The first row on screen.
    pub offset: usize,
    pub sort: SortColumn,
    pub reverse: bool,
    /// `a`: rules without server states are listed too.
    pub show_all: bool,
    /// For an address filter: matching states per row.
    net_matches: Vec<u64>,
    /// For an address filter: which states match (one bit a state), so
    /// the selected rule's list is filtered without reading the store's
    /// columns again, state by state in the list's order.
    net_hits: Flags,
    /// The rule the cursor is on, found again after each poll.
    selected: Option<RuleKey>,
}

impl Default for RulesPane {
    fn default() -> Self {
        RulesPane {
            rows: Vec::new(),
            cursor: 0,
            offset: 0,
            sort: SortColumn::Rule,
            reverse: false,
            show_all: false,
            net_matches: Vec::new(),
            net_hits: Flags::default(),
            selected: None,
        }
    }
}

/// The states of the selected rule.
#[derive(Debug)]
pub struct StatesPane {
    /// Visible states of the selected rule: indexes into `analysis.states`.
    pub rows: Arc<[u32]>,
    pub cursor: usize,
    /// The first row on screen.
    pub offset: usize,
    /// How many of `rows` are new since the previous poll (they come first).
    pub new: usize,
    /// `A`: every state, not only those of the servers.
    pub show_all: bool,
    /// `A` was pressed and the poll with the new set of states is pending.
    pub pending: bool,
    /// The row `rows` was built for, and whether data or filter changed
    /// since (only then is the list rebuilt: a sort keeps it).
    source: Option<usize>,
    stale: bool,
    /// The state the cursor is on, found again after each poll.
    selected: Option<StateIdent>,
    /// Where that state is in this snapshot's `analysis.states`: within
    /// one poll it is found again by its index, not by comparing its
    /// identity with each state of a list of up to a million.
    selected_at: Option<u32>,
}

impl Default for StatesPane {
    fn default() -> Self {
        StatesPane {
            rows: Arc::from([]),
            cursor: 0,
            offset: 0,
            new: 0,
            show_all: false,
            pending: false,
            source: None,
            stale: true,
            selected: None,
            selected_at: None,
        }
    }
}

/// The details pane (Enter).
#[derive(Debug, Default)]
pub struct DetailsPane {
    pub open: bool,
    pub scroll: u16,
    /// How far the pane can scroll: its wrapped lines less its height.
    pub max_scroll: u16,
}

/// The filter typed after `/`: the text as typed and what it means.
#[derive(Debug)]
pub struct FilterInput {
    pub text: String,
    pub parsed: Filter,
    /// The filter is being typed (keys go to it).
    pub editing: bool,
}

impl Default for FilterInput {
    fn default() -> Self {
        FilterInput {
            text: String::new(),
            parsed: Filter::None,
            editing: false,
        }
    }
}

/// What is open over the screen and takes the keys. One at a time: the
/// variants replace a chain of flags that had to be tested in the right order.
#[derive(Debug, Default)]
pub enum Modal {
    #[default]
    None,
    /// `?`: closes with ?, Esc or q (Ctrl-C still quits).
    Help,
    /// `:`: the rule being typed (jump).
    Jump(String),
    /// `K`: the kill confirmation, answered with y / n.
    KillPrompt(KillPrompt),
}

/// The text-dependent sizes the layout needs, measured by whoever draws the
/// screen (`view`). A trait object, so `app` lays out the screen for paging
/// and mouse hits without importing the view that implements it.
pub trait Measure: std::fmt::Debug {
    /// The header's and the banner's heights, in lines.
    fn header_height(&self, app: &App, width: u16, height: u16) -> u16;
    fn banner_height(&self, app: &App, width: u16) -> u16;
    fn footer_height(&self, app: &App, width: u16) -> u16;
    /// How many lines the details pane has at this inner width.
    fn details_lines(&self, app: &App, width: u16) -> usize;
    /// How many rows the help overlay has on a screen this wide.
    fn help_rows(&self, app: &App, screen_width: u16) -> usize;
    /// The sortable column of the rules table's header at `x` (inside the border).
    fn sort_column_at(&self, app: &App, x: u16) -> Option<SortColumn>;
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
    pub rules: RulesPane,
    pub states: StatesPane,
    pub details: DetailsPane,
    /// The help overlay's first row shown, and how far it can scroll (its
    /// rows less the screen's room: a small terminal scrolls through it).
    pub help_scroll: usize,
    help_max_scroll: usize,
    /// The help's rows shown at once (PgUp / PgDn move by this).
    help_page: usize,
    pub filter: FilterInput,
    pub modal: Modal,
    /// What `y` showed in the footer (the selected state's kill command),
    /// until the next key.
    pub copied: Option<String>,
    pub focus: Focus,
    pub should_quit: bool,
    /// Whether `K` may remove states (`--allow-kill` on a live source).
    pub kill: KillAccess,
    /// Confirmed kill commands are running on the collector thread.
    pub killing: bool,
    pub notice: Option<Notice>,

    /// The whole screen, and where each pane was laid out on it.
    screen: Rect,
    pub areas: Areas,
    measure: &'static dyn Measure,
}

impl App {
    /// `measure` is the view's ([`crate::tui::view::MEASURE`]).
    pub fn new(settings: Settings, theme: Theme, measure: &'static dyn Measure) -> Self {
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
            rules: RulesPane::default(),
            states: StatesPane::default(),
            details: DetailsPane::default(),
            help_scroll: 0,
            help_max_scroll: 0,
            help_page: 1,
            filter: FilterInput::default(),
            modal: Modal::None,
            copied: None,
            focus: Focus::Rules,
            should_quit: false,
            kill: KillAccess::Refused(crate::kill::KillRefused::NotAllowed),
            killing: false,
            notice: None,
            screen: Rect::new(0, 0, 120, 32),
            areas: Areas::default(),
            measure,
        };
        app.relayout();
        app
    }

    /// The kill confirmation being shown.
    pub fn kill_prompt(&self) -> Option<&KillPrompt> {
        match &self.modal {
            Modal::KillPrompt(p) => Some(p),
            _ => None,
        }
    }

    /// Tells the app the screen's size (before each draw).
    pub(crate) fn set_screen(&mut self, area: Rect) {
        if area != self.screen {
            self.screen = area;
            self.relayout();
        }
    }

    /// Where typed keys go now.
    pub fn input(&self) -> Input {
        if matches!(self.modal, Modal::Jump(_)) {
            Input::Jump
        } else if self.filter.editing {
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
                self.filter.text.push(ch);
                self.filter_changed();
                None
            }
            Action::FilterBackspace => {
                self.filter.text.pop();
                self.filter_changed();
                None
            }
            Action::FilterAccept => {
                self.filter.editing = false;
                None
            }
            Action::FilterCancel => {
                self.filter.editing = false;
                self.clear_filter();
                None
            }
            Action::JumpChar(ch) => {
                if let Modal::Jump(j) = &mut self.modal {
                    j.push(ch);
                }
                None
            }
            Action::JumpBackspace => {
                if let Modal::Jump(j) = &mut self.modal {
                    j.pop();
                }
                None
            }
            Action::JumpAccept => {
                if let Modal::Jump(target) = std::mem::take(&mut self.modal) {
                    self.jump_to(&target);
                }
                None
            }
            Action::JumpCancel => {
                self.close_jump();
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
        match self.modal {
            Modal::KillPrompt(_) => {
                // The confirmation takes y / n (see `action::confirm_key`);
                // only quitting gets past it.
                if cmd == Command::Quit {
                    self.should_quit = true;
                    return Some(Control::Quit);
                }
                return None;
            }
            Modal::Help => {
                let page = self.help_page;
                let scroll =
                    |at: usize, by: isize| at.saturating_add_signed(by).min(self.help_max_scroll);
                match cmd {
                    Command::ToggleHelp | Command::Back => self.modal = Modal::None,
                    Command::Quit => self.should_quit = true,
                    Command::Up => self.help_scroll = scroll(self.help_scroll, -1),
                    Command::Down => self.help_scroll = scroll(self.help_scroll, 1),
                    Command::PageUp => {
                        self.help_scroll = scroll(self.help_scroll, -(page as isize))
                    }
                    Command::PageDown => self.help_scroll = scroll(self.help_scroll, page as isize),
                    Command::Home => self.help_scroll = 0,
                    Command::End => self.help_scroll = self.help_max_scroll,
                    _ => {}
                }
                return self.should_quit.then_some(Control::Quit);
            }
            // Typed keys go to the prompt (see `input`); commands act as usual.
            Modal::Jump(_) | Modal::None => {}
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
            Command::ToggleDetails => return Some(self.toggle_details()),
            Command::StartFilter => self.filter.editing = true,
            Command::CycleSort => {
                self.rules.sort = self.rules.sort.next();
                self.refresh_rules();
            }
            Command::ReverseSort => {
                self.rules.reverse = !self.rules.reverse;
                self.refresh_rules();
            }
            Command::ToggleAllRules => {
                self.rules.show_all = !self.rules.show_all;
                self.refresh_rules();
            }
            Command::ToggleAllStates => {
                // A view: the data stays. The states shown now are what
                // this poll kept; with all states asked for and only server
                // states kept, the rest comes with the next poll.
                self.states.show_all = !self.states.show_all;
                self.refresh_states(true);
                return Some(Control::KeepAllStates(self.states.show_all));
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
            Command::ToggleHelp => {
                self.help_scroll = 0;
                self.modal = Modal::Help;
            }
            Command::StartJump => self.modal = Modal::Jump(String::new()),
            Command::NextHarmful => self.next_harmful(true),
            Command::PrevHarmful => self.next_harmful(false),
            Command::CopyState => self.copy_state(),
            Command::Back => return self.back(),
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
        if let KillAccess::Refused(why) = &self.kill {
            self.notice = refused(kill::refusal_text(*why).to_string());
            return;
        }
        if self.killing {
            self.notice = refused("K: the previous kill is still running".into());
            return;
        }
        let (Some(snap), Some(&row)) = (&self.snapshot, self.rules.rows.get(self.rules.cursor))
        else {
            self.notice = refused("K: no rule selected".into());
            return;
        };
        // In a fleet, the row's host is where its states live: its own
        // pfctl, through its own transport, removes them.
        let host = snap.analysis.rows.get(row).and_then(|r| r.host.as_deref());
        let planned = self
            .kill
            .pfctl_for(host)
            .and_then(|pfctl| kill::prompt(&snap.analysis, row, pfctl));
        match planned {
            Ok(prompt) => self.modal = Modal::KillPrompt(prompt),
            Err(text) => self.notice = refused(text),
        }
    }

    /// `y` or `n` on the kill confirmation.
    fn answer_kill(&mut self, yes: bool) -> Option<Control> {
        // Only an open confirmation is answered (and closed).
        let prompt = match std::mem::take(&mut self.modal) {
            Modal::KillPrompt(prompt) => prompt,
            other => {
                self.modal = other;
                return None;
            }
        };
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

    fn close_jump(&mut self) {
        if matches!(self.modal, Modal::Jump(_)) {
            self.modal = Modal::None;
        }
    }

    /// Esc: undo the last thing opened. It never quits (q, F10, Ctrl-C do):
    /// one Esc too many must not end a session.
    fn back(&mut self) -> Option<Control> {
        if !self.filter.text.is_empty() {
            self.clear_filter();
        } else if self.details.open {
            return Some(self.toggle_details());
        }
        None
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
        if !self.rules.rows.contains(&row) {
            self.rules.show_all = true;
            self.clear_filter();
            self.refresh_rules();
        }
        if let Some(at) = self.rules.rows.iter().position(|i| *i == row) {
            self.focus = Focus::Rules;
            self.rules.cursor = at;
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
        let n = self.rules.rows.len();
        let found = (1..=n)
            .map(|d| {
                if forward {
                    (self.rules.cursor + d) % n
                } else {
                    (self.rules.cursor + n - d % n) % n
                }
            })
            .find(|at| harmful(self.rules.rows[*at]));
        match found {
            Some(at) => {
                self.focus = Focus::Rules;
                if at != self.rules.cursor {
                    self.rules.cursor = at;
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

    /// Opens or closes the details pane. It shows the state's id and
    /// creator id, so while it is open the polls fetch them (`pfctl
    /// -vvss`; without it the TUI polls with `-vss`, see the pipeline).
    fn toggle_details(&mut self) -> Control {
        self.details.open = !self.details.open;
        self.details.scroll = 0;
        if !self.details.open && self.focus == Focus::Details {
            self.focus = Focus::Rules;
        }
        self.relayout();
        // When details take the states pane's place, keep focus somewhere visible.
        if self.focus == Focus::States && self.areas.states.is_none() {
            self.focus = Focus::Details;
        }
        Control::WantIds(self.details.open)
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
                let to = step(self.rules.cursor, delta, self.rules.rows.len());
                if to != self.rules.cursor {
                    self.rules.cursor = to;
                    self.rule_selected();
                }
            }
            Focus::States => {
                self.states.cursor = step(self.states.cursor, delta, self.states.rows.len());
                self.remember_state();
            }
            Focus::Details => {
                let max = self.details.max_scroll as isize;
                let to = (self.details.scroll as isize)
                    .saturating_add(delta)
                    .clamp(0, max);
                self.details.scroll = to as u16;
            }
        }
    }

    /// The rule cursor moved: show the states of the new rule.
    fn rule_selected(&mut self) {
        self.rules.selected = self.current_row().map(|r| r.key);
        self.states.cursor = 0;
        self.states.offset = 0;
        self.details.scroll = 0;
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
        match self.modal {
            // Only y / n answer the confirmation.
            Modal::KillPrompt(_) => return,
            Modal::Help => {
                self.modal = Modal::None;
                return;
            }
            Modal::Jump(_) => self.close_jump(),
            Modal::None => {}
        }
        let p = Position::new(x, y);
        if let Some(col) = self.header_column_at(p) {
            self.focus = Focus::Rules;
            self.sort_by(col);
        } else if self.areas.rules_body.contains(p) {
            self.focus = Focus::Rules;
            let at = self.rules.offset + usize::from(y - self.areas.rules_body.y);
            if at < self.rules.rows.len() && at != self.rules.cursor {
                self.rules.cursor = at;
                self.rule_selected();
            }
        } else if self.areas.states.is_some() && self.areas.states_body.contains(p) {
            self.focus = Focus::States;
            let at = self.states.offset + usize::from(y - self.areas.states_body.y);
            if at < self.states.rows.len() {
                self.states.cursor = at;
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
        if self.rules.rows.is_empty() || p.y + 1 != body.y {
            return None;
        }
        let x = p.x.checked_sub(body.x)?;
        self.measure.sort_column_at(self, x)
    }

    /// A click on a column header: sort by it; a second click reverses.
    fn sort_by(&mut self, col: SortColumn) {
        if self.rules.sort == col {
            self.rules.reverse = !self.rules.reverse;
        } else {
            self.rules.sort = col;
            self.rules.reverse = false;
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
        self.states.stale = true;
        // An index into the previous poll's states.
        self.states.selected_at = None;
        self.compute_net_matches();
        self.refresh_rules();
    }

    fn clear_filter(&mut self) {
        self.filter.text.clear();
        self.filter_changed();
    }

    fn filter_changed(&mut self) {
        let filter = Filter::parse(&self.filter.text);
        if filter != self.filter.parsed {
            self.filter.parsed = filter;
            self.states.stale = true;
            self.compute_net_matches();
            self.refresh_rules();
        }
    }

    /// One pass over the states' address columns: which states the address
    /// filter matches, and how many of each row (done when the data or the
    /// filter changes, not per key).
    fn compute_net_matches(&mut self) {
        self.rules.net_matches.clear();
        self.rules.net_hits = Flags::default();
        let (Some(snap), Some(probe)) = (&self.snapshot, self.filter.parsed.net_probe()) else {
            return;
        };
        let states = &snap.analysis.states;
        let (words, counts) = states.touching_per_row(&probe, snap.analysis.rows.len());
        self.rules.net_matches = counts;
        self.rules.net_hits = Flags::from_words(words, states.len());
    }

    /// Rebuilds the visible rules (filter + sort) and puts the cursor back on
    /// the selected rule; on the first poll, on the first spurious rule.
    fn refresh_rules(&mut self) {
        let Some(snap) = &self.snapshot else {
            self.rules.rows.clear();
            self.states.rows = Arc::from([]);
            return;
        };
        let rows = &snap.analysis.rows;
        let mut visible: Vec<usize> = (0..rows.len())
            .filter(|i| self.row_visible(*i, &rows[*i]))
            .collect();
        sort_rows(
            &mut visible,
            &snap.analysis,
            self.rules.sort,
            self.rules.reverse,
        );
        self.rules.rows = visible;

        let old_cursor = self.rules.cursor;
        let found = self.rules.selected.and_then(|key| {
            self.rules
                .rows
                .iter()
                .position(|i| rows.get(*i).is_some_and(|r| r.key == key))
        });
        self.rules.cursor = match (found, self.rules.selected) {
            (Some(at), _) => at,
            (None, None) => self
                .rules
                .rows
                .iter()
                .position(|i| {
                    rows.get(*i)
                        .is_some_and(|r| r.verdict.is_some_and(Verdict::is_failure))
                })
                .unwrap_or(0),
            (None, Some(_)) => old_cursor.min(self.rules.rows.len().saturating_sub(1)),
        };
        let same_rule = found.is_some();
        let key = self.current_row().map(|r| r.key);
        if key.is_some() {
            self.rules.selected = key;
        }
        if self.states.stale
            || self.rules.rows.get(self.rules.cursor).copied() != self.states.source
        {
            self.refresh_states(same_rule);
        }
    }

    fn row_visible(&self, index: usize, row: &RuleRow) -> bool {
        if !self.rules.show_all && row.server_states == 0 {
            return false;
        }
        match &self.filter.parsed {
            Filter::None => true,
            Filter::Net(_) => self.rules.net_matches.get(index).is_some_and(|n| *n > 0),
            Filter::Text(t) => row_text_matches(row, t),
        }
    }

    /// Rebuilds the visible states of the selected rule. With `keep`, the
    /// cursor goes back to the selected state (by id or 5-tuple).
    fn refresh_states(&mut self, keep: bool) {
        self.states.rows = Arc::from([]);
        self.states.new = 0;
        self.states.stale = false;
        self.states.source = self.rules.rows.get(self.rules.cursor).copied();
        self.states.pending = self.states.show_all
            && self
                .snapshot
                .as_ref()
                .is_some_and(|s| !s.all_kept && !s.analysis.servers.nets.is_empty());
        let (Some(snap), Some(&row)) = (&self.snapshot, self.rules.rows.get(self.rules.cursor))
        else {
            self.states.cursor = 0;
            return;
        };
        let Some(list) = snap.by_row.get(row) else {
            return;
        };
        // A poll that kept every state also serves the server-only view.
        let servers = &snap.analysis.servers;
        let server_only = !self.states.show_all && snap.all_kept && !servers.nets.is_empty();
        // Both tests read bits (the filter's matches, the snapshot's
        // flags): a list of a million states is filtered without building
        // one, and a list the filter keeps whole or drops whole is not
        // walked at all.
        let hits = matches!(self.filter.parsed, Filter::Net(_)).then_some(&self.rules.net_hits);
        let matched = self.rules.net_matches.get(row).copied().unwrap_or(0);
        let all_match = hits.is_none() || usize::try_from(matched).is_ok_and(|m| m == list.len());
        self.states.rows = if hits.is_some() && matched == 0 {
            Arc::from([])
        } else if all_match && !server_only {
            Arc::clone(list)
        } else {
            list.iter()
                .copied()
                .filter(|i| {
                    (all_match || hits.is_none_or(|h| h.get(*i as usize)))
                        && (!server_only || snap.is_server(*i))
                })
                .collect()
        };
        let found = if keep {
            match self.states.selected_at {
                // The same poll: the same index (a scan of `u32`s).
                Some(at) => self.states.rows.iter().position(|i| *i == at),
                None => self.states.selected.as_ref().and_then(|want| {
                    self.states
                        .rows
                        .iter()
                        .position(|i| snap.state_is(*i, want))
                }),
            }
        } else {
            None
        };
        // New states come first in each list (see `Snapshot::build`).
        self.states.new = self
            .states
            .rows
            .iter()
            .take_while(|i| snap.is_new(**i))
            .count();
        self.states.cursor = match found {
            Some(at) => at,
            None if keep => self
                .states
                .cursor
                .min(self.states.rows.len().saturating_sub(1)),
            None => 0,
        };
        self.remember_state();
    }

    fn remember_state(&mut self) {
        self.states.selected = self.current_state().as_ref().map(StateIdent::of);
        self.states.selected_at = self
            .states
            .selected
            .as_ref()
            .and_then(|_| self.states.rows.get(self.states.cursor).copied());
    }

    /// The index (into `analysis.rows`) of the selected row.
    pub(crate) fn current_row_index(&self) -> Option<usize> {
        self.snapshot.as_ref()?;
        self.rules.rows.get(self.rules.cursor).copied()
    }

    /// The selected row of the rules table.
    pub fn current_row(&self) -> Option<&RuleRow> {
        let snap = self.snapshot.as_ref()?;
        snap.analysis
            .rows
            .get(*self.rules.rows.get(self.rules.cursor)?)
    }

    /// The selected state (built from the analysis' compact store).
    pub(crate) fn current_state(&self) -> Option<State> {
        let snap = self.snapshot.as_ref()?;
        snap.state(*self.states.rows.get(self.states.cursor)?)
    }

    /// Recomputes the layout for the current screen and state, and scrolls
    /// each table so its cursor is visible.
    fn relayout(&mut self) {
        let m = self.measure;
        let content = Content {
            header: m.header_height(self, self.screen.width, self.screen.height),
            banner: m.banner_height(self, self.screen.width),
            footer: m.footer_height(self, self.screen.width),
            rule_rows: self.snapshot.as_ref().map(|_| self.rules.rows.len()),
            state_rows: self.states.rows.len(),
            details_open: self.details.open,
        };
        self.areas = layout::layout(self.screen, &content);
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
        self.rules.offset = keep_visible(
            self.rules.cursor,
            self.rules.offset,
            self.areas.rules_body.height as usize,
            self.rules.rows.len(),
        );
        let height = self.areas.states_body.height as usize;
        self.states.offset = keep_visible(
            self.states.cursor,
            self.states.offset,
            height,
            self.states.rows.len(),
        );
        // New states are listed first: scroll back up to them when the
        // cursor stays visible, so what just appeared is not hidden.
        if self.states.new > 0 && self.states.offset > 0 {
            self.states.offset = (self.states.cursor + 1).saturating_sub(height);
        }
        self.details.max_scroll = self.areas.details.map_or(0, |area| {
            let inner = area.height.saturating_sub(2);
            let lines = m.details_lines(self, area.width.saturating_sub(2));
            u16::try_from(lines)
                .unwrap_or(u16::MAX)
                .saturating_sub(inner)
        });
        self.details.scroll = self.details.scroll.min(self.details.max_scroll);
        // The help's rows are only counted while it is open (this runs
        // after every poll and key): when they do not all fit inside its
        // border, it shows a page of them and a row saying more follow.
        (self.help_page, self.help_max_scroll) = if matches!(self.modal, Modal::Help) {
            let room = usize::from(self.screen.height.saturating_sub(2));
            let page = room.saturating_sub(1).max(1);
            let rows = m.help_rows(self, self.screen.width);
            (page, if rows > room { rows - page } else { 0 })
        } else {
            (1, 0)
        };
        self.help_scroll = self.help_scroll.min(self.help_max_scroll);
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
        // A fleet: `/fw-b` keeps the rows of host fw-b.
        || row.host.as_deref().is_some_and(has)
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
    use crate::tui::view;
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
        let mut app = App::new(settings(), Theme::new(false), &view::MEASURE);
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
        assert_eq!(app.rules.rows.len(), 2);
        assert_eq!(app.states.rows.len(), 5);
    }

    #[test]
    fn all_rules_toggle_shows_every_row() {
        let mut app = app();
        cmd(&mut app, Command::ToggleAllRules);
        assert_eq!(app.rules.rows.len(), 9);
        assert_eq!(selected_key(&app).as_deref(), Some("@5"), "selection kept");
        cmd(&mut app, Command::ToggleAllRules);
        assert_eq!(app.rules.rows.len(), 2);
    }

    #[test]
    fn moving_changes_the_states_shown() {
        let mut app = app();
        cmd(&mut app, Command::Down);
        assert_eq!(selected_key(&app).as_deref(), Some("@6"));
        assert_eq!(app.states.rows.len(), 1);
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
        assert_eq!(app.rules.sort, SortColumn::ServerStates);
        let first = |app: &App| {
            let snap = app.snapshot.as_ref().unwrap();
            snap.analysis.rows[app.rules.rows[0]].key.to_string()
        };
        assert_eq!(first(&app), "@5");
        cmd(&mut app, Command::CycleSort);
        assert_eq!(app.rules.sort, SortColumn::AllStates);
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
        assert!(app.filter.editing);
        // A non-canonical spelling of a client of @6 (2001:db8:0:aaaa::9).
        for ch in "2001:0db8:0:aaaa:0::9".chars() {
            app.update(Action::FilterChar(ch));
        }
        assert!(matches!(app.filter.parsed, Filter::Net(_)));
        assert_eq!(app.rules.rows.len(), 1);
        assert_eq!(selected_key(&app).as_deref(), Some("@6"));
        app.update(Action::FilterAccept);
        assert!(!app.filter.editing);
        assert_eq!(app.filter.text, "2001:0db8:0:aaaa:0::9");
    }

    #[test]
    fn prefix_filter_narrows_states() {
        let mut app = app();
        for ch in "2001:db8:0:1::3/128".chars() {
            app.update(Action::FilterChar(ch));
        }
        assert_eq!(app.rules.rows.len(), 1);
        assert_eq!(app.states.rows.len(), 1);
        app.update(Action::FilterCancel);
        assert_eq!(app.filter.parsed, Filter::None);
        assert_eq!(app.states.rows.len(), 5);
    }

    #[test]
    fn text_filter_matches_rule_text() {
        let mut app = app();
        cmd(&mut app, Command::ToggleAllRules);
        for ch in "GIF0".chars() {
            app.update(Action::FilterChar(ch));
        }
        assert_eq!(app.filter.parsed, Filter::Text("gif0".into()));
        // @1, @3 (route-to gif0), @4.
        assert_eq!(app.rules.rows.len(), 3);
        app.update(Action::FilterBackspace);
        assert_eq!(app.filter.parsed, Filter::Text("gif".into()));
    }

    #[test]
    fn the_details_pane_asks_the_collector_for_state_ids() {
        let mut app = app();
        assert_eq!(
            cmd(&mut app, Command::ToggleDetails),
            Some(Control::WantIds(true))
        );
        assert_eq!(
            cmd(&mut app, Command::ToggleDetails),
            Some(Control::WantIds(false))
        );
    }

    /// On a small screen the help scrolls, within its rows, and opens at
    /// the top again.
    #[test]
    fn the_help_scrolls_on_a_small_screen() {
        let mut app = app();
        app.set_screen(Rect::new(0, 0, 40, 12));
        cmd(&mut app, Command::ToggleHelp);
        assert_eq!(app.help_scroll, 0);
        cmd(&mut app, Command::Up);
        assert_eq!(app.help_scroll, 0, "stops at the top");
        cmd(&mut app, Command::Down);
        cmd(&mut app, Command::Down);
        assert_eq!(app.help_scroll, 2);
        assert!(matches!(app.modal, Modal::Help), "scrolling keeps it open");
        cmd(&mut app, Command::End);
        let end = app.help_scroll;
        // 12 rows: 10 inside the border, 9 of them help rows.
        let rows = view::MEASURE.help_rows(&app, 40);
        assert_eq!(end, rows - 9);
        cmd(&mut app, Command::PageDown);
        assert_eq!(app.help_scroll, end, "stops at the end");
        cmd(&mut app, Command::PageUp);
        assert_eq!(app.help_scroll, end - 9);
        cmd(&mut app, Command::Home);
        assert_eq!(app.help_scroll, 0);
        cmd(&mut app, Command::End);
        cmd(&mut app, Command::ToggleHelp);
        cmd(&mut app, Command::ToggleHelp);
        assert_eq!(app.help_scroll, 0, "opens at the top");
        // A screen that holds it all does not scroll.
        app.set_screen(Rect::new(0, 0, 120, 80));
        cmd(&mut app, Command::Down);
        assert_eq!(app.help_scroll, 0);
    }

    #[test]
    fn esc_closes_things_before_quitting() {
        let mut app = app();
        cmd(&mut app, Command::ToggleHelp);
        assert!(matches!(app.modal, Modal::Help));
        assert_eq!(cmd(&mut app, Command::Down), None);
        assert_eq!(selected_key(&app).as_deref(), Some("@5"), "help is modal");
        assert_eq!(cmd(&mut app, Command::Back), None);
        assert!(matches!(app.modal, Modal::None));
        app.update(Action::FilterChar('x'));
        cmd(&mut app, Command::ToggleDetails);
        assert_eq!(cmd(&mut app, Command::Back), None);
        assert!(app.filter.text.is_empty());
        assert!(app.details.open);
        assert_eq!(
            cmd(&mut app, Command::Back),
            Some(Control::WantIds(false)),
            "closing the details lets the polls go without ids"
        );
        assert!(!app.details.open);
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
        assert_eq!(app.rules.rows.len(), 2);
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
        assert_eq!(app.details.max_scroll, 0);
        cmd(&mut app, Command::Down);
        assert_eq!(app.details.scroll, 0);
    }

    /// The app after every poll of `pfblame demo` (whose @14 has a finding).
    fn demo_app() -> App {
        use crate::tui::event::Poller;
        let mut p = crate::tui::pipeline::Pipeline::new(
            crate::source::demo::source(),
            crate::poll::demo_config(),
        );
        let mut app = App::new(settings(), Theme::new(false), &view::MEASURE);
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
        assert!(app.kill_prompt().is_none());
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
        assert!(app.kill_prompt().is_none());
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
            .rows
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
        let mut prompt = app.kill_prompt().cloned().expect("a confirmation");
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
        assert!(app.kill_prompt().is_none());
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
        assert!(app.kill_prompt().is_none());
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
        assert_eq!(app.rules.sort, SortColumn::AllStates);
        assert!(!app.rules.reverse);
        app.update(Action::Click(body.x + all.x + 1, body.y - 1));
        assert!(app.rules.reverse, "a second click reverses");
        let text = view::rules::columns_of(&app)
            .into_iter()
            .find(|c| c.name == "Rule text")
            .unwrap();
        app.update(Action::Click(body.x + text.x + 1, body.y - 1));
        assert_eq!(
            app.rules.sort,
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
        assert_eq!(app.details.max_scroll, max);
        cmd(&mut app, Command::Down);
        assert_eq!(app.details.scroll, 1);
        cmd(&mut app, Command::End);
        assert_eq!(app.details.scroll, max, "the last line is at the bottom");
        cmd(&mut app, Command::PageDown);
        assert_eq!(app.details.scroll, max, "no scrolling past the end");
        cmd(&mut app, Command::Up);
        assert_eq!(app.details.scroll, max - 1, "one key back up, not many");
        app.update(Action::ScrollDown(area.x + 2, area.y + 2));
        assert_eq!(app.details.scroll, max);
        // A bigger screen needs less scrolling: the offset follows.
        app.set_screen(Rect::new(0, 0, 120, 60));
        assert!(app.details.scroll <= app.details.max_scroll);
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
        assert!(app.states.pending, "the rest comes with the next poll");
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
        assert!(!app.states.pending);
        assert_eq!(
            cmd(&mut app, Command::ToggleAllStates),
            Some(Control::KeepAllStates(false))
        );
        assert!(!app.states.pending);
        assert_eq!(app.states.rows.len(), listed.len());
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
        assert!(app.rules.show_all, "@17 has no server states");
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
        let mut app = App::new(settings(), Theme::new(false), &view::MEASURE);
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
        assert!(app.states.cursor > 0);
        assert!(
            app.states.offset <= app.states.cursor && app.states.cursor < app.states.offset + h
        );
        cmd(&mut app, Command::End);
        assert_eq!(app.states.cursor, app.states.rows.len() - 1);
        assert_eq!(app.states.offset, app.states.rows.len() - h);
    }

    /// An analysis of every state kept, IPv4 and IPv6, some translated,
    /// some not the server's, over two rules.
    fn mixed_snapshot() -> Snapshot {
        use crate::model::{Endpoint, HostAddr, Port};
        use std::net::{IpAddr, Ipv4Addr};
        let mut a = fake::big_analysis(240);
        let row5 = a.rows.iter().position(|r| r.key.number == Some(5)).unwrap();
        let v4 = |i: usize| IpAddr::V4(Ipv4Addr::new(10, (i % 3) as u8, (i % 7) as u8, i as u8));
        let states: Vec<(State, usize)> = a
            .states
            .iter()
            .enumerate()
            .map(|(i, (mut s, row))| {
                if i % 3 == 0 {
                    s.src = Endpoint::new(HostAddr::Ip(v4(i)), Some(Port::Num(1024)));
                }
                if i % 4 == 0 {
                    // Not the server's: listed only with every state shown.
                    s.dst = Endpoint::new(HostAddr::Ip(v4(i + 1)), Some(Port::Num(80)));
                }
                if i % 5 == 0 {
                    s.dst_nat = Some(Box::new(Endpoint::new(HostAddr::Ip(v4(i + 2)), None)));
                }
                s.age = Some((i * 37 % 101) as u64);
                (s, if i % 9 == 0 { row5 } else { row })
            })
            .collect();
        a.states = states.into_iter().collect();
        a.older_than_ruleset = vec![false; a.states.len()];
        let mut snap = Snapshot::build(
            Arc::new(a),
            None,
            Duration::ZERO,
            &mut NewStateTracker::default(),
        );
        snap.all_kept = true;
        snap
    }

    /// What the states pane must list: the selected rule's states that the
    /// filter matches, state by state from the columns (no shortcut).
    fn filtered_by_hand(app: &App) -> (Vec<u32>, Vec<u64>) {
        let snap = app.snapshot.as_ref().unwrap();
        let states = &snap.analysis.states;
        let probe = app.filter.parsed.net_probe();
        let touches = |i: u32| probe.as_ref().is_none_or(|p| states.touches(i as usize, p));
        let mut counts = vec![0; snap.analysis.rows.len()];
        if probe.is_some() {
            for i in (0..states.len() as u32).filter(|i| touches(*i)) {
                counts[states.row(i as usize).unwrap()] += 1;
            }
        }
        let Some(&row) = app.rules.rows.get(app.rules.cursor) else {
            return (Vec::new(), counts);
        };
        let server_only = !app.states.show_all && !snap.analysis.servers.nets.is_empty();
        let rows = snap.by_row[row]
            .iter()
            .copied()
            .filter(|i| touches(*i) && (!server_only || snap.is_server(*i)))
            .collect();
        (rows, counts)
    }

    #[derive(Debug, Clone)]
    enum Edit {
        Key(char),
        Backspace,
        ToggleAll,
        NextRule,
        NextState,
    }

    fn edit() -> impl proptest::strategy::Strategy<Value = Edit> {
        use proptest::prelude::*;
        prop_oneof![
            4 => proptest::sample::select(&b"0123456789abdf:./ "[..]).prop_map(|c| Edit::Key(c as char)),
            3 => Just(Edit::Backspace),
            1 => Just(Edit::ToggleAll),
            1 => Just(Edit::NextRule),
            1 => Just(Edit::NextState),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// The filter's shortcuts (its bit set of matches, lists kept or
        /// dropped whole, the selected state found by its index) list
        /// exactly the states a full filter lists, key after key.
        #[test]
        fn the_filtered_list_is_the_full_filters_after_every_key(
            start in proptest::sample::select(vec![
                "10.0.0.0/8", "10.1.0.0/16", "10.0.1.1", "0.0.0.0/0", "::/0",
                "2001:db8::/32", "2001:db8:0:1::/64", "2001:db8::10", "em0", "",
            ]),
            edits in proptest::collection::vec(edit(), 0..24),
        ) {
            let mut app = App::new(settings(), Theme::new(false), &view::MEASURE);
            app.update(Action::Polled(Box::new(mixed_snapshot())));
            cmd(&mut app, Command::ToggleAllRules);
            cmd(&mut app, Command::StartFilter);
            let keys = start.chars().map(Edit::Key).chain(edits);
            for e in keys {
                match e {
                    Edit::Key(c) => app.update(Action::FilterChar(c)),
                    Edit::Backspace => app.update(Action::FilterBackspace),
                    Edit::ToggleAll => cmd(&mut app, Command::ToggleAllStates),
                    Edit::NextRule => {
                        app.focus = Focus::Rules;
                        cmd(&mut app, Command::Down)
                    }
                    Edit::NextState => {
                        app.focus = Focus::States;
                        cmd(&mut app, Command::Down)
                    }
                };
                let (rows, counts) = filtered_by_hand(&app);
                proptest::prop_assert_eq!(&app.states.rows[..], &rows[..], "after {:?}", app.filter.text);
                if app.filter.parsed.net_probe().is_some() {
                    proptest::prop_assert_eq!(&app.rules.net_matches, &counts);
                }
                // The state remembered (kept while no rule is listed) and
                // its index name the same state.
                if let Some(state) = app.current_state() {
                    proptest::prop_assert_eq!(app.states.selected.clone(), Some(StateIdent::of(&state)));
                }
                if let (Some(want), Some(at)) = (&app.states.selected, app.states.selected_at) {
                    let snap = app.snapshot.as_ref().unwrap();
                    proptest::prop_assert!(snap.state_is(at, want));
                }
            }
        }
    }
}

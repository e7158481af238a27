//! The two threads behind the screen, and the one channel they feed.
//!
//! - The input thread blocks on crossterm's `event::read` and forwards
//!   every terminal event.
//! - The collector thread polls (pfctl, parse, analyse, index) and sends a
//!   [`Snapshot`] or an error; between polls it waits on its control channel
//!   with `recv_timeout(interval)`, so pause, "poll now", a new interval and
//!   quit take effect at once.
//!
//! The UI thread only receives, so a slow pfctl never blocks a key press.

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::tui::kill::{self, KillJob};
use crate::tui::snapshot::Snapshot;

/// Everything the UI loop receives.
#[derive(Debug)]
pub enum Event {
    /// A terminal event (key, mouse, resize).
    Input(crossterm::event::Event),
    /// The collector started a poll.
    PollStarted,
    Polled(Box<Snapshot>),
    /// A poll failed; the message is for the banner.
    PollFailed(String),
    /// The input thread could not read the terminal any more.
    InputClosed(String),
    /// The collector thread panicked (a bug): the screen must end, since
    /// the panic hook has already put the terminal back.
    CollectorPanicked,
    /// Confirmed kill commands ran: the banner's message, `Err` when
    /// something failed.
    Killed(Result<String, String>),
    /// A termination signal (SIGTERM, SIGHUP, SIGINT, SIGQUIT) arrived: quit,
    /// restore the terminal, exit with 128 + its number.
    Signal(i32),
}

/// What the UI tells the collector.
#[derive(Debug, PartialEq)]
pub enum Control {
    Pause,
    Resume,
    RefreshNow,
    SetInterval(Duration),
    /// Keep every state in the analysis (the states pane's "all states").
    KeepAllStates(bool),
    /// The UI shows something that needs state ids (the details pane):
    /// the next polls fetch them (`pfctl -vvss`, not `-vss`).
    WantIds(bool),
    /// Run confirmed pfctl kill commands, then poll at once (even while
    /// paused: the user wants to see what is left).
    Kill(Box<KillJob>),
    Quit,
}

/// One poll, start to finish. Implemented by the real pipeline (source →
/// parse → analyse) and by test doubles.
pub trait Poller: Send {
    fn poll(&mut self) -> Result<Snapshot, String>;
    /// Keep every state, not just the server states, from the next poll on.
    fn keep_all_states(&mut self, keep: bool);
    /// The next polls fetch state ids (`true`) or need not.
    fn want_ids(&mut self, _want: bool) {}
    /// True when polling again would only repeat the last poll (a replay
    /// that reached its end): the collector then waits for commands only.
    fn exhausted(&self) -> bool {
        false
    }
}

/// Starts the thread that reads terminal events. It ends when the UI stops
/// listening (the next event fails to send) or the terminal fails.
pub fn spawn_input(tx: Sender<Event>) -> std::io::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name("pfblame-input".into())
        .spawn(move || {
            loop {
                let ev = match crossterm::event::read() {
                    Ok(ev) => Event::Input(ev),
                    Err(e) => {
                        let _ = tx.send(Event::InputClosed(e.to_string()));
                        return;
                    }
                };
                if tx.send(ev).is_err() {
                    return;
                }
            }
        })
}

/// Input events closer together than this are one burst: a paste into a
/// terminal without bracketed paste, or keys typed ahead while the screen
/// was busy. People answering a question take longer.
pub const BURST_GAP: Duration = Duration::from_millis(150);

/// Keeps pasted and typed-ahead text from answering the kill confirmation.
///
/// Pasting `Ky` used to remove states: `K` opened the confirmation and the
/// `y` right behind it answered it. The gate notes when every input event
/// arrives; a yes may answer the confirmation only after a quiet gap of
/// [`BURST_GAP`] since the input before it (the `K` included), so keys
/// queued when the prompt opened, or arriving in the same burst, never
/// answer it. A burst that keeps going keeps being refused. (No, Esc and
/// Ctrl-C always work: they run nothing.) The input thread forwards events
/// as crossterm reads them, so the gap is measured when the UI loop takes
/// each one: keys queued behind the `K` are taken at once, inside the gap.
#[derive(Debug, Default)]
pub struct InputGate {
    last_input: Option<Instant>,
}

impl InputGate {
    /// Notes an input event at `now`; true when it came after a quiet gap
    /// (so, as a key, it may answer a confirmation).
    pub fn arrived(&mut self, now: Instant) -> bool {
        let quiet = self
            .last_input
            .is_none_or(|t| now.saturating_duration_since(t) >= BURST_GAP);
        self.last_input = Some(now);
        quiet
    }
}

/// What pasted text may do: type into the filter prompt, character by
/// character (controls and line breaks dropped), and nothing else. A paste
/// is text, never commands.
pub fn pasted_filter_text(text: &str, editing_filter: bool, prompt_open: bool) -> Vec<char> {
    if !editing_filter || prompt_open {
        return Vec::new();
    }
    text.chars()
        .filter(|&c| !crate::sanitize::is_unsafe(c))
        .collect()
}

/// When the collector polls first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstPoll {
    /// At once (nothing has been polled yet).
    Now,
    /// After one interval (the caller already made the first poll).
    AfterInterval,
}

/// Starts the collector thread.
pub fn spawn_collector(
    poller: Box<dyn Poller>,
    interval: Duration,
    first: FirstPoll,
    events: Sender<Event>,
    control: Receiver<Control>,
) -> std::io::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name("pfblame-collector".into())
        .spawn(move || {
            let _guard = PanicNotice(events.clone());
            collect(poller, interval, first, &events, &control);
        })
}

/// Tells the UI when the collector thread dies of a panic. ratatui's panic
/// hook runs on whichever thread panics and restores the terminal; without
/// this the UI would go on drawing into a restored terminal.
struct PanicNotice(Sender<Event>);

impl Drop for PanicNotice {
    fn drop(&mut self) {
        if thread::panicking() {
            let _ = self.0.send(Event::CollectorPanicked);
        }
    }
}

/// The collector loop: poll, send, wait. Runs until told to quit or the UI
/// goes away.
pub fn collect(
    mut poller: Box<dyn Poller>,
    mut interval: Duration,
    first: FirstPoll,
    events: &Sender<Event>,
    control: &Receiver<Control>,
) {
    let mut paused = false;
    let mut poll_now = first == FirstPoll::Now;
    loop {
        if poll_now {
            if events.send(Event::PollStarted).is_err() {
                return;
            }
            let ev = match poller.poll() {
                Ok(snapshot) => Event::Polled(Box::new(snapshot)),
                Err(message) => Event::PollFailed(message),
            };
            if events.send(ev).is_err() {
                return;
            }
        }
        // While paused (or at the end of a replay), wait for a command only;
        // otherwise until the next poll.
        let msg = if paused || poller.exhausted() {
            control.recv().map_err(|_| RecvTimeoutError::Disconnected)
        } else {
            control.recv_timeout(interval)
        };
        poll_now = match msg {
            Err(RecvTimeoutError::Timeout) => true,
            Err(RecvTimeoutError::Disconnected) | Ok(Control::Quit) => return,
            Ok(Control::Pause) => {
                paused = true;
                false
            }
            Ok(Control::Resume) => {
                paused = false;
                true
            }
            Ok(Control::RefreshNow) => !poller.exhausted(),
            Ok(Control::SetInterval(d)) => {
                interval = d;
                false
            }
            // A view toggle changes what the next poll keeps, never the
            // data shown: no poll now, unless none would ever come (a
            // replay at its end plays its last poll again).
            Ok(Control::KeepAllStates(keep)) => {
                poller.keep_all_states(keep);
                poller.exhausted()
            }
            // From the next poll on: no extra pfctl run for opening a pane.
            Ok(Control::WantIds(want)) => {
                poller.want_ids(want);
                false
            }
            // pfctl runs here, between polls: the UI stays responsive and a
            // kill never overlaps a poll of the same pfctl.
            Ok(Control::Kill(job)) => {
                if events.send(Event::Killed(kill::run(&job))).is_err() {
                    return;
                }
                !poller.exhausted()
            }
        };
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    use crate::tui::fake;

    struct Counting {
        polls: u32,
        limit: u32,
        fail_every_other: bool,
        keep_all: bool,
    }

    impl Poller for Counting {
        fn poll(&mut self) -> Result<Snapshot, String> {
            self.polls += 1;
            if self.fail_every_other && self.polls.is_multiple_of(2) {
                return Err(format!("poll {} failed", self.polls));
            }
            let mut s = fake::snapshot();
            let a = std::sync::Arc::make_mut(&mut s.analysis);
            a.total_states = u64::from(self.polls);
            a.server_states = u64::from(self.keep_all);
            Ok(s)
        }
        fn keep_all_states(&mut self, keep: bool) {
            self.keep_all = keep;
        }
        fn exhausted(&self) -> bool {
            self.polls >= self.limit
        }
    }

    fn poller(fail: bool) -> Box<dyn Poller> {
        Box::new(Counting {
            polls: 0,
            limit: u32::MAX,
            fail_every_other: fail,
            keep_all: false,
        })
    }

    fn next_poll(rx: &Receiver<Event>) -> Event {
        loop {
            match rx.recv_timeout(Duration::from_secs(5)).expect("an event") {
                Event::PollStarted => continue,
                ev => return ev,
            }
        }
    }

    #[test]
    fn polls_at_the_interval_and_reports_failures() {
        let (tx, rx) = mpsc::channel();
        let (ctl, ctl_rx) = mpsc::channel();
        let h = spawn_collector(
            poller(true),
            Duration::from_millis(10),
            FirstPoll::Now,
            tx,
            ctl_rx,
        )
        .unwrap();
        assert!(matches!(next_poll(&rx), Event::Polled(s) if s.analysis.total_states == 1));
        assert!(matches!(next_poll(&rx), Event::PollFailed(m) if m == "poll 2 failed"));
        assert!(matches!(next_poll(&rx), Event::Polled(s) if s.analysis.total_states == 3));
        ctl.send(Control::Quit).unwrap();
        h.join().unwrap();
    }

    #[test]
    fn pause_stops_polling_and_refresh_polls_once() {
        let (tx, rx) = mpsc::channel();
        let (ctl, ctl_rx) = mpsc::channel();
        // A long interval: only control messages cause polls.
        let h = spawn_collector(
            poller(false),
            Duration::from_secs(600),
            FirstPoll::Now,
            tx,
            ctl_rx,
        )
        .unwrap();
        assert!(matches!(next_poll(&rx), Event::Polled(_)));
        ctl.send(Control::Pause).unwrap();
        ctl.send(Control::RefreshNow).unwrap();
        assert!(matches!(next_poll(&rx), Event::Polled(s) if s.analysis.total_states == 2));
        assert!(
            rx.recv_timeout(Duration::from_millis(100)).is_err(),
            "paused"
        );
        ctl.send(Control::KeepAllStates(true)).unwrap();
        assert!(
            rx.recv_timeout(Duration::from_millis(100)).is_err(),
            "a view toggle does not poll"
        );
        ctl.send(Control::RefreshNow).unwrap();
        assert!(matches!(next_poll(&rx), Event::Polled(s) if s.analysis.server_states == 1));
        ctl.send(Control::Quit).unwrap();
        h.join().unwrap();
    }

    #[test]
    fn waits_an_interval_when_the_first_poll_was_made_already() {
        let (tx, rx) = mpsc::channel();
        let (ctl, ctl_rx) = mpsc::channel();
        let first = FirstPoll::AfterInterval;
        let h =
            spawn_collector(poller(false), Duration::from_secs(600), first, tx, ctl_rx).unwrap();
        assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
        ctl.send(Control::RefreshNow).unwrap();
        assert!(matches!(next_poll(&rx), Event::Polled(s) if s.analysis.total_states == 1));
        ctl.send(Control::Quit).unwrap();
        h.join().unwrap();
    }

    #[test]
    fn an_exhausted_replay_is_not_polled_again() {
        let (tx, rx) = mpsc::channel();
        let (ctl, ctl_rx) = mpsc::channel();
        let two = Box::new(Counting {
            polls: 0,
            limit: 2,
            fail_every_other: false,
            keep_all: false,
        });
        let h = spawn_collector(two, Duration::from_millis(5), FirstPoll::Now, tx, ctl_rx).unwrap();
        assert!(matches!(next_poll(&rx), Event::Polled(_)));
        assert!(matches!(next_poll(&rx), Event::Polled(_)));
        ctl.send(Control::RefreshNow).unwrap();
        assert!(
            rx.recv_timeout(Duration::from_millis(100)).is_err(),
            "no third poll"
        );
        ctl.send(Control::Quit).unwrap();
        h.join().unwrap();
    }

    #[test]
    fn keys_in_the_same_burst_as_k_never_answer() {
        let t0 = Instant::now();
        let mut gate = InputGate::default();
        let ms = |n| t0 + Duration::from_millis(n);
        assert!(gate.arrived(ms(0)), "K after a quiet time");
        // A pasted `yyy` right behind it, and key repeat, keep the burst going.
        assert!(!gate.arrived(ms(1)));
        assert!(!gate.arrived(ms(100)));
        assert!(!gate.arrived(ms(240)));
        // A deliberate answer after a pause counts.
        assert!(gate.arrived(ms(400)));
    }

    #[test]
    fn pastes_only_ever_type_into_the_filter() {
        assert!(pasted_filter_text("Ky", false, false).is_empty());
        assert!(pasted_filter_text("y", true, true).is_empty());
        assert_eq!(
            pasted_filter_text("2001:db8::/32\n\x1b[2J", true, false),
            "2001:db8::/32[2J".chars().collect::<Vec<_>>()
        );
    }

    struct Panicking;

    impl Poller for Panicking {
        fn poll(&mut self) -> Result<Snapshot, String> {
            panic!("a bug in the poller");
        }
        fn keep_all_states(&mut self, _: bool) {}
    }

    #[test]
    fn a_panicking_collector_tells_the_ui() {
        let (tx, rx) = mpsc::channel();
        let (_ctl, ctl_rx) = mpsc::channel();
        let h = spawn_collector(
            Box::new(Panicking),
            Duration::from_millis(1),
            FirstPoll::Now,
            tx,
            ctl_rx,
        )
        .unwrap();
        assert!(h.join().is_err(), "the thread panicked");
        assert!(matches!(rx.recv().unwrap(), Event::PollStarted));
        assert!(matches!(rx.recv().unwrap(), Event::CollectorPanicked));
    }

    #[test]
    fn stops_when_the_ui_goes_away() {
        let (tx, rx) = mpsc::channel();
        let (_ctl, ctl_rx) = mpsc::channel();
        let h = spawn_collector(
            poller(false),
            Duration::from_millis(1),
            FirstPoll::Now,
            tx,
            ctl_rx,
        )
        .unwrap();
        drop(rx);
        h.join().unwrap();
    }
}

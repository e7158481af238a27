//! The two header lines and the banner below them.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::analyze::Verdict;
use crate::tui::app::App;
use crate::tui::theme::{BYPASS_SYMBOL, POSSIBLE_SYMBOL};
use crate::tui::view::format::{clean, clock, cut, elapsed, human, interval};

const SEP: &str = " │ ";

/// Below this size the header is compact: a few short lines, each cut with `…`.
pub(crate) const FULL_WIDTH: u16 = 80;
pub(crate) const FULL_HEIGHT: u16 = 24;
/// Below this height the compact header drops the servers line.
const TALL_ENOUGH_FOR_SESSION: u16 = 16;

/// What is watched and how, the last poll, and what it found: two lines
/// when the session and the poll fit on one, else three; on a small screen
/// the compact form.
pub fn lines(app: &App, width: u16, height: u16) -> Vec<Line<'static>> {
    if width < FULL_WIDTH || height < FULL_HEIGHT {
        return compact_lines(app, width, height);
    }
    let width = usize::from(width);
    let sep = SEP.chars().count();
    // Session, interval and poll on one line when they fit; else the
    // interval goes with whichever line has room.
    let session = session_line(app);
    let every = Line::from(interval_spans(app));
    let poll = Line::from(poll_spans(app));
    let join = |mut a: Line<'static>, b: Line<'static>| {
        a.spans.push(Span::raw(SEP));
        a.spans.extend(b.spans);
        a
    };
    let mut out = if session.width() + every.width() + poll.width() + 2 * sep <= width {
        vec![join(join(session, every), poll)]
    } else if session.width() + every.width() + sep <= width {
        vec![join(session, every), poll]
    } else {
        vec![session, join(every, poll)]
    };
    let mut findings = findings_line(app);
    let bypass = Line::from(bypass_spans(app));
    if findings.width() + sep + bypass.width() <= width {
        if bypass.width() > 0 {
            findings.spans.push(Span::raw(SEP));
            findings.spans.extend(bypass.spans);
        }
    } else {
        // The bypass is the finding: a line of its own rather than be cut.
        out.push(findings);
        findings = bypass;
    }
    let warnings = warnings(app);
    if !warnings.is_empty() {
        let warn = Span::styled(format!("⚠ {warnings}"), app.theme.warning());
        // Warnings matter: they get a line of their own rather than be cut.
        if findings.width() + sep + warn.width() <= width {
            findings.spans.push(Span::raw(SEP));
            findings.spans.push(warn);
            out.push(findings);
        } else {
            out.push(findings);
            for line in wrap_words(&format!("⚠ {warnings}"), width, 2) {
                out.push(Line::from(Span::styled(line, app.theme.warning())));
            }
        }
    } else {
        out.push(findings);
    }
    out.extend(host_lines(app, width));
    out.into_iter().map(|l| fit(l, width)).collect()
}

/// A header line cut to `width` columns with `…` (a long source name, or
/// the poll's figures on 80 columns, must not run off the screen unmarked).
fn fit(line: Line<'static>, width: usize) -> Line<'static> {
    if line.width() <= width {
        return line;
    }
    let mut room = width.saturating_sub(1);
    let mut spans = Vec::new();
    for span in line.spans {
        let n = span.width();
        if n <= room {
            room -= n;
            spans.push(span);
            continue;
        }
        // Display columns, not chars: a wide character takes two.
        let mut kept = String::new();
        for c in span.content.chars() {
            let w = Span::raw(c.to_string()).width();
            if w > room {
                break;
            }
            room -= w;
            kept.push(c);
        }
        spans.push(Span::styled(kept, span.style));
        break;
    }
    spans.push(Span::raw("…"));
    Line::from(spans)
}

/// A fleet: one line per host, `fw-a · CARP MASTER · 12:00:00 · 40 ms ·
/// 3 states, 3 srv · Hostid 0a0a0001`, or why its poll failed (shown,
/// never hidden).
fn host_lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let Some(snap) = &app.snapshot else {
        return Vec::new();
    };
    let t = app.theme;
    snap.hosts
        .iter()
        .map(|h| {
            let name = clean(&h.name);
            match &h.error {
                Some(why) => Line::from(Span::styled(
                    cut(&format!("{name} · ✗ poll failed: {}", clean(why)), width),
                    t.spurious(),
                )),
                None => {
                    // CARP comes right after the name: on a narrow screen
                    // which box is MASTER matters more than the poll's cost.
                    let mut text = name.to_string();
                    if let Some(carp) = &h.carp {
                        text.push_str(&format!(" · CARP {}", clean(carp)));
                    }
                    text.push_str(&format!(
                        " · {} · {} · {} states, {} srv",
                        clock(h.taken_at),
                        elapsed(h.elapsed),
                        h.states,
                        h.server_states
                    ));
                    if let Some(id) = h.hostid {
                        text.push_str(&format!(" · Hostid {id:08x}"));
                    }
                    Line::from(cut(&text, width))
                }
            }
        })
        .collect()
}

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    frame.render_widget(
        Paragraph::new(lines(app, area.width, app.areas.screen_height)),
        area,
    );
}

/// The header of a small screen: the servers (when tall enough), the poll
/// in short, and one line per bypass in words (`✗ @14 bypasses route-to
/// @17`), each cut with `…` to the width.
fn compact_lines(app: &App, width: u16, height: u16) -> Vec<Line<'static>> {
    let t = app.theme;
    let w = usize::from(width);
    let mut out = Vec::new();
    if height >= TALL_ENOUGH_FOR_SESSION {
        let text = format!(
            "pfblame · {} · {}",
            clean(&app.settings.servers),
            clean(&app.settings.source)
        );
        out.push(Line::from(Span::styled(cut(&text, w), t.title())));
    }
    let Some(snap) = &app.snapshot else {
        out.push(Line::from(Span::styled(
            cut("waiting for pfctl output", w),
            t.label(),
        )));
        return out;
    };
    let a = &snap.analysis;
    let mut poll = format!("{} · {} srv", clock(a.taken_at), a.server_states);
    if snap.new_count > 0 {
        poll.push_str(&format!(", {} new", snap.new_count));
    }
    if let Some((i, n)) = snap.meta.as_ref().and_then(|m| m.position) {
        let round = match snap.replay_loop {
            Some(r) => format!(" loop {r}"),
            None if i >= n => " ended".to_string(),
            None => String::new(),
        };
        let long = format!("{poll} · replay {i}/{n}{round}");
        poll = if long.chars().count() <= w {
            long
        } else {
            format!("{poll} · {i}/{n}{round}")
        };
    } else {
        poll.push_str(&format!(" · every {}", interval(app.settings.interval)));
    }
    if !warnings(app).is_empty() {
        poll.push_str(" · ⚠");
    }
    out.push(Line::from(cut(&poll, w)));
    let bypasses = bypass_words(app);
    match bypasses.as_slice() {
        [] => {
            let harmful = a
                .rows
                .iter()
                .filter(|r| r.verdict.is_some_and(Verdict::is_failure))
                .count();
            let (text, style) = if harmful > 0 {
                (
                    format!("! {harmful} bypass rule{}", plural(harmful)),
                    t.spurious(),
                )
            } else {
                ("no bypass rule".to_string(), t.allowed())
            };
            out.push(Line::from(Span::styled(cut(&text, w), style)));
        }
        [only] => out.push(Line::from(Span::styled(cut(only, w), t.spurious()))),
        [first, rest @ ..] => {
            let text = format!("{first} (+{} more)", rest.len());
            out.push(Line::from(Span::styled(cut(&text, w), t.spurious())));
        }
    }
    out.extend(host_lines(app, w));
    out
}

/// Each route-to bypass found, in words: `✗ @14 bypasses route-to @17`.
pub(crate) fn bypass_words(app: &App) -> Vec<String> {
    use crate::lint::FindingSeverity;
    let Some(snap) = &app.snapshot else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for f in &snap.analysis.findings {
        if f.severity != FindingSeverity::Error {
            continue;
        }
        let text = match &f.bypassed_rule {
            Some(b) => format!(
                "{BYPASS_SYMBOL} {} bypasses route-to {}",
                f.stateful_rule.key(),
                b.key()
            ),
            None => format!("{BYPASS_SYMBOL} {}: error", f.stateful_rule.key()),
        };
        if !out.contains(&text) {
            out.push(text);
        }
    }
    out
}

/// Where a replay is: `replay 2/4`, `replay 2/4, loop 3` (the demo starts
/// again at its end), `replay 4/4, ended`. `None` for live pfctl.
fn replay_text(app: &App) -> Option<String> {
    let snap = app.snapshot.as_ref()?;
    let (i, n) = snap.meta.as_ref()?.position?;
    Some(match snap.replay_loop {
        Some(round) => format!("replay {i}/{n}, loop {round}"),
        None if i >= n => format!("replay {i}/{n}, ended"),
        None => format!("replay {i}/{n}"),
    })
}

/// A replay (not looping) played its last poll: no more polls will come.
fn replay_ended(app: &App) -> bool {
    app.snapshot.as_ref().is_some_and(|s| {
        s.replay_loop.is_none()
            && s.meta
                .as_ref()
                .and_then(|m| m.position)
                .is_some_and(|(i, n)| i >= n)
    })
}

fn session_line(app: &App) -> Line<'static> {
    let t = app.theme;
    let s = &app.settings;
    let mut spans = vec![
        Span::styled("pfblame", t.title()),
        Span::raw(SEP),
        Span::styled("server ", t.label()),
        Span::raw(clean(&s.servers).into_owned()),
        Span::raw(SEP),
        Span::raw(clean(&s.source).into_owned()),
    ];
    if !s.strategy.is_empty() {
        spans.push(Span::styled(format!(" · {}", s.strategy), t.label()));
    }
    Line::from(spans)
}

/// `every 2s` (and a mark while a poll runs); `replay ended` when no poll
/// will come any more.
fn interval_spans(app: &App) -> Vec<Span<'static>> {
    let t = app.theme;
    if replay_ended(app) {
        return vec![Span::styled("replay ended, no more polls", t.warning())];
    }
    let mut spans = vec![
        Span::styled("every ", t.label()),
        Span::raw(interval(app.settings.interval)),
    ];
    if app.polling {
        spans.push(Span::styled(" ⟳", t.key()));
    }
    spans
}

/// `poll 12:00:04Z, 4 ms, 14K read · replay 3/6` (runs counted when more
/// than one), or the state of the first poll.
fn poll_spans(app: &App) -> Vec<Span<'static>> {
    let t = app.theme;
    let Some(snap) = &app.snapshot else {
        let what = if app.polling {
            "first poll…"
        } else {
            "no data yet"
        };
        return vec![Span::styled(what, t.label())];
    };
    // One host watched with --carp (or a recording's carp.txt): which box
    // this is matters more than the poll's cost (a BACKUP's states are
    // pfsync copies), so it comes first and is the last to be cut. A fleet
    // shows it on each host's line instead.
    let mut spans = Vec::new();
    if snap.hosts.is_empty()
        && let Some(carp) = &snap.analysis.carp
    {
        let style = if carp.overall() == Some(crate::model::carp::CarpState::Master) {
            Style::new()
        } else {
            t.warning()
        };
        spans.push(Span::styled("CARP ", t.label()));
        spans.push(Span::styled(clean(&carp.short()).to_string(), style));
        spans.push(Span::styled(" · ", t.label()));
    }
    spans.extend([
        Span::styled("poll ", t.label()),
        Span::raw(clock(snap.analysis.taken_at)),
        Span::styled(", ", t.label()),
        Span::raw(elapsed(snap.elapsed)),
    ]);
    if let Some(meta) = &snap.meta {
        let bytes: u64 = meta.runs.iter().map(|r| r.bytes).sum();
        let runs = meta.runs.len();
        if runs > 1 {
            spans.push(Span::styled(format!(", {runs} runs"), t.label()));
        }
        if bytes > 0 {
            spans.push(Span::styled(format!(", {} read", human(bytes)), t.label()));
        }
        if let Some(r) = replay_text(app) {
            spans.push(Span::raw(format!(" · {r}")));
        }
    }
    spans
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn findings_line(app: &App) -> Line<'static> {
    let t = app.theme;
    let Some(snap) = &app.snapshot else {
        return Line::from(Span::styled("waiting for pfctl output", t.label()));
    };
    let a = &snap.analysis;
    let spurious = a
        .rows
        .iter()
        .filter(|r| r.verdict.is_some_and(Verdict::is_failure))
        .count();
    let mut spans = vec![
        Span::styled("states ", t.label()),
        Span::raw(a.total_states.to_string()),
        Span::styled(" total, ", t.label()),
        Span::raw(a.server_states.to_string()),
        Span::styled(" server", t.label()),
    ];
    if snap.new_count > 0 {
        spans.push(Span::styled(
            format!(", {} new", snap.new_count),
            t.new_state(),
        ));
    }
    spans.push(Span::raw(SEP));
    spans.push(Span::styled("ruleset gen ", t.label()));
    spans.push(Span::raw(a.generation.number.to_string()));
    if let Some(changed) = a.generation.changed_at {
        spans.push(Span::styled(
            format!(" (changed {})", clock(Some(changed))),
            t.warning(),
        ));
    }
    spans.push(Span::raw(SEP));
    if spurious > 0 {
        spans.push(Span::styled(
            format!("! {spurious} bypass rule{}", plural(spurious)),
            t.spurious(),
        ));
    } else {
        spans.push(Span::styled("no bypass rule", t.allowed()));
    }
    Line::from(spans)
}

/// `✗ 1 route-to bypass (@14 → @17)`: the error findings (replies that
/// skip a routing rule), naming the rules when there is one; and how many
/// bypasses are only possible.
fn bypass_spans(app: &App) -> Vec<Span<'static>> {
    use crate::lint::{FindingKind, FindingSeverity};
    let Some(snap) = &app.snapshot else {
        return Vec::new();
    };
    let (a, t) = (&snap.analysis, app.theme);
    let errors: Vec<_> = a
        .findings
        .iter()
        .filter(|f| f.severity == FindingSeverity::Error)
        .collect();
    let possible = a
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::PossibleBypass)
        .count();
    let mut spans = Vec::new();
    if let [only] = errors.as_slice() {
        let skipped = only
            .bypassed_rule
            .as_ref()
            .map(|b| format!(" ({} → {})", only.stateful_rule.key(), b.key()))
            .unwrap_or_default();
        spans.push(Span::styled(
            format!("{BYPASS_SYMBOL} 1 route-to bypass{skipped}"),
            t.spurious(),
        ));
    } else if !errors.is_empty() {
        spans.push(Span::styled(
            format!("{BYPASS_SYMBOL} {} route-to bypasses", errors.len()),
            t.spurious(),
        ));
    }
    if possible > 0 {
        if !spans.is_empty() {
            spans.push(Span::raw(SEP));
        }
        spans.push(Span::styled(
            format!("{POSSIBLE_SYMBOL} {possible} possible"),
            t.warning(),
        ));
    }
    spans
}

/// The analysis's and the poll's warnings, plus a count of parse problems.
fn warnings(app: &App) -> String {
    let Some(snap) = &app.snapshot else {
        return String::new();
    };
    let mut all: Vec<String> = snap
        .analysis
        .warnings
        .iter()
        .map(|w| clean(w).into_owned())
        .collect();
    if let Some(meta) = &snap.meta {
        all.extend(meta.warnings.iter().map(|w| clean(w).into_owned()));
    }
    let diags = snap.analysis.diagnostics.len();
    if diags > 0 {
        all.push(format!("{diags} line{} not understood", plural(diags)));
    }
    all.join("; ")
}

/// The banner's text and style: pfctl failed (the data shown is older), or
/// paused. `None` when there is nothing to say.
fn banner(app: &App) -> Option<(String, ratatui::style::Style)> {
    let t = app.theme;
    // A notice answers what the user just did: it goes first.
    if let Some(n) = &app.notice {
        let style = if n.error {
            t.error_banner()
        } else {
            t.paused_banner()
        };
        let mark = if n.error { "✗" } else { "›" };
        return Some((format!(" {mark} {} ", clean(&n.text)), style));
    }
    if app.error.is_none() && !app.paused {
        return None;
    }
    let shown = app.snapshot.as_ref().map(|s| clock(s.analysis.taken_at));
    if let Some(err) = &app.error {
        let data = match &shown {
            Some(at) => format!("showing {at}"),
            None => "no data yet".to_string(),
        };
        let text = format!(
            " ✗ poll failed, {data}, retrying every {} (R: now): {} ",
            interval(app.settings.interval),
            clean(err),
        );
        Some((text, t.error_banner()))
    } else {
        let at = shown.unwrap_or_else(|| "--:--:--".into());
        let text =
            format!(" PAUSED — data frozen at {at}; keys still work (p: resume, R: one poll) ");
        Some((text, t.paused_banner()))
    }
}

/// Rows the banner needs at `width`: 0, 1, or 2 for a long error.
pub(crate) fn banner_height(app: &App, width: u16) -> u16 {
    match banner(app) {
        None => 0,
        Some((text, _)) if text.chars().count() > usize::from(width) => 2,
        Some(_) => 1,
    }
}

pub(crate) fn render_banner(frame: &mut Frame, app: &App, area: Rect) {
    let Some((text, style)) = banner(app) else {
        return;
    };
    let p = Paragraph::new(Line::from(Span::styled(text, style))).wrap(Wrap { trim: false });
    frame.render_widget(p, area);
}

/// Splits `text` into at most `max_lines` lines of `width` columns at
/// spaces; the last line ends with `…` when text is left over.
fn wrap_words(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let extra = usize::from(!current.is_empty()) + word.chars().count();
        if !current.is_empty() && current.chars().count() + extra > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    lines.push(current);
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            let keep: String = last.chars().take(width.saturating_sub(1)).collect();
            *last = format!("{keep}…");
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::{fit, wrap_words};
    use ratatui::text::{Line, Span};

    #[test]
    fn wraps_at_spaces_and_marks_the_cut() {
        assert_eq!(wrap_words("aa bb cc", 5, 2), ["aa bb", "cc"]);
        assert_eq!(wrap_words("aa bb cc dd ee", 5, 2), ["aa bb", "cc d…"]);
        assert_eq!(wrap_words("short", 80, 2), ["short"]);
    }

    #[test]
    fn header_lines_are_cut_to_the_width_with_a_mark() {
        let line = || {
            Line::from(vec![
                Span::raw("poll 12:00:00Z"),
                Span::raw(", 1 ms, 4 runs"),
            ])
        };
        assert_eq!(fit(line(), 80).to_string(), "poll 12:00:00Z, 1 ms, 4 runs");
        let cut = fit(line(), 20);
        assert_eq!(cut.to_string(), "poll 12:00:00Z, 1 m…");
        assert_eq!(cut.width(), 20);
        // Wide characters count two columns.
        let wide = fit(Line::from("源源源源源源"), 7);
        assert_eq!(wide.to_string(), "源源源…");
        assert!(wide.width() <= 7);
    }
}

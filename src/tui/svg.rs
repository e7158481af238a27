//! Renders a ratatui [`Buffer`] as an SVG image or as plain text: the
//! screenshots in `screenshots/` are real frames, drawn into a buffer and
//! written by `cargo run --example screenshots`.

use std::fmt::Write;

use ratatui::buffer::{Buffer, Cell};
use ratatui::style::{Color, Modifier};

/// Width and height of one cell, in pixels, for a 14px monospace font.
const CELL_W: f64 = 8.4;
const CELL_H: f64 = 18.0;
const FONT_SIZE: f64 = 14.0;
const PAD: f64 = 8.0;
const DEFAULT_FG: &str = "#d0d0d0";
const DEFAULT_BG: &str = "#1c1c1c";

/// Columns a cell's symbol takes (2 for wide characters).
fn symbol_width(symbol: &str) -> usize {
    ratatui::text::Span::raw(symbol).width()
}

/// The buffer as text: one line per row, trailing blanks trimmed.
pub fn to_text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut line = String::new();
        let mut skip = 0;
        for x in area.left()..area.right() {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let cell = &buf[(x, y)];
            line.push_str(cell.symbol());
            skip = symbol_width(cell.symbol()).saturating_sub(1);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The colour of a cell's text and background, with REVERSED applied.
fn colours(cell: &Cell) -> (String, String) {
    let fg = css(cell.fg).unwrap_or_else(|| DEFAULT_FG.to_string());
    let bg = css(cell.bg).unwrap_or_else(|| DEFAULT_BG.to_string());
    if cell.modifier.contains(Modifier::REVERSED) {
        (bg, fg)
    } else {
        (fg, bg)
    }
}

/// CSS colour of a terminal colour (xterm's palette); `None` for the default.
fn css(c: Color) -> Option<String> {
    let named = |s: &str| Some(s.to_string());
    match c {
        Color::Reset => None,
        Color::Black => named("#000000"),
        Color::Red => named("#cd3131"),
        Color::Green => named("#0dbc79"),
        Color::Yellow => named("#e5e510"),
        Color::Blue => named("#2472c8"),
        Color::Magenta => named("#bc3fbc"),
        Color::Cyan => named("#11a8cd"),
        Color::Gray => named("#e5e5e5"),
        Color::DarkGray => named("#666666"),
        Color::LightRed => named("#f14c4c"),
        Color::LightGreen => named("#23d18b"),
        Color::LightYellow => named("#f5f543"),
        Color::LightBlue => named("#3b8eea"),
        Color::LightMagenta => named("#d670d6"),
        Color::LightCyan => named("#29b8db"),
        Color::White => named("#ffffff"),
        Color::Rgb(r, g, b) => Some(format!("#{r:02x}{g:02x}{b:02x}")),
        Color::Indexed(i) => Some(format!("#{i:02x}{i:02x}{i:02x}")),
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// A run of cells on one row that share their style.
struct Run {
    x: u16,
    width: u16,
    text: String,
    fg: String,
    bg: String,
    bold: bool,
    dim: bool,
    underline: bool,
}

fn runs(buf: &Buffer, y: u16) -> Vec<Run> {
    let area = buf.area;
    let mut out: Vec<Run> = Vec::new();
    let mut x = area.left();
    while x < area.right() {
        let cell = &buf[(x, y)];
        let (fg, bg) = colours(cell);
        let m = cell.modifier;
        let (bold, dim, underline) = (
            m.contains(Modifier::BOLD),
            m.contains(Modifier::DIM),
            m.contains(Modifier::UNDERLINED),
        );
        let w = (symbol_width(cell.symbol()) as u16).max(1);
        match out.last_mut() {
            Some(r)
                if r.fg == fg
                    && r.bg == bg
                    && r.bold == bold
                    && r.dim == dim
                    && r.underline == underline =>
            {
                r.text.push_str(cell.symbol());
                r.width += w;
            }
            _ => out.push(Run {
                x,
                width: w,
                text: cell.symbol().to_string(),
                fg,
                bg,
                bold,
                dim,
                underline,
            }),
        }
        x += w;
    }
    out
}

/// The buffer as an SVG image: a dark terminal, monospace text, colours,
/// bold, dim, underline and reversed video as the terminal would show them.
pub(crate) fn to_svg(buf: &Buffer, title: &str) -> String {
    let area = buf.area;
    let width = f64::from(area.width) * CELL_W + 2.0 * PAD;
    let height = f64::from(area.height) * CELL_H + 2.0 * PAD;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" xml:space="preserve" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" role="img" aria-label="{}">"#,
        escape(title)
    );
    let _ = writeln!(s, "<title>{}</title>", escape(title));
    let _ = writeln!(
        s,
        r#"<style>text{{font-family:"DejaVu Sans Mono","Menlo","Consolas",monospace;font-size:{FONT_SIZE}px;white-space:pre}}.b{{font-weight:bold}}.d{{opacity:.6}}.u{{text-decoration:underline}}</style>"#
    );
    let _ = writeln!(
        s,
        r#"<rect width="100%" height="100%" rx="6" fill="{DEFAULT_BG}"/>"#
    );
    for y in area.top()..area.bottom() {
        let top = PAD + f64::from(y - area.top()) * CELL_H;
        for run in runs(buf, y) {
            let left = PAD + f64::from(run.x - area.left()) * CELL_W;
            let w = f64::from(run.width) * CELL_W;
            if run.bg != DEFAULT_BG {
                let _ = writeln!(
                    s,
                    r#"<rect x="{left:.1}" y="{top:.1}" width="{w:.1}" height="{CELL_H:.1}" fill="{}"/>"#,
                    run.bg
                );
            }
            if run.text.trim().is_empty() {
                continue;
            }
            let mut class = Vec::new();
            if run.bold {
                class.push("b");
            }
            if run.dim {
                class.push("d");
            }
            if run.underline {
                class.push("u");
            }
            let class = if class.is_empty() {
                String::new()
            } else {
                format!(r#" class="{}""#, class.join(" "))
            };
            // textLength pins the run to its cells, whatever font is used.
            let _ = writeln!(
                s,
                r#"<text x="{left:.1}" y="{:.1}" fill="{}" textLength="{w:.1}" lengthAdjust="spacingAndGlyphs"{class}>{}</text>"#,
                top + CELL_H * 0.75,
                run.fg,
                escape(&run.text)
            );
        }
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    fn sample() -> Buffer {
        let mut buf = Buffer::empty(Rect::new(0, 0, 12, 2));
        buf.set_string(0, 0, "a<b & c", Style::new().fg(Color::Red));
        buf.set_string(
            0,
            1,
            "▶ sel",
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        );
        buf
    }

    #[test]
    fn text_trims_and_keeps_symbols() {
        assert_eq!(to_text(&sample()), "a<b & c\n▶ sel\n");
    }

    #[test]
    fn svg_escapes_and_styles() {
        let svg = to_svg(&sample(), "t");
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("a&lt;b &amp; c"));
        assert!(svg.contains(r##"fill="#cd3131""##), "red text");
        // Reversed: default fg becomes the background rectangle.
        assert!(svg.contains(&format!(r#"fill="{DEFAULT_FG}"/>"#)));
        assert!(svg.contains(r#"class="b""#));
        assert!(svg.trim_end().ends_with("</svg>"));
    }
}

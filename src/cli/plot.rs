//! Small, dependency-free SVG line charts for `synth learn`'s training curves
//! and its accuracy-against-size table. Deterministic text: the same series
//! give the same bytes.
//!
//! What a reader needs from a plot drives the layout: ticks at round values
//! (steps of 1, 2 or 5 times a power of ten; decades on a logarithmic axis,
//! with 2 and 5 between them when the axis spans a single decade), a
//! logarithmic axis where the data spans decades (a loss going from 4.4 to
//! 0.001 is a flat line on a linear axis), and nothing cut off: the margins
//! and the canvas grow to fit the tick labels, the legend and the title,
//! whose widths are estimated generously (there is no font metrics here,
//! and the viewer picks the font).

use std::fmt::Write;

/// One named line.
pub struct Series<'a> {
    pub name: &'a str,
    pub points: Vec<(f64, f64)>,
}

/// How an axis maps values to positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    Linear,
    /// Logarithmic; points at zero or below are left out.
    Log,
    /// Logarithmic when every value is positive and the largest is at least
    /// [`AUTO_LOG_RATIO`] times the smallest, else linear.
    Auto,
}

/// The spread (largest over smallest) from which [`Scale::Auto`] is
/// logarithmic: about one and a half decades.
pub const AUTO_LOG_RATIO: f64 = 30.0;

/// Axis options.
pub struct Chart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub x_scale: Scale,
    pub y_scale: Scale,
    /// Fixed y range, e.g. `(0.0, 1.0)` for accuracies; else from the data.
    pub y_range: Option<(f64, f64)>,
}

/// Font sizes, in pixels.
pub const FONT: f64 = 12.0;
pub const TITLE_FONT: f64 = 15.0;
/// The plotting area, without margins.
const PLOT_W: f64 = 460.0;
const PLOT_H: f64 = 280.0;
/// Space around everything.
const PAD: f64 = 10.0;
/// Legend: a line swatch, then the name.
const SWATCH: f64 = 20.0;
const LEGEND_ROW: f64 = 18.0;
const COLOURS: [&str; 6] = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];
/// Series with at most this many points get a dot on each.
const MARKERS_UP_TO: usize = 25;

/// A generous estimate of the width of `text` at `font` pixels in a common
/// sans-serif font (DejaVu Sans, the widest of them, Helvetica, Arial): wide
/// letters and signs count a full em, capitals 0.8, narrow letters and marks
/// 0.4, the rest (lower case and digits, at most 0.64 in DejaVu Sans) 0.66.
/// A test holds it above DejaVu Sans's width of every ASCII character.
pub fn text_width(text: &str, font: f64) -> f64 {
    let em: f64 = text
        .chars()
        .map(|c| match c {
            'm' | 'w' | 'M' | 'W' | '=' | '+' | '<' | '>' | '%' | '@' | '~' | '#' | '&' | '^' => 1.0,
            'i' | 'l' | 'j' | 't' | 'f' | 'I' | '.' | ',' | ':' | ';' | '\'' | '|' | '(' | ')' | '[' | ']' | ' ' | '-' => 0.4,
            c if c.is_uppercase() => 0.8,
            _ => 0.66,
        })
        .sum();
    em * font
}

/// One axis after layout: the range drawn, the ticks and how a value maps to
/// `0..=1` along it.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub log: bool,
    /// The range drawn, in data units (both positive on a log axis).
    pub lo: f64,
    pub hi: f64,
    /// `(value, label)` from low to high.
    pub ticks: Vec<(f64, String)>,
}

impl Axis {
    /// Lays out an axis over `values` (finite ones; on a log axis, positive
    /// ones), or over `fixed` when given.
    pub fn new(values: &[f64], scale: Scale, fixed: Option<(f64, f64)>) -> Axis {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let log = match scale {
            Scale::Linear => false,
            Scale::Log => true,
            Scale::Auto => {
                let (lo, hi) = min_max(&finite);
                !finite.is_empty() && lo > 0.0 && hi / lo >= AUTO_LOG_RATIO
            }
        };
        let usable: Vec<f64> = if log { finite.into_iter().filter(|&v| v > 0.0).collect() } else { finite };
        let (lo, hi) = match fixed {
            Some((a, b)) if a.is_finite() && b.is_finite() && b > a && (!log || a > 0.0) => (a, b),
            _ if usable.is_empty() => {
                if log {
                    (1.0, 10.0)
                } else {
                    (0.0, 1.0)
                }
            }
            _ => min_max(&usable),
        };
        if log {
            log_axis(lo, hi)
        } else {
            linear_axis(lo, hi, fixed.is_some())
        }
    }

    /// Where `v` lies along the axis, 0 at `lo` and 1 at `hi`; `None` for a
    /// value the axis cannot show (not finite, or not positive on a log axis).
    pub fn fraction(&self, v: f64) -> Option<f64> {
        if !v.is_finite() || (self.log && v <= 0.0) {
            return None;
        }
        Some(if self.log { (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10()) } else { (v - self.lo) / (self.hi - self.lo) })
    }
}

fn min_max(values: &[f64]) -> (f64, f64) {
    values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)))
}

/// A step of 1, 2 or 5 times a power of ten that cuts `span` into about
/// `parts` parts.
fn nice_step(span: f64, parts: f64) -> f64 {
    let raw = span / parts;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let m = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// Decimals that show every multiple of `step` exactly.
fn decimals(step: f64) -> usize {
    let k = -step.log10().floor();
    if k > 0.0 {
        k as usize
    } else {
        0
    }
}

/// A linear axis over `lo..=hi` widened to round ticks (a fixed range keeps
/// its ends and gets ticks inside it).
fn linear_axis(lo: f64, hi: f64, fixed: bool) -> Axis {
    let (mut lo, mut hi) = (lo, hi);
    if hi - lo <= f64::EPSILON * hi.abs().max(lo.abs()).max(1.0) {
        // One value: a range around it, so that it sits in the middle.
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo, hi) = (lo - pad, hi + pad);
    }
    let step = nice_step(hi - lo, 5.0);
    if !fixed {
        lo = (lo / step).floor() * step;
        hi = (hi / step).ceil() * step;
    }
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    let places = decimals(step);
    let ticks = (first..=last)
        .map(|k| {
            let v = k as f64 * step;
            // `-0.0` prints as "-0".
            let v = if v == 0.0 { 0.0 } else { v };
            (v, format!("{v:.places$}"))
        })
        .collect();
    Axis { log: false, lo, hi, ticks }
}

/// A log axis over `lo..=hi` (both positive) widened to whole decades; ticks
/// at every decade, or every other one and so on when there are many, with 2
/// and 5 between them when the axis is a single decade.
fn log_axis(lo: f64, hi: f64) -> Axis {
    let mut d0 = lo.log10().floor() as i32;
    let mut d1 = hi.log10().ceil() as i32;
    // A value a hair off a decade (floating point) is on it.
    if 10f64.powi(d0 + 1) <= lo * (1.0 + 1e-9) {
        d0 += 1;
    }
    if 10f64.powi(d1 - 1) >= hi * (1.0 - 1e-9) {
        d1 -= 1;
    }
    if d1 <= d0 {
        d1 = d0 + 1;
    }
    // One value on a decade: that decade in the middle, not at an edge.
    if hi <= lo * (1.0 + 1e-9) && (lo.log10() - d0 as f64).abs() < 1e-9 {
        (d0, d1) = (d0 - 1, d0 + 1);
    }
    // At most about seven decade ticks; the top of the axis on one.
    let every = (d1 - d0 + 6) / 7;
    d1 = d0 + (d1 - d0 + every - 1) / every * every;
    let mut ticks = Vec::new();
    for d in (d0..=d1).step_by(every as usize) {
        ticks.push((10f64.powi(d), pow10_label(1, d)));
        if d1 - d0 == 1 && d < d1 {
            for m in [2, 5] {
                ticks.push((m as f64 * 10f64.powi(d), pow10_label(m, d)));
            }
        }
    }
    Axis { log: true, lo: 10f64.powi(d0), hi: 10f64.powi(d1), ticks }
}

/// `m * 10^d` as a plain number (`0.002`, `5000`), or `2e-7` when that
/// would be long.
fn pow10_label(m: u32, d: i32) -> String {
    if (-4..=6).contains(&d) {
        let v = m as f64 * 10f64.powi(d);
        let places = if d < 0 { (-d) as usize } else { 0 };
        format!("{v:.places$}")
    } else {
        format!("{m}e{d}")
    }
}

/// Renders the chart as a standalone SVG document.
pub fn svg(chart: &Chart, series: &[Series]) -> String {
    let finite = |&(x, y): &(f64, f64)| x.is_finite() && y.is_finite();
    let all: Vec<(f64, f64)> = series.iter().flat_map(|s| s.points.iter().copied()).filter(finite).collect();
    let xs: Vec<f64> = all.iter().map(|p| p.0).collect();
    let ys: Vec<f64> = all.iter().map(|p| p.1).collect();
    let x_axis = Axis::new(&xs, chart.x_scale, None);
    let y_axis = Axis::new(&ys, chart.y_scale, chart.y_range);

    // Margins from what goes in them.
    let y_ticks_w = y_axis.ticks.iter().map(|(_, l)| text_width(l, FONT)).fold(0.0, f64::max);
    let first_x_tick_w = x_axis.ticks.first().map_or(0.0, |(_, l)| text_width(l, FONT));
    let last_x_tick_w = x_axis.ticks.last().map_or(0.0, |(_, l)| text_width(l, FONT));
    let names: Vec<String> =
        series.iter().map(|s| if s.points.iter().any(finite) { s.name.to_string() } else { format!("{} (no data)", s.name) }).collect();
    let legend_w = names.iter().map(|n| text_width(n, FONT)).fold(0.0, f64::max);
    let left = (PAD + FONT + 8.0 + y_ticks_w + 6.0).max(first_x_tick_w / 2.0 + PAD);
    let right = if series.is_empty() { PAD + last_x_tick_w / 2.0 } else { (12.0 + SWATCH + 6.0 + legend_w + PAD).max(last_x_tick_w / 2.0 + PAD) };
    let top = PAD + TITLE_FONT + 15.0;
    let bottom = 18.0 + 6.0 + FONT + 4.0 + FONT + PAD;
    let plot_h = PLOT_H.max(text_width(chart.y_label, FONT) + 10.0).max(LEGEND_ROW * series.len() as f64);
    let plot_w = PLOT_W.max(text_width(chart.x_label, FONT) + 10.0);
    let w = (left + plot_w + right).max(text_width(chart.title, TITLE_FONT) + 2.0 * PAD).ceil();
    let h = (top + plot_h + bottom).ceil();
    let (ax0, ax1, ay0, ay1) = (left, left + plot_w, top, top + plot_h);
    let px = |f: f64| ax0 + f * (ax1 - ax0);
    let py = |f: f64| ay1 - f * (ay1 - ay0);

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="{FONT}">"#
    );
    let _ = writeln!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let _ = writeln!(s, r#"<text x="{}" y="{}" text-anchor="middle" font-size="{TITLE_FONT}">{}</text>"#, w / 2.0, PAD + TITLE_FONT, esc(chart.title));
    // Grid and ticks.
    for (v, label) in &y_axis.ticks {
        let Some(f) = y_axis.fraction(*v) else { continue };
        let y = py(f);
        let _ = writeln!(s, r##"<line x1="{ax0:.1}" y1="{y:.1}" x2="{ax1:.1}" y2="{y:.1}" stroke="#ddd"/>"##);
        let _ = writeln!(s, r#"<text class="tick-y" x="{:.1}" y="{:.1}" text-anchor="end">{label}</text>"#, ax0 - 6.0, y + 4.0);
    }
    for (v, label) in &x_axis.ticks {
        let Some(f) = x_axis.fraction(*v) else { continue };
        let x = px(f);
        let _ = writeln!(s, r##"<line x1="{x:.1}" y1="{ay1:.1}" x2="{x:.1}" y2="{:.1}" stroke="black"/>"##, ay1 + 4.0);
        let _ = writeln!(s, r#"<text class="tick-x" x="{x:.1}" y="{:.1}" text-anchor="middle">{label}</text>"#, ay1 + 18.0);
    }
    // Axes on top of the grid.
    let _ = writeln!(s, r#"<line x1="{ax0:.1}" y1="{ay0:.1}" x2="{ax0:.1}" y2="{ay1:.1}" stroke="black"/>"#);
    let _ = writeln!(s, r#"<line x1="{ax0:.1}" y1="{ay1:.1}" x2="{ax1:.1}" y2="{ay1:.1}" stroke="black"/>"#);
    let _ = writeln!(s, r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#, (ax0 + ax1) / 2.0, h - PAD - 4.0, esc(chart.x_label));
    let (lx, ly) = (PAD + FONT, (ay0 + ay1) / 2.0);
    let _ = writeln!(s, r#"<text x="{lx:.1}" y="{ly:.1}" text-anchor="middle" transform="rotate(-90 {lx:.1} {ly:.1})">{}</text>"#, esc(chart.y_label));
    if all.is_empty() {
        let _ = writeln!(s, r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#888">no data</text>"##, (ax0 + ax1) / 2.0, (ay0 + ay1) / 2.0);
    }
    // Lines and legend.
    for (i, (ser, name)) in series.iter().zip(&names).enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let pts: Vec<(f64, f64)> = ser
            .points
            .iter()
            .filter_map(|&(x, y)| Some((px(x_axis.fraction(x)?), py(y_axis.fraction(y)?.clamp(0.0, 1.0)))))
            .collect();
        if pts.len() > 1 {
            let text: Vec<String> = pts.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
            let _ = writeln!(s, r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="1.5"/>"#, text.join(" "));
        }
        if pts.len() <= MARKERS_UP_TO {
            for (x, y) in &pts {
                let _ = writeln!(s, r#"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="{colour}"/>"#);
            }
        }
        let ly = ay0 + 8.0 + LEGEND_ROW * i as f64;
        let sx = ax1 + 12.0;
        let _ = writeln!(s, r#"<line x1="{sx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{colour}" stroke-width="2"/>"#, sx + SWATCH);
        let _ = writeln!(s, r#"<text x="{:.1}" y="{:.1}">{}</text>"#, sx + SWATCH + 6.0, ly + 4.0, esc(name));
    }
    s.push_str("</svg>\n");
    s
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

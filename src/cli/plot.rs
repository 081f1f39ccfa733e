//! Small, dependency-free SVG line charts for `synth learn`'s training curves
//! and its accuracy-against-size table. Deterministic text: the same series
//! give the same bytes.

use std::fmt::Write;

/// One named line.
pub struct Series<'a> {
    pub name: &'a str,
    pub points: Vec<(f64, f64)>,
}

/// Axis options.
pub struct Chart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    /// Logarithmic x axis (input sizes 10, 100, 1000).
    pub log_x: bool,
    /// Fixed y range, e.g. `(0.0, 1.0)` for accuracies; else from the data.
    pub y_range: Option<(f64, f64)>,
}

const W: f64 = 640.0;
const H: f64 = 400.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 150.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;
const COLOURS: [&str; 6] = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

/// Renders the chart as a standalone SVG document.
pub fn svg(chart: &Chart, series: &[Series]) -> String {
    let tx = |x: f64| if chart.log_x { x.max(1e-12).log10() } else { x };
    let all: Vec<(f64, f64)> =
        series.iter().flat_map(|s| s.points.iter().copied()).filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
    let (mut x0, mut x1) = all.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &(x, _)| (a.min(tx(x)), b.max(tx(x))));
    let (mut y0, mut y1) = chart
        .y_range
        .unwrap_or_else(|| all.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &(_, y)| (a.min(y), b.max(y))));
    if !x0.is_finite() {
        (x0, x1) = (0.0, 1.0);
    }
    if !y0.is_finite() {
        (y0, y1) = (0.0, 1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if y1 <= y0 {
        y1 = y0 + 1.0;
    }
    let px = |x: f64| LEFT + (tx(x) - x0) / (x1 - x0) * (W - LEFT - RIGHT);
    let py = |y: f64| H - BOTTOM - (y - y0) / (y1 - y0) * (H - TOP - BOTTOM);

    let mut s = String::new();
    let _ = writeln!(s, r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">"#);
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(s, r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#, W / 2.0, esc(chart.title));
    // Axes and ticks.
    let (ax0, ax1, ay0, ay1) = (LEFT, W - RIGHT, TOP, H - BOTTOM);
    let _ = writeln!(s, r#"<path d="M{ax0},{ay0} V{ay1} H{ax1}" stroke="black" fill="none"/>"#);
    for i in 0..=4 {
        let v = y0 + (y1 - y0) * i as f64 / 4.0;
        let y = py(v);
        let _ = writeln!(s, r##"<line x1="{ax0}" y1="{y:.1}" x2="{ax1}" y2="{y:.1}" stroke="#ddd"/>"##);
        let _ = writeln!(s, r#"<text x="{}" y="{:.1}" text-anchor="end">{}</text>"#, ax0 - 6.0, y + 4.0, fmt_num(v));
    }
    for i in 0..=4 {
        let t = x0 + (x1 - x0) * i as f64 / 4.0;
        let v = if chart.log_x { 10f64.powf(t) } else { t };
        let x = px(v);
        let _ = writeln!(s, r#"<text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"#, ay1 + 18.0, fmt_num(v));
    }
    let _ = writeln!(s, r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#, (ax0 + ax1) / 2.0, H - 10.0, esc(chart.x_label));
    let _ = writeln!(
        s,
        r#"<text x="16" y="{}" text-anchor="middle" transform="rotate(-90 16 {})">{}</text>"#,
        (ay0 + ay1) / 2.0,
        (ay0 + ay1) / 2.0,
        esc(chart.y_label)
    );
    // Lines and legend.
    for (i, ser) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let pts: Vec<String> = ser
            .points
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y.clamp(y0, y1))))
            .collect();
        if pts.len() == 1 {
            let _ = writeln!(s, r#"<circle cx="{}" cy="{}" r="3" fill="{colour}"/>"#, pts[0].split(',').next().unwrap(), pts[0].split(',').nth(1).unwrap());
        } else if !pts.is_empty() {
            let _ = writeln!(s, r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="1.5"/>"#, pts.join(" "));
        }
        if chart.log_x {
            for p in &pts {
                let mut it = p.split(',');
                let _ = writeln!(s, r#"<circle cx="{}" cy="{}" r="3" fill="{colour}"/>"#, it.next().unwrap(), it.next().unwrap());
            }
        }
        let ly = TOP + 10.0 + 18.0 * i as f64;
        let _ = writeln!(s, r#"<line x1="{}" y1="{ly}" x2="{}" y2="{ly}" stroke="{colour}" stroke-width="2"/>"#, W - RIGHT + 12.0, W - RIGHT + 32.0);
        let _ = writeln!(s, r#"<text x="{}" y="{}">{}</text>"#, W - RIGHT + 38.0, ly + 4.0, esc(ser.name));
    }
    s.push_str("</svg>\n");
    s
}

fn fmt_num(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 1000.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_deterministic_svg() {
        let chart = Chart { title: "accuracy", x_label: "size", y_label: "exact", log_x: true, y_range: Some((0.0, 1.0)) };
        let series = [Series { name: "npi", points: vec![(10.0, 1.0), (100.0, 0.5), (1000.0, 0.0)] }];
        let a = svg(&chart, &series);
        assert_eq!(a, svg(&chart, &series));
        assert!(a.starts_with("<svg"));
        assert!(a.contains("<polyline"));
        assert!(a.trim_end().ends_with("</svg>"));
    }
}

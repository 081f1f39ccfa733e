//! Tests of the plots: every chart a run writes, rendered from synthetic
//! data (a learned task's history, and the degenerate cases: one point, a
//! constant series, zeros and negatives on a log axis, NaN and infinities,
//! empty series, no series), must be well-formed SVG with everything inside
//! its view box by the generous text-width estimate, and round tick labels.

use super::charts;
use super::plot::{self, text_width, Chart, Scale, Series, FONT};
use synth_runtime::npi::{EvalReport, SizeReport, SizeScore, ValidationReport};

/// Advance widths of DejaVu Sans (the widest common sans-serif, what most
/// Linux viewers use) in ems, for printable ASCII from `' '` to `'~'`.
/// (Measured widths: a 0.318 is a glyph's, not an approximation of 1/pi.)
#[allow(clippy::approx_constant)]
const DEJAVU_SANS: [f64; 95] = [
    0.318, 0.401, 0.460, 0.838, 0.636, 0.950, 0.780, 0.275, 0.390, 0.390, 0.500, 0.838, 0.318, 0.361, 0.318, 0.337, // ' '..'/'
    0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, // digits
    0.337, 0.337, 0.838, 0.838, 0.838, 0.531, 1.000, // ':'..'@'
    0.684, 0.686, 0.698, 0.770, 0.632, 0.575, 0.775, 0.752, 0.295, 0.295, 0.656, 0.557, 0.863, 0.748, 0.787, 0.603, 0.787, 0.695, 0.635,
    0.611, 0.732, 0.684, 0.989, 0.685, 0.611, 0.685, // 'A'..'Z'
    0.390, 0.337, 0.390, 0.838, 0.500, 0.500, // '['..'`'
    0.613, 0.635, 0.550, 0.635, 0.615, 0.352, 0.635, 0.634, 0.278, 0.278, 0.579, 0.278, 0.974, 0.634, 0.612, 0.635, 0.635, 0.411, 0.521,
    0.392, 0.634, 0.592, 0.818, 0.592, 0.592, 0.525, // 'a'..'z'
    0.636, 0.337, 0.636, 0.838, // '{'..'~'
];

#[test]
fn text_width_is_an_upper_bound_for_dejavu_sans() {
    for (i, &em) in DEJAVU_SANS.iter().enumerate() {
        let c = char::from(b' ' + i as u8);
        assert!(text_width(&c.to_string(), 10.0) >= 10.0 * em, "`{c}`: estimated {} < {}", text_width(&c.to_string(), 10.0), 10.0 * em);
    }
}

/// A rectangle `(x0, y0, x1, y1)`.
type BoxXY = (f64, f64, f64, f64);

fn num(node: roxmltree::Node, attr: &str) -> f64 {
    node.attribute(attr).unwrap_or("0").parse().unwrap_or_else(|_| panic!("`{attr}` of <{}> is not a number", node.tag_name().name()))
}

/// Parses `svg` and checks it: XML, a view box, every shape and every text
/// (by [`text_width`], with ascent and descent) inside it; returns the tick
/// labels of the x and y axes.
fn check_well_formed(svg: &str) -> (Vec<String>, Vec<String>) {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not XML: {e}\n{svg}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    let vb: Vec<f64> = root.attribute("viewBox").expect("a viewBox").split(' ').map(|v| v.parse().unwrap()).collect();
    let (w, h) = (vb[2], vb[3]);
    assert_eq!((vb[0], vb[1]), (0.0, 0.0));
    assert_eq!(num(root, "width"), w);
    assert_eq!(num(root, "height"), h);
    let inside = |b: BoxXY, what: &str| {
        assert!(b.0.is_finite() && b.1.is_finite() && b.2.is_finite() && b.3.is_finite(), "{what}: not finite {b:?}\n{svg}");
        assert!(b.0 >= 0.0 && b.1 >= 0.0 && b.2 <= w && b.3 <= h, "{what} {b:?} leaves the view box {w}x{h}\n{svg}");
    };
    let (mut xt, mut yt) = (Vec::new(), Vec::new());
    for node in root.descendants().filter(|n| n.is_element()) {
        let name = node.tag_name().name();
        match name {
            "svg" => {}
            "rect" => inside((num(node, "x"), num(node, "y"), num(node, "x") + num(node, "width"), num(node, "y") + num(node, "height")), "rect"),
            "line" => {
                let (x1, y1, x2, y2) = (num(node, "x1"), num(node, "y1"), num(node, "x2"), num(node, "y2"));
                inside((x1.min(x2), y1.min(y2), x1.max(x2), y1.max(y2)), "line");
            }
            "circle" => {
                let (x, y, r) = (num(node, "cx"), num(node, "cy"), num(node, "r"));
                inside((x - r, y - r, x + r, y + r), "circle");
            }
            "polyline" => {
                for p in node.attribute("points").unwrap().split(' ') {
                    let (x, y) = p.split_once(',').unwrap();
                    let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
                    inside((x, y, x, y), "polyline point");
                }
            }
            "text" => {
                let text = node.text().unwrap_or("");
                assert!(!text.is_empty(), "empty text\n{svg}");
                let size = node.attribute("font-size").map_or(FONT, |s| s.parse().unwrap());
                let width = text_width(text, size);
                let (x, y) = (num(node, "x"), num(node, "y"));
                let start = match node.attribute("text-anchor").unwrap_or("start") {
                    "start" => 0.0,
                    "middle" => -width / 2.0,
                    "end" => -width,
                    a => panic!("anchor {a}"),
                };
                let (ascent, descent) = (0.95 * size, 0.25 * size);
                let b = match node.attribute("transform") {
                    None => (x + start, y - ascent, x + start + width, y + descent),
                    Some(t) => {
                        // Only the y label is turned: a quarter turn back
                        // about its own anchor.
                        assert_eq!(t, format!("rotate(-90 {} {})", node.attribute("x").unwrap(), node.attribute("y").unwrap()), "{svg}");
                        (x - ascent, y - start - width, x + descent, y - start)
                    }
                };
                inside(b, &format!("text `{text}`"));
                match node.attribute("class") {
                    Some("tick-x") => xt.push(text.to_string()),
                    Some("tick-y") => yt.push(text.to_string()),
                    _ => {}
                }
            }
            other => panic!("unexpected element <{other}>"),
        }
    }
    assert!(svg.ends_with("</svg>\n"));
    (xt, yt)
}

/// `v` is 1, 2 or 5 times a power of ten.
fn one_two_five(v: f64) -> bool {
    if v <= 0.0 {
        return false;
    }
    let m = v / 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().any(|r| (m - r).abs() < 1e-6)
}

/// Tick labels are round: every one 1, 2 or 5 times a power of ten (a log
/// axis), or equally spaced by such a step with every one a multiple of it
/// (a linear axis); the labels are the values as written, with no noise
/// digits.
fn check_round(labels: &[String], what: &str) {
    assert!(labels.len() >= 2, "{what}: fewer than two ticks: {labels:?}");
    let values: Vec<f64> = labels.iter().map(|l| l.parse().unwrap_or_else(|_| panic!("{what}: tick `{l}` is not a number"))).collect();
    assert!(values.windows(2).all(|w| w[0] < w[1]), "{what}: ticks not increasing: {labels:?}");
    if values.iter().all(|&v| one_two_five(v)) {
        return;
    }
    let step = values[1] - values[0];
    assert!(one_two_five(step), "{what}: step {step} of {labels:?}");
    // No more decimals than the step has (no `53.18` on a step of 10).
    let places = (-step.log10().floor()).max(0.0) as usize;
    for l in labels {
        let decimals = l.split_once('.').map_or(0, |(_, d)| d.len());
        assert!(decimals <= places, "{what}: tick `{l}` has noise digits for a step of {step}: {labels:?}");
    }
    for (i, v) in values.iter().enumerate() {
        assert!((v - values[0] - i as f64 * step).abs() < 1e-9 * step.max(1.0), "{what}: uneven ticks {labels:?}");
        assert!(((v / step) - (v / step).round()).abs() < 1e-6, "{what}: `{v}` is not a multiple of {step}: {labels:?}");
    }
}

fn check_chart(svg: &str, what: &str) -> (Vec<String>, Vec<String>) {
    let (x, y) = check_well_formed(svg);
    check_round(&x, &format!("{what}, x"));
    check_round(&y, &format!("{what}, y"));
    (x, y)
}

/// A loss that falls from 4.4 to 0.001 over 2000 steps, like `add`'s.
fn learned_loss() -> Vec<(f64, f64)> {
    (0..200).map(|i| (10.0 * i as f64, 4.4 * (-(i as f64) / 23.8).exp() + 0.0008)).collect()
}

fn validations() -> Vec<ValidationReport> {
    (1..=20)
        .map(|i| ValidationReport {
            step: 100 * i,
            scores: [4, 10, 20].iter().map(|&size| SizeScore { size, count: 32, exact: (32 * i as usize / 20).saturating_sub(size / 4), task: None }).collect(),
            loss: 1.0 / i as f64,
            frame_accuracy: 1.0 - 1.0 / (i as f64 + 1.0),
            improved: i % 3 == 0,
        })
        .collect()
}

fn eval_report(sizes: &[usize]) -> EvalReport {
    EvalReport {
        task: "add".into(),
        learner: "npi".into(),
        results: sizes.iter().map(|&size| SizeReport { size, count: 32, exact: 30, accuracy: 30.0 / 32.0, mean_steps: 10.0 * size as f64 }).collect(),
    }
}

#[test]
fn the_loss_of_a_learned_task_is_on_a_log_axis_with_decade_ticks() {
    let (x, y) = check_chart(&charts::loss(&learned_loss()), "loss");
    assert_eq!(y, ["0.001", "0.01", "0.1", "1", "10"]);
    assert_eq!(x.first().map(String::as_str), Some("0"));
    assert_eq!(x.last().map(String::as_str), Some("2000"));
}

#[test]
fn a_loss_that_falls_little_stays_linear() {
    let losses: Vec<(f64, f64)> = (0..50).map(|i| (i as f64 * 10.0, 2.0 - i as f64 / 50.0)).collect();
    let (_, y) = check_chart(&charts::loss(&losses), "loss");
    assert_eq!(y, ["1.0", "1.2", "1.4", "1.6", "1.8", "2.0"]);
}

#[test]
fn the_validation_plot_keeps_its_legend_inside() {
    let svg = charts::validation(&validations(), 0);
    let (_, y) = check_chart(&svg, "validation");
    assert_eq!(y, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
    assert!(svg.contains(">frames right (teacher forced)</text>"));
    // Resumed: the steps go on from the checkpoint's.
    check_chart(&charts::validation(&validations(), 123_456), "validation, resumed");
}

#[test]
fn the_generalisation_plot_has_decade_ticks() {
    let (x, _) = check_chart(&charts::accuracy(&eval_report(&[20, 100, 1000])), "accuracy");
    assert_eq!(x, ["10", "100", "1000"]);
    let (x, _) = check_chart(&charts::accuracy(&eval_report(&[6])), "accuracy of one size");
    assert_eq!(x, ["1", "2", "5", "10"]);
    let (x, _) = check_chart(&charts::accuracy(&eval_report(&[20, 60])), "accuracy within a decade");
    assert_eq!(x, ["10", "20", "50", "100"]);
    check_chart(&charts::accuracy(&eval_report(&[1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000])), "many decades");
}

#[test]
fn degenerate_data_still_makes_a_well_formed_plot() {
    let nan = f64::NAN;
    let inf = f64::INFINITY;
    let cases: Vec<(&str, Vec<(f64, f64)>)> = vec![
        ("one point", vec![(10.0, 0.5)]),
        ("one point at zero", vec![(0.0, 0.0)]),
        ("constant", (0..10).map(|i| (i as f64, 3.0)).collect()),
        ("constant zero", (0..10).map(|i| (i as f64, 0.0)).collect()),
        ("negative", (0..10).map(|i| (i as f64, -(i as f64) * 7.3)).collect()),
        ("zeros and positives", vec![(0.0, 0.0), (1.0, 1e-6), (2.0, 10.0)]),
        ("NaN and infinities", vec![(0.0, nan), (1.0, inf), (2.0, 1.0), (nan, 2.0), (-inf, 0.5), (3.0, -inf), (4.0, 0.25)]),
        ("only NaN", vec![(nan, nan), (1.0, nan)]),
        ("empty", vec![]),
        ("huge", vec![(0.0, 1e12), (1e9, 3e15)]),
        ("tiny", vec![(0.0, 1e-12), (1.0, 3e-12)]),
        ("a hair apart", vec![(0.0, 0.5), (1.0, 0.5000001)]),
    ];
    for (what, points) in &cases {
        check_well_formed(&charts::loss(points));
        for scale in [Scale::Linear, Scale::Log, Scale::Auto] {
            let chart = Chart { title: what, x_label: "x", y_label: "y", x_scale: scale, y_scale: scale, y_range: None };
            let series = [Series { name: "a", points: points.clone() }, Series { name: "nothing", points: vec![] }];
            let (x, y) = check_well_formed(&plot::svg(&chart, &series));
            check_round(&x, &format!("{what} {scale:?} x"));
            check_round(&y, &format!("{what} {scale:?} y"));
        }
    }
    // No series at all, and no validations or results yet.
    check_chart(&plot::svg(&Chart { title: "t", x_label: "x", y_label: "y", x_scale: Scale::Auto, y_scale: Scale::Auto, y_range: None }, &[]), "no series");
    check_chart(&charts::validation(&[], 0), "no validations");
    check_chart(&charts::accuracy(&eval_report(&[])), "no results");
    check_chart(&charts::loss(&[]), "no losses");
}

#[test]
fn long_names_widen_the_canvas_instead_of_being_cut() {
    let long = "a very long series name that would not fit beside a 640 pixel chart, WWWWMMMM";
    let title = "a title even longer than the plotting area is wide, so that the canvas must grow to hold it";
    let chart = Chart { title, x_label: long, y_label: long, x_scale: Scale::Linear, y_scale: Scale::Linear, y_range: Some((0.0, 1.0)) };
    let svg = plot::svg(&chart, &[Series { name: long, points: vec![(0.0, 0.0), (1e7, 1.0)] }]);
    check_chart(&svg, "long names");
}

#[test]
fn plots_are_deterministic() {
    assert_eq!(charts::loss(&learned_loss()), charts::loss(&learned_loss()));
    assert_eq!(charts::validation(&validations(), 0), charts::validation(&validations(), 0));
}

/// `SYNTH_PLOT_DIR=/tmp/plots cargo test -p synth --bin synth plot_tests`
/// also writes the synthetic plots there, to look at them as a user would
/// (`rsvg-convert -b white loss.svg -o loss.png`).
#[test]
fn writes_the_plots_for_a_look_when_asked() {
    let Ok(dir) = std::env::var("SYNTH_PLOT_DIR") else { return };
    let dir = std::path::Path::new(&dir);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("loss.svg"), charts::loss(&learned_loss())).unwrap();
    std::fs::write(dir.join("validation.svg"), charts::validation(&validations(), 0)).unwrap();
    std::fs::write(dir.join("accuracy.svg"), charts::accuracy(&eval_report(&[20, 100, 1000]))).unwrap();
    let nan = [(0.0, f64::NAN), (1.0, 0.0), (2.0, -1.0), (3.0, 2.0)];
    std::fs::write(dir.join("degenerate.svg"), plot::svg(&Chart { title: "zeros, negatives and NaN on a log axis", x_label: "x", y_label: "y", x_scale: Scale::Linear, y_scale: Scale::Log, y_range: None }, &[Series { name: "a", points: nan.to_vec() }, Series { name: "nothing", points: vec![] }])).unwrap();
}

//! The token chart as a self-contained SVG (no fonts or scripts fetched), drawn from the rows
//! of the token benchmark so it can be regenerated, never edited by hand.

use std::fmt::Write as _;

use super::tokens::{Scenario, TokenRow, thousands};

const WIDTH: f64 = 980.0;
const HEIGHT: f64 = 460.0;
const PANEL_WIDTH: f64 = 380.0;
const PANEL_HEIGHT: f64 = 300.0;
const TOP: f64 = 70.0;
const LEFTS: [f64; 2] = [90.0, 560.0];

/// Colours per scenario (colour-blind safe, Okabe–Ito).
fn colour(scenario: Scenario) -> &'static str {
    match scenario {
        Scenario::Seed => "#0072B2",
        Scenario::MultiStep => "#D55E00",
        Scenario::FanOut => "#009E73",
        Scenario::Retry => "#CC79A7",
        Scenario::Explore => "#E69F00",
    }
}

/// One plotted point: x (apps or clients) and the two totals.
struct Point {
    x: usize,
    classic: usize,
    code_mode: usize,
}

/// The table of the token benchmark as an SVG chart: two log–log panels, total tokens against
/// synthetic apps (at one client count) and against clients (at one app count); solid lines
/// classic, dashed code mode.
pub fn render_tokens_svg(rows: &[TokenRow]) -> String {
    let fixed_clients = pick_middle(rows.iter().map(|row| row.clients));
    let fixed_apps = rows.iter().map(|row| row.apps).min().unwrap_or(0);
    let panels = [
        (
            format!("vs. synthetic apps ({} clients)", thousands(fixed_clients)),
            "synthetic apps (+ 8 sample apps)",
            series(rows, |row| {
                (row.clients == fixed_clients).then_some(row.apps)
            }),
        ),
        (
            format!("vs. CRM clients ({} synthetic apps)", thousands(fixed_apps)),
            "CRM clients",
            series(rows, |row| (row.apps == fixed_apps).then_some(row.clients)),
        ),
    ];
    let values = panels.iter().flat_map(|(_, _, series)| {
        series
            .iter()
            .flat_map(|(_, points)| points.iter().flat_map(|p| [p.classic, p.code_mode]))
    });
    let (low, high) = decades(values);

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        svg,
        r##"<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>"##
    );
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="28" font-size="16" text-anchor="middle">Tokens per task (Σ input + output, o200k_base, log scale): classic tool calling vs. code mode</text>"#,
        WIDTH / 2.0
    );
    for ((title, axis, series), left) in panels.iter().zip(LEFTS) {
        panel(&mut svg, left, title, axis, series, low, high);
    }
    legend(&mut svg);
    svg.push_str("</svg>\n");
    svg
}

type Series = Vec<(Scenario, Vec<Point>)>;

fn series(rows: &[TokenRow], x_of: impl Fn(&TokenRow) -> Option<usize>) -> Series {
    let mut out: Series = Vec::new();
    for scenario in Scenario::ALL {
        let mut points: Vec<Point> = rows
            .iter()
            .filter(|row| row.comparison.scenario == scenario)
            .filter_map(|row| {
                x_of(row).map(|x| Point {
                    x,
                    classic: row.comparison.o200k.classic.total(),
                    code_mode: row.comparison.o200k.code_mode.total(),
                })
            })
            .collect();
        points.sort_by_key(|point| point.x);
        if !points.is_empty() {
            out.push((scenario, points));
        }
    }
    out
}

fn pick_middle(values: impl Iterator<Item = usize>) -> usize {
    let mut values: Vec<usize> = values.collect();
    values.sort_unstable();
    values.dedup();
    values.get(values.len() / 2).copied().unwrap_or(0)
}

/// The powers of ten around every value (at least one decade).
fn decades(values: impl Iterator<Item = usize>) -> (i32, i32) {
    let mut low = i32::MAX;
    let mut high = i32::MIN;
    for value in values {
        let exponent = log10(value.max(1));
        #[expect(
            clippy::cast_possible_truncation,
            reason = "the log10 of a usize is below 20"
        )]
        let (floor, ceil) = (exponent.floor() as i32, exponent.ceil() as i32);
        low = low.min(floor);
        high = high.max(ceil);
    }
    if low > high {
        return (0, 1);
    }
    (low, high.max(low + 1))
}

#[expect(
    clippy::cast_precision_loss,
    reason = "token counts and sizes are far below 2^52"
)]
fn log10(value: usize) -> f64 {
    (value as f64).log10()
}

fn panel(
    svg: &mut String,
    left: f64,
    title: &str,
    axis: &str,
    series: &Series,
    low: i32,
    high: i32,
) {
    let bottom = TOP + PANEL_HEIGHT;
    let xs: Vec<usize> = {
        let mut xs: Vec<usize> = series
            .iter()
            .flat_map(|(_, points)| points.iter().map(|p| p.x))
            .collect();
        xs.sort_unstable();
        xs.dedup();
        xs
    };
    let (x_low, x_high) = match (xs.first(), xs.last()) {
        (Some(&first), Some(&last)) if last > first => (log10(first), log10(last)),
        (Some(&first), _) => (log10(first) - 0.5, log10(first) + 0.5),
        _ => (0.0, 1.0),
    };
    let x_at =
        |x: usize| left + 20.0 + (log10(x) - x_low) / (x_high - x_low) * (PANEL_WIDTH - 40.0);
    let y_at = |y: usize| {
        bottom - (log10(y.max(1)) - f64::from(low)) / f64::from(high - low) * PANEL_HEIGHT
    };
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" font-size="13" text-anchor="middle">{title}</text>"#,
        left + PANEL_WIDTH / 2.0,
        TOP - 12.0
    );
    let _ = writeln!(
        svg,
        r##"<rect x="{left}" y="{TOP}" width="{PANEL_WIDTH}" height="{PANEL_HEIGHT}" fill="none" stroke="#888"/>"##
    );
    for exponent in low..=high {
        let y = bottom - f64::from(exponent - low) / f64::from(high - low) * PANEL_HEIGHT;
        let _ = writeln!(
            svg,
            r##"<line x1="{left}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#e4e4e4"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            left + PANEL_WIDTH,
            left - 6.0,
            y + 4.0,
            power_label(exponent)
        );
    }
    for &x in &xs {
        let px = x_at(x);
        let _ = writeln!(
            svg,
            r##"<line x1="{px:.1}" y1="{TOP}" x2="{px:.1}" y2="{bottom}" stroke="#f0f0f0"/><text x="{px:.1}" y="{}" text-anchor="middle">{}</text>"##,
            bottom + 16.0,
            thousands(x)
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">{axis}</text>"#,
        left + PANEL_WIDTH / 2.0,
        bottom + 34.0
    );
    for (scenario, points) in series {
        for (dash, value) in [
            ("", (|p: &Point| p.classic) as fn(&Point) -> usize),
            (r#" stroke-dasharray="6 4""#, |p: &Point| p.code_mode),
        ] {
            let path: Vec<String> = points
                .iter()
                .map(|p| format!("{:.1},{:.1}", x_at(p.x), y_at(value(p))))
                .collect();
            let _ = writeln!(
                svg,
                r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"{dash}/>"#,
                path.join(" "),
                colour(*scenario)
            );
            for p in points {
                let _ = writeln!(
                    svg,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"><title>{} {}: {} tokens</title></circle>"#,
                    x_at(p.x),
                    y_at(value(p)),
                    colour(*scenario),
                    scenario.label(),
                    if dash.is_empty() {
                        "classic"
                    } else {
                        "code mode"
                    },
                    thousands(value(p))
                );
            }
        }
    }
}

fn power_label(exponent: i32) -> String {
    match exponent {
        0 => "1".to_owned(),
        1 => "10".to_owned(),
        2 => "100".to_owned(),
        3 => "1k".to_owned(),
        4 => "10k".to_owned(),
        5 => "100k".to_owned(),
        6 => "1M".to_owned(),
        7 => "10M".to_owned(),
        8 => "100M".to_owned(),
        9 => "1G".to_owned(),
        other => format!("1e{other}"),
    }
}

fn legend(svg: &mut String) {
    let y = TOP + PANEL_HEIGHT + 60.0;
    let mut x = LEFTS[0];
    for scenario in Scenario::ALL {
        let _ = writeln!(
            svg,
            r#"<rect x="{x}" y="{}" width="14" height="4" fill="{}"/><text x="{}" y="{}">{}</text>"#,
            y - 4.0,
            colour(scenario),
            x + 20.0,
            y + 1.0,
            scenario.label()
        );
        x += 110.0;
    }
    let _ = writeln!(
        svg,
        r##"<line x1="{x}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#333" stroke-width="2"/><text x="{tx}" y="{ty}">classic tool calling</text>"##,
        y0 = y - 2.0,
        x1 = x + 28.0,
        tx = x + 34.0,
        ty = y + 1.0,
    );
    x += 170.0;
    let _ = writeln!(
        svg,
        r##"<line x1="{x}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#333" stroke-width="2" stroke-dasharray="6 4"/><text x="{tx}" y="{ty}">code mode</text>"##,
        y0 = y - 2.0,
        x1 = x + 28.0,
        tx = x + 34.0,
        ty = y + 1.0,
    );
}

//! Plain SVG line charts (no plotting dependency): latency CDFs and sweep curves.

use std::fmt::Write as _;

/// One line: its name and points.
pub type Series = (String, Vec<(f64, f64)>);

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 320.0;
const MARGIN: (f64, f64, f64, f64) = (60.0, 20.0, 40.0, 50.0); // left, right, top, bottom
const COLOURS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];

/// A chart panel.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Title above the plot.
    pub title: String,
    /// X axis label.
    pub x_label: String,
    /// Y axis label.
    pub y_label: String,
    /// Logarithmic x axis.
    pub log_x: bool,
    /// The lines.
    pub series: Vec<Series>,
}

impl Chart {
    /// The empirical CDF of each set of values (ms), on a log x axis.
    pub fn cdf(title: &str, sets: &[(String, Vec<f64>)]) -> Self {
        let series = sets
            .iter()
            .map(|(name, values)| {
                let mut v: Vec<f64> = values.iter().copied().filter(|x| *x > 0.0).collect();
                v.sort_by(f64::total_cmp);
                let n = v.len() as f64;
                let points = v
                    .iter()
                    .enumerate()
                    .map(|(i, x)| (*x, (i + 1) as f64 / n))
                    .collect();
                (name.clone(), points)
            })
            .collect();
        Self {
            title: title.to_owned(),
            x_label: "latency (ms, log scale)".to_owned(),
            y_label: "fraction of turns".to_owned(),
            log_x: true,
            series,
        }
    }
}

/// Renders `charts` stacked vertically as one SVG document.
pub fn render(charts: &[Chart]) -> String {
    let total = HEIGHT * charts.len().max(1) as f64;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{total}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    for (i, chart) in charts.iter().enumerate() {
        let _ = writeln!(out, r#"<g transform="translate(0,{})">"#, i as f64 * HEIGHT);
        panel(&mut out, chart);
        out.push_str("</g>\n");
    }
    out.push_str("</svg>\n");
    out
}

fn panel(out: &mut String, chart: &Chart) {
    let (left, right, top, bottom) = MARGIN;
    let (w, h) = (WIDTH - left - right, HEIGHT - top - bottom);
    let tx = |x: f64| if chart.log_x { x.max(1e-3).log10() } else { x };
    let points: Vec<(f64, f64)> = chart
        .series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|&(x, y)| (tx(x), y)))
        .collect();
    let (mut x0, mut x1) = bounds(points.iter().map(|p| p.0));
    let (_, mut y1) = bounds(points.iter().map(|p| p.1));
    let y0 = 0.0;
    if chart.log_x {
        (x0, x1) = (x0.floor(), x1.ceil());
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if y1 <= y0 {
        y1 = 1.0;
    }
    y1 *= if chart.log_x { 1.0 } else { 1.1 };
    let px = |x: f64| left + (tx(x) - x0) / (x1 - x0) * w;
    let py = |y: f64| top + h - (y - y0) / (y1 - y0) * h;
    let _ = writeln!(
        out,
        r#"<text x="{}" y="18" text-anchor="middle" font-size="14">{}</text>"#,
        WIDTH / 2.0,
        escape(&chart.title)
    );
    let _ = writeln!(
        out,
        r##"<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#444"/>"##
    );
    // Ticks: decades on a log axis, five steps otherwise.
    let xticks: Vec<f64> = if chart.log_x {
        (x0 as i32..=x1 as i32).map(|e| 10f64.powi(e)).collect()
    } else {
        (0..=5)
            .map(|i| x0 + (x1 - x0) * f64::from(i) / 5.0)
            .collect()
    };
    for x in xticks {
        let xp = if chart.log_x {
            px(x)
        } else {
            left + (x - x0) / (x1 - x0) * w
        };
        let _ = writeln!(
            out,
            r##"<line x1="{xp:.1}" y1="{top}" x2="{xp:.1}" y2="{}" stroke="#ddd"/><text x="{xp:.1}" y="{}" text-anchor="middle">{}</text>"##,
            top + h,
            top + h + 15.0,
            number(x)
        );
    }
    for i in 0..=4 {
        let y = y0 + (y1 - y0) * f64::from(i) / 4.0;
        let yp = py(y);
        let _ = writeln!(
            out,
            r##"<line x1="{left}" y1="{yp:.1}" x2="{}" y2="{yp:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            left + w,
            left - 5.0,
            yp + 4.0,
            number(y)
        );
    }
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        left + w / 2.0,
        HEIGHT - 12.0,
        escape(&chart.x_label)
    );
    let _ = writeln!(
        out,
        r#"<text x="14" y="{}" text-anchor="middle" transform="rotate(-90 14 {})">{}</text>"#,
        top + h / 2.0,
        top + h / 2.0,
        escape(&chart.y_label)
    );
    for (i, (name, pts)) in chart.series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let path: Vec<String> = pts
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
            .collect();
        let _ = writeln!(
            out,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
            path.join(" ")
        );
        if pts.len() < 30 {
            for &(x, y) in pts {
                let _ = writeln!(
                    out,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"/>"#,
                    px(x),
                    py(y)
                );
            }
        }
        let ly = top + 16.0 + 16.0 * i as f64;
        let _ = writeln!(
            out,
            r#"<rect x="{}" y="{}" width="12" height="4" fill="{colour}"/><text x="{}" y="{}">{}</text>"#,
            left + 10.0,
            ly - 4.0,
            left + 28.0,
            ly,
            escape(name)
        );
    }
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo.is_finite() && hi.is_finite() {
        (lo, hi)
    } else {
        (0.0, 1.0)
    }
}

fn number(x: f64) -> String {
    if x.abs() >= 100.0 || x == x.trunc() {
        format!("{x:.0}")
    } else if x.abs() >= 1.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_cdf_and_a_line_chart() {
        let cdf = Chart::cdf(
            "voice to voice",
            &[("voxgate <fixed>".to_owned(), vec![310.0, 320.0, 400.0])],
        );
        assert_eq!(cdf.series[0].1.last(), Some(&(400.0, 1.0)));
        let sweep = Chart {
            title: "CPU".into(),
            x_label: "calls".into(),
            y_label: "%".into(),
            log_x: false,
            series: vec![("voxgate".into(), vec![(50.0, 10.0), (100.0, 21.0)])],
        };
        let svg = render(&[cdf, sweep]);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("voxgate &lt;fixed&gt;"));
        // An empty chart still renders.
        assert!(render(&[Chart::cdf("none", &[])]).contains("</svg>"));
    }
}

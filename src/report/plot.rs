//! Line plots of time series, drawn once through [`Canvas`] into SVG; the PNG beside it is
//! that SVG rasterised (`super::raster`).

use std::fmt::Write;

use super::RunData;

/// An sRGB colour.
pub type Rgb = [u8; 3];

/// Okabe & Ito's colour-blind-safe palette (Okabe M, Ito K, "Color Universal Design",
/// 2008), black last.
pub const PALETTE: [Rgb; 8] = [
    [0, 114, 178],
    [213, 94, 0],
    [0, 158, 115],
    [204, 121, 167],
    [230, 159, 0],
    [86, 180, 233],
    [240, 228, 66],
    [0, 0, 0],
];

/// Where text sits relative to its x coordinate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// x is the left edge.
    Start,
    /// x is the centre.
    Middle,
    /// x is the right edge.
    End,
}

/// What a plot draws on.
pub trait Canvas {
    /// A filled rectangle.
    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: Rgb);
    /// A polyline.
    fn polyline(&mut self, pts: &[(f64, f64)], stroke: Rgb, width: f64);
    /// Text with its baseline at `y`.
    fn text(&mut self, x: f64, y: f64, s: &str, size: f64, anchor: Anchor, color: Rgb);
}

/// One line.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// x values (days).
    pub x: Vec<f64>,
    /// y values.
    pub y: Vec<f64>,
    /// Colour.
    pub color: Rgb,
}

/// A time-series plot.
#[derive(Debug, Clone)]
pub struct Plot {
    /// Title.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// The lines.
    pub series: Vec<Series>,
    /// Event marks on the time axis (dose times), in their series' colour.
    pub marks: Vec<(f64, Rgb)>,
    /// Logarithmic y axis.
    pub log_y: bool,
}

/// Canvas size, px.
const W: f64 = 1000.0;
const H: f64 = 440.0;
/// Plot area.
const LEFT: f64 = 90.0;
const RIGHT: f64 = 620.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 380.0;
const GREY: Rgb = [200, 200, 200];
const INK: Rgb = [40, 40, 40];

impl Plot {
    /// One line per run of column `col` (times `scale`) against time in days; dose times
    /// marked. The y axis is logarithmic when the positive values span more than three
    /// decades.
    pub fn from_runs(runs: &[RunData], title: &str, y_label: &str, col: &str, scale: f64) -> Plot {
        let mut series = Vec::new();
        let mut marks = Vec::new();
        for (i, r) in runs.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            if let Some(y) = r.column(col) {
                series.push(Series {
                    label: r.label.clone(),
                    x: r.days().to_vec(),
                    y: y.iter().map(|v| v * scale).collect(),
                    color,
                });
            }
            marks.extend(r.doses.iter().map(|(t, _)| (*t, color)));
        }
        let pos: Vec<f64> = series
            .iter()
            .flat_map(|s| s.y.iter().copied())
            .filter(|v| v.is_finite() && *v > 0.0)
            .collect();
        let (lo, hi) = pos
            .iter()
            .fold((f64::INFINITY, 0f64), |(a, b), &v| (a.min(v), b.max(v)));
        Plot {
            title: title.into(),
            x_label: "time (days)".into(),
            y_label: y_label.into(),
            series,
            marks,
            log_y: !pos.is_empty() && hi / lo > 1e3,
        }
    }

    /// The plot as a standalone SVG document.
    pub fn svg(&self) -> String {
        let mut c = Svg::default();
        self.draw(&mut c);
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\">\n{}</svg>\n",
            c.body
        )
    }

    /// The plot as a PNG file: its SVG rasterised, real text included.
    pub fn png(&self) -> crate::Result<Vec<u8>> {
        super::raster::svg_to_png(&self.svg())
    }

    /// Draws the plot.
    pub fn draw(&self, c: &mut dyn Canvas) {
        c.rect(0.0, 0.0, W, H, [255, 255, 255]);
        c.text(LEFT, 22.0, &self.title, 18.0, Anchor::Start, INK);
        c.text(LEFT, TOP - 10.0, &self.y_label, 13.0, Anchor::Start, INK);
        c.text(
            (LEFT + RIGHT) / 2.0,
            H - 18.0,
            &self.x_label,
            13.0,
            Anchor::Middle,
            INK,
        );
        let xs = || self.series.iter().flat_map(|s| s.x.iter().copied());
        let (x0, x1) = range(xs());
        let (x0, x1) = if x1 > x0 { (x0, x1) } else { (x0, x0 + 1.0) };
        let ys: Vec<f64> = self
            .series
            .iter()
            .flat_map(|s| s.y.iter().copied())
            .filter(|v| v.is_finite() && (!self.log_y || *v > 0.0))
            .map(|v| if self.log_y { v.log10() } else { v })
            .collect();
        let (mut y0, mut y1) = range(ys.iter().copied());
        if !(y0.is_finite() && y1.is_finite()) {
            (y0, y1) = (0.0, 1.0);
        }
        let (y0, y1, yticks) = if self.log_y {
            let (a, b) = (y0.floor(), y1.ceil().max(y0.floor() + 1.0));
            let ticks: Vec<f64> = (a as i32..=b as i32).map(f64::from).collect();
            (a, b, ticks)
        } else {
            let (a, b) = if y1 > y0 {
                (y0.min(0.0).min(y0), y1)
            } else {
                (y0 - 0.5 * y0.abs().max(1.0), y1 + 0.5 * y1.abs().max(1.0))
            };
            let a = if y0 >= 0.0 && y0 < 0.3 * y1 { 0.0 } else { a };
            nice_ticks(a, b)
        };
        let (_, _, xticks) = nice_ticks(x0, x1);
        let px = |x: f64| LEFT + (x - x0) / (x1 - x0) * (RIGHT - LEFT);
        let py = |y: f64| BOTTOM - (y - y0) / (y1 - y0) * (BOTTOM - TOP);
        for &t in xticks
            .iter()
            .filter(|t| **t >= x0 - 1e-9 && **t <= x1 + 1e-9)
        {
            c.polyline(&[(px(t), TOP), (px(t), BOTTOM)], GREY, 1.0);
            c.text(
                px(t),
                BOTTOM + 18.0,
                &tick_label(t),
                12.0,
                Anchor::Middle,
                INK,
            );
        }
        for &t in yticks
            .iter()
            .filter(|t| **t >= y0 - 1e-9 && **t <= y1 + 1e-9)
        {
            c.polyline(&[(LEFT, py(t)), (RIGHT, py(t))], GREY, 1.0);
            let label = if self.log_y {
                format!("1e{}", t as i32)
            } else {
                tick_label(t)
            };
            c.text(LEFT - 6.0, py(t) + 4.0, &label, 12.0, Anchor::End, INK);
        }
        let frame = [
            (LEFT, TOP),
            (RIGHT, TOP),
            (RIGHT, BOTTOM),
            (LEFT, BOTTOM),
            (LEFT, TOP),
        ];
        c.polyline(&frame, INK, 1.0);
        for (t, color) in &self.marks {
            if *t >= x0 && *t <= x1 {
                let x = px(*t);
                c.polyline(&[(x, BOTTOM), (x, BOTTOM - 10.0)], *color, 2.0);
            }
        }
        for s in &self.series {
            // Breaks at values the axis cannot show (non-finite; zero or less on log).
            let mut run: Vec<(f64, f64)> = Vec::new();
            for (&x, &y) in s.x.iter().zip(&s.y) {
                let y = if self.log_y && y > 0.0 { y.log10() } else { y };
                if y.is_finite() && (!self.log_y || s.y.iter().any(|v| *v > 0.0)) {
                    run.push((px(x), py(y.clamp(y0, y1))));
                } else if !run.is_empty() {
                    c.polyline(&run, s.color, 2.0);
                    run.clear();
                }
            }
            if !run.is_empty() {
                c.polyline(&run, s.color, 2.0);
            }
        }
        for (i, s) in self.series.iter().enumerate() {
            let y = TOP + 10.0 + 22.0 * i as f64;
            if y > BOTTOM {
                break;
            }
            c.polyline(&[(RIGHT + 16.0, y), (RIGHT + 40.0, y)], s.color, 3.0);
            // 44 characters of 12 px text fit between the legend line and the canvas edge.
            let label: String = s.label.chars().take(44).collect();
            c.text(RIGHT + 46.0, y + 4.0, &label, 12.0, Anchor::Start, INK);
        }
        if !self.marks.is_empty() {
            let y = BOTTOM + 40.0;
            c.polyline(&[(RIGHT + 28.0, y), (RIGHT + 28.0, y - 10.0)], INK, 2.0);
            c.text(RIGHT + 46.0, y, "dose given", 12.0, Anchor::Start, INK);
        }
    }
}

/// Smallest and largest finite value.
fn range(v: impl Iterator<Item = f64>) -> (f64, f64) {
    v.filter(|x| x.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        })
}

/// Axis limits widened to round steps, and the ticks: about five, on 1, 2 or 5 times a
/// power of ten.
pub fn nice_ticks(lo: f64, hi: f64) -> (f64, f64, Vec<f64>) {
    let span = (hi - lo).max(f64::MIN_POSITIVE);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let a = (lo / step).floor() * step;
    let b = (hi / step).ceil() * step;
    let n = ((b - a) / step).round() as usize;
    let ticks = (0..=n).map(|i| a + i as f64 * step).collect();
    (a, b, ticks)
}

/// A tick value without float noise.
fn tick_label(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if (1e-3..1e5).contains(&a) {
        let s = format!("{v:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        let e = a.log10().floor();
        let m = v / 10f64.powf(e);
        let m = format!("{m:.2}");
        format!(
            "{}e{}",
            m.trim_end_matches('0').trim_end_matches('.'),
            e as i32
        )
    }
}

/// An SVG canvas.
#[derive(Default)]
struct Svg {
    body: String,
}

fn css(c: Rgb) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Canvas for Svg {
    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: Rgb) {
        writeln!(
            self.body,
            "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" fill=\"{}\"/>",
            css(fill)
        )
        .expect("string write");
    }

    fn polyline(&mut self, pts: &[(f64, f64)], stroke: Rgb, width: f64) {
        let points: Vec<String> = pts.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
        writeln!(
            self.body,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{width}\" stroke-linejoin=\"round\"/>",
            points.join(" "),
            css(stroke)
        )
        .expect("string write");
    }

    fn text(&mut self, x: f64, y: f64, s: &str, size: f64, anchor: Anchor, color: Rgb) {
        let anchor = match anchor {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        };
        writeln!(
            self.body,
            "<text x=\"{x}\" y=\"{y}\" font-size=\"{size}\" text-anchor=\"{anchor}\" fill=\"{}\">{}</text>",
            css(color),
            escape(s)
        )
        .expect("string write");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decoded RGBA pixels of a plot's PNG.
    fn pixels(p: &Plot) -> Vec<[u8; 4]> {
        let png = p.png().unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (W as u32, H as u32));
        buf.chunks(4).map(|c| [c[0], c[1], c[2], c[3]]).collect()
    }

    /// The PNG is the SVG's picture: the lower-case run names in the legend and the mm³ of
    /// the axis label are drawn as text where the SVG puts them. Renaming one run changes
    /// pixels only in its legend row.
    #[test]
    fn the_png_shows_the_svg_text_where_the_svg_puts_it() {
        let series = |label: &str, color| Series {
            label: label.into(),
            x: vec![0.0, 1.0, 2.0],
            y: vec![1.0, 2.0, 3.0],
            color,
        };
        let mut plot = Plot {
            title: "Tumour burden".into(),
            x_label: "time (days)".into(),
            y_label: "tumour volume (mm³)".into(),
            series: vec![
                series("breast-osteolytic", PALETTE[0]),
                series("breast-icb-denosumab", PALETTE[1]),
            ],
            marks: Vec::new(),
            log_y: false,
        };
        let a = pixels(&plot);
        let dark = |px: &[[u8; 4]], x0: f64, y0: f64, x1: f64, y1: f64| {
            let mut n = 0;
            for y in y0 as usize..y1 as usize {
                for x in x0 as usize..x1 as usize {
                    n += usize::from(px[y * W as usize + x][..3].iter().all(|&c| c < 120));
                }
            }
            n
        };
        // Legend rows at TOP + 10 + 22 i, text from RIGHT + 46.
        let row = |i: f64| (RIGHT + 46.0, TOP + 2.0 + 22.0 * i, W, TOP + 18.0 + 22.0 * i);
        let (x0, y0, x1, y1) = row(0.0);
        assert!(dark(&a, x0, y0, x1, y1) > 100, "first legend name drawn");
        let (x0, y0, x1, y1) = row(1.0);
        assert!(dark(&a, x0, y0, x1, y1) > 100, "second legend name drawn");
        assert!(
            dark(&a, LEFT, TOP - 24.0, LEFT + 200.0, TOP - 4.0) > 100,
            "y label drawn"
        );
        plot.series[1].label = "breast-icb-denosumab-renamed".into();
        let b = pixels(&plot);
        for (k, (p, q)) in a.iter().zip(&b).enumerate() {
            if p != q {
                let (x, y) = ((k % W as usize) as f64, (k / W as usize) as f64);
                assert!(
                    x >= x0 && y >= y0 && y < y1,
                    "({x}, {y}) changed outside the row"
                );
            }
        }
        assert_ne!(a, b);
        // The mm³ label is not the ASCII one.
        plot.y_label = "tumour volume (mm3)".into();
        assert_ne!(pixels(&plot), b);
    }

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        let (a, b, t) = nice_ticks(0.0, 28.0);
        assert_eq!((a, b), (0.0, 30.0));
        assert_eq!(t, vec![0.0, 10.0, 20.0, 30.0]);
        let (a, b, t) = nice_ticks(0.13, 0.151);
        assert!(a <= 0.13 && b >= 0.151 && t.len() >= 3, "{a} {b} {t:?}");
        assert_eq!(tick_label(0.30000000000000004), "0.3");
        assert_eq!(tick_label(2.5e9), "2.5e9");
    }
}

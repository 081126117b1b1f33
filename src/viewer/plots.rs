//! The viewer's live plots: tumour, BV/TV, CD8, plasma OPN and the drugs against simulated
//! days, in a strip under the 3D view.
//!
//! egui_plot's own grid puts marks at powers of ten and hides a label that does not fit,
//! which in a plot 200 points wide leaves the time axis with "0" alone. Here the labelled
//! ticks are chosen for the plot's size: steps of 1, 2 or 5 × 10^k at least
//! [`X_LABEL_PT`] (time) or [`Y_LABEL_PT`] (values) apart, with unlabelled minor lines between,
//! and no labelled tick so near an end of the axis that its label would stick out of the
//! frame into a neighbour's. The labels carry as many decimals as the step needs.

use egui::{Color32, RichText};
use egui_plot::{AxisHints, GridInput, GridMark, Line, Plot, PlotUi, VLine};

use super::session::{DrugChoice, Sample};
use crate::pharma::dose::DoseRecord;
use crate::report::plot::PALETTE;

/// Height of the plot strip, points.
pub const STRIP_HEIGHT: f32 = 190.0;

/// Least distance between labelled ticks on the time axis, points (a label such as "12.5"
/// is about 25 points wide in the body font).
pub const X_LABEL_PT: f64 = 32.0;

/// Least distance of a labelled time tick from an end of the axis, points (half a label).
const X_EDGE_PT: f64 = 13.0;

/// Least distance of a labelled value tick from an end of the axis, points (half a line).
const Y_EDGE_PT: f64 = 9.0;

/// Least distance between labelled ticks on a value axis, points (a line of body text is
/// about 16 points high).
pub const Y_LABEL_PT: f64 = 26.0;

/// Points per thinnest grid line that egui_plot's `base_step_size` is measured in.
const GRID_MIN_PT: f32 = 8.0;

/// The single-quantity plots: id, title with its unit, the quantity, its colour.
type Panel = (&'static str, &'static str, fn(&Sample) -> f64, [u8; 3]);

/// The four single-quantity plots of the strip.
pub const PANELS: [Panel; 4] = [
    ("tumour", "tumour (mm³)", |s| s.tumour_mm3, [213, 94, 0]),
    ("bvtv", "BV/TV (fraction)", |s| s.bv_tv, [230, 220, 190]),
    ("cd8", "CD8 T cells (mm³)", |s| s.cd8_mm3, [0, 158, 115]),
    ("opn", "plasma OPN (nM)", |s| s.opn_nm, [86, 180, 233]),
];

/// Id of the drug plot.
pub const DRUGS: &str = "drugs";

/// Title of the drug plot.
pub const DRUGS_TITLE: &str = "drugs (nM): — plasma, ··· tissue";

/// The egui id of the plot named `name` (one of [`PANELS`] or [`DRUGS`]).
pub fn plot_id(name: &str) -> egui::Id {
    egui::Id::unique(("osteoniche-live-plot", name))
}

/// The smallest step of 1, 2 or 5 × 10^k that puts ticks at least `min_pt` points apart
/// on an axis of `value_per_pt` units per point; 0 for a degenerate axis.
pub fn nice_step(value_per_pt: f64, min_pt: f64) -> f64 {
    let raw = value_per_pt * min_pt;
    if !(raw.is_finite() && raw > 0.0) {
        return 0.0;
    }
    let decade = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * decade)
        .find(|s| *s >= raw * (1.0 - 1e-12))
        .unwrap_or(10.0 * decade)
}

/// Grid marks over `bounds` for a labelled step `major`: unlabelled minor lines at a
/// quarter or a fifth of it, and the major marks (which carry `step_size == major`) except
/// those within `margin` units of an end, which are drawn as minor lines.
pub fn marks(bounds: (f64, f64), major: f64, margin: f64) -> Vec<GridMark> {
    let (lo, hi) = (bounds.0.min(bounds.1), bounds.0.max(bounds.1));
    if !(major > 0.0 && lo.is_finite() && hi.is_finite()) {
        return Vec::new();
    }
    let mantissa = (major / 10f64.powf(major.log10().floor())).round() as i64;
    let per_major: i64 = if mantissa == 2 { 4 } else { 5 };
    let minor = major / per_major as f64;
    let (first, last) = ((lo / minor).ceil() as i64, (hi / minor).floor() as i64);
    if last - first > 2000 {
        return Vec::new();
    }
    (first..=last)
        .map(|k| {
            let value = k as f64 * minor;
            let labelled =
                k.rem_euclid(per_major) == 0 && value - lo >= margin && hi - value >= margin;
            GridMark {
                value,
                step_size: if labelled { major } else { minor },
            }
        })
        .collect()
}

/// The text of a tick at `value` for labelled steps of `step` on an axis reaching `max_abs`:
/// as many decimals as the step needs; powers of ten when that is more than six decimals or
/// the values reach 10^5.
pub fn tick_label(value: f64, step: f64, max_abs: f64) -> String {
    if !(step > 0.0 && value.is_finite()) {
        return String::new();
    }
    let value = if value.abs() < step * 1e-6 {
        0.0
    } else {
        value
    };
    let decimals = (-step.log10() - 1e-9).ceil().max(0.0) as usize;
    if decimals <= 6 && max_abs < 1e5 {
        return format!("{value:.decimals$}");
    }
    if value == 0.0 {
        return "0".into();
    }
    let digits = (max_abs.log10().floor() - step.log10().floor()).clamp(0.0, 5.0) as usize;
    format!("{value:.digits$e}")
}

/// A grid spacer for ticks at least `min_pt` points apart, labels kept `edge_pt` points
/// inside the ends.
fn spacer(min_pt: f64, edge_pt: f64) -> impl Fn(GridInput) -> Vec<GridMark> {
    move |input: GridInput| {
        let value_per_pt = input.base_step_size / GRID_MIN_PT as f64;
        marks(
            input.bounds,
            nice_step(value_per_pt, min_pt),
            edge_pt * value_per_pt,
        )
    }
}

/// The axis formatter: labels only the major marks (the minor ones are too close for
/// egui_plot to paint theirs).
fn formatter(mark: GridMark, range: &std::ops::RangeInclusive<f64>) -> String {
    tick_label(
        mark.value,
        mark.step_size,
        range.start().abs().max(range.end().abs()),
    )
}

/// A live plot with the strip's axes: days on x, values on y.
fn plot(name: &str, width: f32, height: f32) -> Plot<'static> {
    Plot::new(name)
        .id(plot_id(name))
        .width(width)
        .height(height)
        .allow_scroll(false)
        .grid_spacing(egui::Rangef::new(GRID_MIN_PT, 300.0))
        .x_grid_spacer(spacer(X_LABEL_PT, X_EDGE_PT))
        .y_grid_spacer(spacer(Y_LABEL_PT, Y_EDGE_PT))
        .custom_x_axes(vec![
            AxisHints::new_x()
                .label("day")
                .formatter(formatter)
                .label_spacing(egui::Rangef::new(
                    0.6 * X_LABEL_PT as f32,
                    X_LABEL_PT as f32,
                )),
        ])
        .custom_y_axes(vec![AxisHints::new_y().formatter(formatter).label_spacing(
            egui::Rangef::new(0.6 * Y_LABEL_PT as f32, Y_LABEL_PT as f32),
        )])
}

/// Draws the strip: one plot per [`PANELS`] entry and the drugs, dose times as grey lines.
pub fn strip(ui: &mut egui::Ui, drugs: &[DrugChoice], samples: &[Sample], doses: &[DoseRecord]) {
    let series = |f: &dyn Fn(&Sample) -> f64| -> Vec<[f64; 2]> {
        samples
            .iter()
            .map(|s| [s.day, f(s)])
            .filter(|p| p[1].is_finite())
            .collect()
    };
    let dose_lines = |plot: &mut PlotUi<'_>| {
        for d in doses {
            plot.vline(
                VLine::new(format!("dose {}", d.dose.drug), d.time_h / 24.0)
                    .color(Color32::from_gray(150))
                    .width(1.0),
            );
        }
    };
    let spacing = ui.spacing().item_spacing.x;
    let width = ((ui.available_width() - 4.0 * spacing) / 5.0).max(120.0);
    let title = |ui: &mut egui::Ui, text: &str| {
        ui.add(egui::Label::new(RichText::new(text).size(12.0)).truncate());
    };
    ui.horizontal_top(|ui| {
        for (id, name, f, [r, g, b]) in PANELS {
            ui.vertical(|ui| {
                ui.set_width(width);
                title(ui, name);
                let height = ui.available_height() - 4.0;
                plot(id, width, height).show(ui, |plot| {
                    plot.line(Line::new(name, series(&f)).color(Color32::from_rgb(r, g, b)));
                    dose_lines(plot);
                });
            });
        }
        ui.vertical(|ui| {
            ui.set_width(width);
            title(ui, DRUGS_TITLE);
            ui.horizontal_wrapped(|ui| {
                for (k, d) in drugs.iter().enumerate() {
                    let [r, g, b] = PALETTE[k % PALETTE.len()];
                    ui.label(
                        RichText::new(&d.name)
                            .size(11.0)
                            .color(Color32::from_rgb(r, g, b)),
                    );
                }
            });
            let height = ui.available_height() - 4.0;
            plot(DRUGS, width, height).show(ui, |plot| {
                for (k, d) in drugs.iter().enumerate() {
                    let [r, g, b] = PALETTE[k % PALETTE.len()];
                    let color = Color32::from_rgb(r, g, b);
                    let pick = |f: fn(&(f64, f64)) -> f64| {
                        samples
                            .iter()
                            .filter_map(|s| s.drugs.get(k).map(|v| [s.day, f(v)]))
                            .filter(|p| p[1].is_finite())
                            .collect::<Vec<_>>()
                    };
                    plot.line(Line::new(format!("{} plasma", d.name), pick(|v| v.0)).color(color));
                    plot.line(
                        Line::new(format!("{} tissue", d.name), pick(|v| v.1))
                            .color(color)
                            .style(egui_plot::LineStyle::dotted_dense()),
                    );
                }
                dose_lines(plot);
            });
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_one_two_five_and_at_least_the_spacing() {
        for (vpp, min, want) in [
            (3.3 / 150.0, 32.0, 1.0),
            (0.02 / 150.0, 26.0, 0.005),
            (1e-5 / 150.0, 26.0, 2e-6),
            (30000.0 / 150.0, 26.0, 10000.0),
            (0.01, 10.0, 0.1),
        ] {
            let s = nice_step(vpp, min);
            assert!(
                (s - want).abs() <= want * 1e-9,
                "{vpp} {min}: {s} != {want}"
            );
            assert!(s / vpp >= min * (1.0 - 1e-9));
        }
        assert_eq!(nice_step(0.0, 44.0), 0.0);
        assert_eq!(nice_step(f64::NAN, 44.0), 0.0);
    }

    #[test]
    fn marks_label_the_major_steps_away_from_the_ends() {
        let m = marks((-0.1, 3.5), 1.0, 0.15);
        let labelled: Vec<f64> = m
            .iter()
            .filter(|g| g.step_size == 1.0)
            .map(|g| g.value)
            .collect();
        assert_eq!(
            labelled,
            [1.0, 2.0, 3.0],
            "0 is within 0.15 of the end -0.1"
        );
        assert!(m.iter().all(|g| (-0.1..=3.5).contains(&g.value)));
        // Minor lines at a fifth of a step of 1 or 5, a quarter of a step of 2.
        assert_eq!(m.iter().filter(|g| g.step_size == 0.2).count(), 18 - 3);
        assert!(
            marks((0.0, 1.0), 0.2, 0.0)
                .iter()
                .any(|g| g.step_size == 0.05)
        );
        assert!(marks((0.0, 1.0), 0.0, 0.0).is_empty());
        assert!(marks((0.0, f64::INFINITY), 1.0, 0.0).is_empty());
    }

    #[test]
    fn labels_carry_the_decimals_of_the_step() {
        assert_eq!(tick_label(2.0, 1.0, 3.3), "2");
        assert_eq!(tick_label(0.012, 0.002, 0.017), "0.012");
        assert_eq!(tick_label(0.150915, 5e-6, 0.151), "0.150915");
        assert_eq!(tick_label(1.5, 0.5, 3.0), "1.5");
        assert_eq!(tick_label(30000.0, 10000.0, 31000.0), "30000");
        assert_eq!(tick_label(2e5, 1e5, 3e5), "2e5");
        assert_eq!(tick_label(2e-7, 1e-7, 3e-7), "2e-7");
        assert_eq!(tick_label(1.5e-7, 5e-8, 3e-7), "1.5e-7");
        assert_eq!(tick_label(-1e-20, 0.5, 3.0), "0.0");
        assert_eq!(tick_label(0.0, 1e-8, 3e-7), "0");
    }

    /// Every text the frame paints, with its visible bounds and the clip it is painted in.
    fn texts(shapes: &[egui::epaint::ClippedShape]) -> Vec<(String, egui::Rect, egui::Rect, bool)> {
        fn walk(
            shape: &egui::Shape,
            clip: egui::Rect,
            out: &mut Vec<(String, egui::Rect, egui::Rect, bool)>,
        ) {
            match shape {
                egui::Shape::Vec(v) => v.iter().for_each(|s| walk(s, clip, out)),
                egui::Shape::Text(t) if !t.galley.text().trim().is_empty() => out.push((
                    t.galley.text().to_string(),
                    t.visual_bounding_rect(),
                    clip,
                    t.galley.elided,
                )),
                _ => {}
            }
        }
        let mut out = Vec::new();
        for c in shapes {
            walk(&c.shape, c.clip_rect, &mut out);
        }
        out
    }

    /// The overlay at the viewer's default window size (1400 x 900 points, `view --size`),
    /// with a 3.3-day therapy run in the plots: every plot has day values under its time
    /// axis and values beside its value axis, its title with the unit above it, and no text
    /// of the strip overlaps another, leaves its clip or is cut short.
    #[test]
    fn the_strip_at_the_default_size_shows_days_values_and_units_without_overlaps() {
        use crate::pharma::Route;
        use crate::pharma::dose::{Amount, DoseRequest};
        use crate::viewer::session::RunInfo;
        use crate::viewer::ui::State;

        let (w, h) = (1400.0, 900.0);
        let mut state = State::new(Vec::new(), 0, std::path::PathBuf::from("exports"));
        let drug = |name: &str| DrugChoice {
            name: name.into(),
            routes: vec![Route::IvBolus],
        };
        state.loaded(RunInfo {
            name: "breast-nanodocetaxel-denosumab".into(),
            dims: [16; 3],
            dx_um: 20.0,
            fields: vec!["tumour".into()],
            drugs: vec![drug("docetaxel_nc_bone"), drug("denosumab")],
            backend: "cpu".into(),
            dt_min: 60.0,
        });
        // The shapes of a real run (the 16³ therapy preset): a tumour that grows then
        // shrinks, BV/TV changing in the fifth digit, a drug peak of 3e4 nM.
        for i in 0..=80 {
            let day = i as f64 / 24.0;
            let t = day / 3.33;
            state.samples.push(Sample {
                day,
                tumour_mm3: 0.011 + 0.0053 * (1.0 - (2.0 * t - 1.0).abs()),
                bv_tv: 0.150927 - 1.8e-5 * t * t,
                cd8_mm3: 0.017 * t,
                opn_nm: 0.12 * (1.0 - (-3.0 * t).exp()),
                drugs: vec![(3.0e4 * (t - 0.5).max(0.0), 10.0 * t), (50.0 * t, 0.0)],
            });
        }
        for (day, drug) in [(1.0, "denosumab"), (1.67, "docetaxel_nc_bone")] {
            state.doses.push(DoseRecord {
                time_h: day * 24.0,
                origin: "schedule".into(),
                dose: DoseRequest {
                    drug: drug.into(),
                    route: Route::IvBolus,
                    amount: Amount::Mg(0.25),
                    duration_h: None,
                    point_um: None,
                    volume_nl: None,
                },
                mg: 0.25,
                nmol: 1.0,
            });
        }
        let ctx = egui::Context::default();
        let input = || egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(w, h),
            )),
            ..Default::default()
        };
        // Axis widths settle from one frame to the next, as on screen.
        let mut out = None;
        for _ in 0..4 {
            out = Some(ctx.run_ui(input(), |ui| {
                state.show(ui);
            }));
        }
        let out = out.unwrap();
        let strip_top = h - STRIP_HEIGHT;
        let texts: Vec<_> = texts(&out.shapes)
            .into_iter()
            .filter(|t| t.1.center().y > strip_top)
            .collect();

        let names: Vec<&str> = PANELS.iter().map(|p| p.0).chain([DRUGS]).collect();
        let titles: Vec<&str> = PANELS.iter().map(|p| p.1).chain([DRUGS_TITLE]).collect();
        let mut left_limit = 330.0 - 1.0;
        for (name, title) in names.iter().zip(&titles) {
            let mem = egui_plot::PlotMemory::load(&ctx, plot_id(name))
                .unwrap_or_else(|| panic!("plot {name} was not drawn"));
            let frame = *mem.transform().frame();
            let bounds = mem.bounds();
            assert!(
                frame.width() > 80.0 && frame.height() > 80.0,
                "{name}: {frame:?}"
            );
            assert!(
                frame.bottom() < h && frame.right() <= w,
                "{name}: {frame:?}"
            );
            let number = |t: &&(String, egui::Rect, egui::Rect, bool)| t.0.parse::<f64>().ok();
            // Time axis: day values below the frame, in order, inside the plotted days.
            let days: Vec<f64> = texts
                .iter()
                .filter(|t| {
                    t.1.top() >= frame.bottom() - 1.0
                        && t.1.top() < frame.bottom() + 24.0
                        && (frame.left()..=frame.right()).contains(&t.1.center().x)
                })
                .filter_map(|t| number(&t))
                .collect();
            assert!(days.len() >= 3, "{name}: day labels {days:?}");
            assert!(days.windows(2).all(|d| d[1] > d[0]), "{name}: {days:?}");
            assert!(
                days.iter()
                    .all(|d| (bounds.min()[0]..=bounds.max()[0]).contains(d)),
                "{name}: {days:?} outside {bounds:?}"
            );
            assert!(
                texts
                    .iter()
                    .any(|t| t.0 == "day" && t.1.top() >= frame.bottom()),
                "{name}: no `day` under the time axis"
            );
            // Value axis: values left of the frame, inside it vertically, top to bottom
            // falling, inside the plotted range.
            let mut values: Vec<(f32, f64)> = texts
                .iter()
                .filter(|t| {
                    t.1.right() <= frame.left() + 1.0
                        && t.1.left() >= left_limit
                        && t.1.top() >= frame.top() - 0.5
                        && t.1.bottom() <= frame.bottom() + 0.5
                })
                .filter_map(|t| number(&t).map(|v| (t.1.center().y, v)))
                .collect();
            values.sort_by(|a, b| a.0.total_cmp(&b.0));
            assert!(values.len() >= 2, "{name}: value labels {values:?}");
            assert!(
                values.windows(2).all(|v| v[1].1 < v[0].1),
                "{name}: {values:?}"
            );
            assert!(
                values
                    .iter()
                    .all(|v| (bounds.min()[1]..=bounds.max()[1]).contains(&v.1)),
                "{name}: {values:?} outside {bounds:?}"
            );
            // The title with its unit above the frame.
            assert!(
                texts
                    .iter()
                    .any(|t| t.0 == *title && t.1.bottom() <= frame.top()),
                "{name}: title `{title}` not above the frame"
            );
            left_limit = frame.right();
        }
        // The drug names in their colours above the drug plot.
        for d in ["docetaxel_nc_bone", "denosumab"] {
            assert!(texts.iter().any(|t| t.0 == d), "{d} not named");
        }
        for (i, a) in texts.iter().enumerate() {
            assert!(!a.3, "`{}` is cut short", a.0);
            assert!(
                a.2.expand(0.5).contains_rect(a.1),
                "`{}` at {:?} leaves its clip {:?}",
                a.0,
                a.1,
                a.2
            );
            assert!(
                a.1.bottom() <= h && a.1.right() <= w,
                "`{}` off screen",
                a.0
            );
            for b in &texts[i + 1..] {
                assert!(
                    !a.1.shrink(0.5).intersects(b.1.shrink(0.5)),
                    "`{}` at {:?} overlaps `{}` at {:?}",
                    a.0,
                    a.1,
                    b.0,
                    b.1
                );
            }
        }
    }
}

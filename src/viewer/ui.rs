//! The egui overlay: run controls, view settings with the colour legend, the dosing panel
//! and the live plots. It edits [`State`] and returns what the shell must do; it draws no
//! 3D itself (the central area is where the renderer draws).

use std::collections::VecDeque;
use std::path::PathBuf;

use egui::{Color32, RichText};

use super::session::{Command, RunInfo, Sample};
use crate::pharma::Route;
use crate::pharma::dose::{Amount, DoseRecord, DoseRequest, Scheduled};
use crate::render::camera::OrbitCamera;
use crate::render::colormap::{Colormap, Transfer};
use crate::render::volume::{ViewSettings, extent};

/// What the overlay asks the shell to do.
#[derive(Debug)]
pub enum Intent {
    /// Send to the session.
    Send(Command),
    /// Save a screenshot there.
    Screenshot(PathBuf),
    /// Reload the preset at this path.
    LoadPreset(PathBuf),
}

/// Everything the overlay shows and edits.
pub struct State {
    /// The loaded run.
    pub info: Option<RunInfo>,
    /// Index of the field on show, and its data.
    pub field_index: usize,
    /// The field on show.
    pub field: Vec<f32>,
    /// The bone volume fraction.
    pub bone: Vec<f32>,
    /// Field or range changed since the last upload.
    pub field_dirty: bool,
    /// Bone changed since the last upload.
    pub bone_dirty: bool,
    /// Automatic colour range.
    pub auto_range: bool,
    /// The colour range and scale.
    pub transfer: Transfer,
    /// What the renderer draws.
    pub view: ViewSettings,
    /// The camera.
    pub camera: OrbitCamera,
    /// Steps taken.
    pub step: u64,
    /// The session is stepping.
    pub playing: bool,
    /// Steps per batch.
    pub batch: u64,
    /// Steps per second of the last batch.
    pub steps_per_s: f64,
    /// Frames per second (smoothed).
    pub fps: f64,
    /// Plot history.
    pub samples: Vec<Sample>,
    /// Every dose given.
    pub doses: Vec<DoseRecord>,
    /// Latest messages.
    pub messages: VecDeque<String>,
    /// Dosing form.
    pub dose: DoseForm,
    /// Presets offered for reloading.
    pub presets: Vec<PathBuf>,
    /// The preset picked in the list.
    pub preset_choice: usize,
    /// Where exports go.
    pub export_dir: PathBuf,
    /// The 3D area, in points (set by the overlay each frame).
    pub viewport_points: egui::Rect,
}

/// The dosing panel's inputs.
#[derive(Debug, Clone)]
pub struct DoseForm {
    /// Drug index in `RunInfo::drugs`.
    pub drug: usize,
    /// Route.
    pub route: Route,
    /// Amount.
    pub amount: f64,
    /// mg/kg (true) or mg.
    pub per_kg: bool,
    /// Infusion hours.
    pub hours: f64,
    /// Local injection volume, nL.
    pub nl: f64,
    /// Local injection point, µm (placed by clicking the view).
    pub point_um: Option<[f64; 3]>,
    /// Clicking the view places the injection point.
    pub picking: bool,
    /// Repeat as a schedule instead of once now.
    pub schedule: bool,
    /// First scheduled dose, hours from now.
    pub start_h: f64,
    /// Interval, hours.
    pub every_h: f64,
    /// Number of scheduled doses.
    pub count: u32,
}

impl Default for DoseForm {
    fn default() -> Self {
        DoseForm {
            drug: 0,
            route: Route::IvBolus,
            amount: 1.0,
            per_kg: true,
            hours: 1.0,
            nl: 50.0,
            point_um: None,
            picking: false,
            schedule: false,
            start_h: 0.0,
            every_h: 72.0,
            count: 3,
        }
    }
}

impl DoseForm {
    /// The dose the form describes, now.
    pub fn request(&self, info: &RunInfo) -> Result<DoseRequest, String> {
        let drug = info
            .drugs
            .get(self.drug)
            .ok_or("this preset loads no drugs: add a [pharmacology] table")?;
        let amount = if self.per_kg {
            Amount::MgPerKg(self.amount)
        } else {
            Amount::Mg(self.amount)
        };
        let local = self.route == Route::Local;
        if local && self.point_um.is_none() {
            return Err(
                "a local injection needs a point: tick \"pick point\" and click the view".into(),
            );
        }
        Ok(DoseRequest {
            drug: drug.name.clone(),
            route: self.route,
            amount,
            duration_h: (self.route == Route::IvInfusion).then_some(self.hours),
            point_um: if local { self.point_um } else { None },
            volume_nl: local.then_some(self.nl),
        })
    }
}

impl State {
    /// A fresh state; `presets` are offered for reloading.
    pub fn new(presets: Vec<PathBuf>, preset_choice: usize, export_dir: PathBuf) -> State {
        State {
            info: None,
            field_index: 0,
            field: Vec::new(),
            bone: Vec::new(),
            field_dirty: false,
            bone_dirty: false,
            auto_range: true,
            transfer: Transfer {
                lo: 0.0,
                hi: 1.0,
                log: false,
            },
            view: ViewSettings::default(),
            camera: OrbitCamera::framing([1.0; 3]),
            step: 0,
            playing: false,
            batch: 1,
            steps_per_s: 0.0,
            fps: 0.0,
            samples: Vec::new(),
            doses: Vec::new(),
            messages: VecDeque::new(),
            dose: DoseForm::default(),
            presets,
            preset_choice,
            export_dir,
            viewport_points: egui::Rect::NOTHING,
        }
    }

    /// Adds a message (the latest eight are kept).
    pub fn say(&mut self, m: String) {
        log::info!("{m}");
        self.messages.push_back(m);
        while self.messages.len() > 8 {
            self.messages.pop_front();
        }
    }

    /// A run was loaded: reset what belonged to the previous one.
    pub fn loaded(&mut self, info: RunInfo) {
        self.camera = OrbitCamera::framing(extent(info.dims));
        self.samples.clear();
        self.doses.clear();
        self.dose = DoseForm::default();
        if let Some(d) = info.drugs.first() {
            self.dose.route = d.routes.first().copied().unwrap_or(Route::IvBolus);
        }
        self.info = Some(info);
    }

    /// Recomputes the automatic range when on.
    pub fn update_range(&mut self) {
        if self.auto_range {
            self.transfer = Transfer::auto(&self.field, self.transfer.log);
        }
    }

    /// Simulated days now.
    pub fn day(&self) -> f64 {
        self.info
            .as_ref()
            .map_or(0.0, |i| self.step as f64 * i.dt_min / 1440.0)
    }

    /// Draws the overlay; returns what to do.
    pub fn show(&mut self, ui: &mut egui::Ui) -> Vec<Intent> {
        let mut out = Vec::new();
        egui::Panel::left("controls")
            .default_size(330.0)
            .resizable(true)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    self.run_controls(ui, &mut out);
                    ui.separator();
                    self.view_controls(ui, &mut out);
                    ui.separator();
                    self.dose_controls(ui, &mut out);
                    ui.separator();
                    self.export_controls(ui, &mut out);
                    ui.separator();
                    for m in self.messages.iter().rev() {
                        ui.label(RichText::new(m).small());
                    }
                });
            });
        egui::Panel::bottom("plots")
            .exact_size(super::plots::STRIP_HEIGHT)
            .resizable(false)
            .show(ui, |ui| {
                if let Some(info) = &self.info {
                    super::plots::strip(ui, &info.drugs, &self.samples, &self.doses);
                }
            });
        egui::CentralPanel::no_frame().show(ui, |ui| {
            let rect = ui.max_rect();
            self.viewport_points = rect;
            let response = ui.allocate_rect(rect, egui::Sense::click_and_drag());
            if response.dragged_by(egui::PointerButton::Primary) && !ui.input(|i| i.modifiers.shift)
            {
                let d = response.drag_delta();
                self.camera.orbit(d.x, d.y);
            } else if response.dragged_by(egui::PointerButton::Secondary)
                || response.dragged_by(egui::PointerButton::Middle)
                || response.dragged_by(egui::PointerButton::Primary)
            {
                let d = response.drag_delta();
                self.camera.pan(d.x, d.y, rect.height());
            }
            if response.hovered() {
                let scroll = ui.input(|i| i.smooth_scroll_delta.y);
                if scroll != 0.0 {
                    self.camera.zoom(scroll / 50.0);
                }
            }
            self.legend(ui, rect);
            if response.clicked()
                && self.dose.picking
                && let Some(p) = response.interact_pointer_pos()
            {
                let f = (p - rect.min) / rect.size();
                self.pick(f.x, f.y);
            }
        });
        out
    }

    /// Places the local injection point where the view shows bone surface or a slice at
    /// the fraction (fx, fy) of the 3D area.
    pub fn pick(&mut self, fx: f32, fy: f32) {
        let Some(info) = &self.info else { return };
        let r = self.viewport_points;
        let aspect = r.width() / r.height().max(1.0);
        let frame = self.camera.frame();
        let ndc = [2.0 * fx - 1.0, 1.0 - 2.0 * fy];
        let hit =
            crate::render::volume::pick(&frame, ndc, aspect, &self.bone, info.dims, &self.view);
        match hit {
            Some(v) => {
                let p = v.map(|c| c as f64 * info.dx_um);
                self.dose.point_um = Some(p);
                self.say(format!(
                    "injection point ({:.0}, {:.0}, {:.0}) µm",
                    p[0], p[1], p[2]
                ));
            }
            None => self.say("the click missed the lattice: click the bone or a slice".into()),
        }
    }

    fn run_controls(&mut self, ui: &mut egui::Ui, out: &mut Vec<Intent>) {
        ui.heading("Run");
        if let Some(info) = &self.info {
            ui.label(format!(
                "{}  ({}×{}×{})",
                info.name, info.dims[0], info.dims[1], info.dims[2]
            ));
            ui.label(RichText::new(&info.backend).small());
        }
        ui.horizontal(|ui| {
            let names: Vec<String> = self
                .presets
                .iter()
                .map(|p| {
                    p.file_stem()
                        .map_or(String::new(), |s| s.to_string_lossy().into())
                })
                .collect();
            let current = names.get(self.preset_choice).cloned().unwrap_or_default();
            egui::ComboBox::from_id_salt("preset")
                .selected_text(current)
                .width(190.0)
                .show_ui(ui, |ui| {
                    for (i, n) in names.iter().enumerate() {
                        ui.selectable_value(&mut self.preset_choice, i, n);
                    }
                });
            if ui.button("Load / reset").clicked()
                && let Some(p) = self.presets.get(self.preset_choice)
            {
                out.push(Intent::LoadPreset(p.clone()));
            }
        });
        ui.horizontal(|ui| {
            let label = if self.playing { "Pause" } else { "Play" };
            if ui.button(label).clicked() {
                self.playing = !self.playing;
                out.push(Intent::Send(if self.playing {
                    Command::Play
                } else {
                    Command::Pause
                }));
            }
            if ui.button("Step").clicked() {
                out.push(Intent::Send(Command::Step(1)));
            }
            let mut b = self.batch;
            if ui
                .add(egui::Slider::new(&mut b, 1..=48).text("steps/batch"))
                .changed()
            {
                self.batch = b;
                out.push(Intent::Send(Command::Batch(b)));
            }
        });
        let hours_per_s = self
            .info
            .as_ref()
            .map_or(0.0, |i| self.steps_per_s * i.dt_min / 60.0);
        ui.label(format!(
            "day {:.3}   step {}   {:.1} steps/s ({:.1} simulated h/s)   {:.0} fps",
            self.day(),
            self.step,
            self.steps_per_s,
            hours_per_s,
            self.fps
        ));
    }

    fn view_controls(&mut self, ui: &mut egui::Ui, out: &mut Vec<Intent>) {
        ui.heading("View");
        let Some(info) = self.info.clone() else {
            return;
        };
        let current = info
            .fields
            .get(self.field_index)
            .cloned()
            .unwrap_or_default();
        egui::ComboBox::from_label("field")
            .selected_text(current)
            .height(400.0)
            .show_ui(ui, |ui| {
                for (i, n) in info.fields.iter().enumerate() {
                    if ui.selectable_label(i == self.field_index, n).clicked() {
                        out.push(Intent::Send(Command::Select(i)));
                    }
                }
            });
        egui::ComboBox::from_label("colour map")
            .selected_text(self.view.colormap.name())
            .show_ui(ui, |ui| {
                for c in Colormap::ALL {
                    ui.selectable_value(&mut self.view.colormap, c, c.name());
                }
            });
        ui.horizontal(|ui| {
            let mut changed = ui.checkbox(&mut self.auto_range, "auto range").changed();
            changed |= ui.checkbox(&mut self.transfer.log, "log").changed();
            if changed {
                self.update_range();
                self.field_dirty = true;
            }
        });
        ui.horizontal(|ui| {
            let speed = (self.transfer.hi - self.transfer.lo).abs().max(1e-12) * 0.01;
            let lo = ui.add_enabled(
                !self.auto_range,
                egui::DragValue::new(&mut self.transfer.lo)
                    .speed(speed)
                    .prefix("min "),
            );
            let hi = ui.add_enabled(
                !self.auto_range,
                egui::DragValue::new(&mut self.transfer.hi)
                    .speed(speed)
                    .prefix("max "),
            );
            if lo.changed() || hi.changed() {
                self.field_dirty = true;
            }
        });
        ui.add(egui::Slider::new(&mut self.view.opacity, 0.0..=1.0).text("opacity"));
        ui.add(egui::Slider::new(&mut self.view.gamma, 0.3..=4.0).text("transfer exponent"));
        ui.add(egui::Slider::new(&mut self.view.render_scale, 0.25..=1.0).text("render scale"));
        ui.horizontal(|ui| {
            ui.checkbox(&mut self.view.volume, "volume");
            ui.checkbox(&mut self.view.surface, "bone surface");
        });
        for (a, name) in ["x", "y", "z"].iter().enumerate() {
            ui.horizontal(|ui| {
                let (on, pos) = &mut self.view.slices[a];
                ui.checkbox(on, format!("slice {name}"));
                ui.add_enabled(*on, egui::Slider::new(pos, 0.0..=1.0));
            });
        }
        if ui.button("Reset view").clicked() {
            self.camera = OrbitCamera::framing(extent(info.dims));
        }
    }

    fn dose_controls(&mut self, ui: &mut egui::Ui, out: &mut Vec<Intent>) {
        ui.heading("Dose");
        let Some(info) = self.info.clone() else {
            return;
        };
        if info.drugs.is_empty() {
            ui.label("This preset loads no drugs ([pharmacology] drugs = [...]).");
            return;
        }
        let f = &mut self.dose;
        let drug = &info.drugs[f.drug.min(info.drugs.len() - 1)];
        egui::ComboBox::from_label("drug")
            .selected_text(&drug.name)
            .show_ui(ui, |ui| {
                for (i, d) in info.drugs.iter().enumerate() {
                    if ui.selectable_value(&mut f.drug, i, &d.name).clicked()
                        && !d.routes.contains(&f.route)
                    {
                        f.route = d.routes.first().copied().unwrap_or(Route::IvBolus);
                    }
                }
            });
        let routes = info.drugs[f.drug].routes.clone();
        egui::ComboBox::from_label("route")
            .selected_text(f.route.as_str())
            .show_ui(ui, |ui| {
                for r in routes {
                    ui.selectable_value(&mut f.route, r, r.as_str());
                }
            });
        ui.horizontal(|ui| {
            ui.add(
                egui::DragValue::new(&mut f.amount)
                    .speed(0.1)
                    .range(0.0..=5000.0),
            );
            ui.selectable_value(&mut f.per_kg, true, "mg/kg");
            ui.selectable_value(&mut f.per_kg, false, "mg");
        });
        if f.route == Route::IvInfusion {
            ui.add(
                egui::DragValue::new(&mut f.hours)
                    .speed(0.1)
                    .range(0.01..=720.0)
                    .suffix(" h infusion"),
            );
        }
        if f.route == Route::Local {
            ui.horizontal(|ui| {
                ui.add(
                    egui::DragValue::new(&mut f.nl)
                        .speed(1.0)
                        .range(0.1..=1e5)
                        .suffix(" nL"),
                );
                ui.checkbox(&mut f.picking, "pick point");
            });
            ui.label(match f.point_um {
                Some(p) => format!("at ({:.0}, {:.0}, {:.0}) µm", p[0], p[1], p[2]),
                None => "no point yet: tick \"pick point\" and click bone or a slice".into(),
            });
        }
        ui.checkbox(&mut f.schedule, "repeat as a schedule");
        if f.schedule {
            ui.horizontal(|ui| {
                ui.add(
                    egui::DragValue::new(&mut f.start_h)
                        .range(0.0..=1e5)
                        .prefix("start +")
                        .suffix(" h"),
                );
                ui.add(
                    egui::DragValue::new(&mut f.every_h)
                        .range(0.1..=1e5)
                        .prefix("every ")
                        .suffix(" h"),
                );
                ui.add(
                    egui::DragValue::new(&mut f.count)
                        .range(1..=1000)
                        .suffix(" doses"),
                );
            });
        }
        let label = if f.schedule { "Schedule" } else { "Dose now" };
        if ui.button(RichText::new(label).strong()).clicked() {
            match f.request(&info) {
                Err(e) => self.say(e),
                Ok(req) if f.schedule => {
                    let now_min = self.step as f64 * info.dt_min;
                    let doses = (0..f.count)
                        .map(|k| Scheduled {
                            time_min: now_min + 60.0 * (f.start_h + k as f64 * f.every_h),
                            dose: req.clone(),
                        })
                        .collect();
                    out.push(Intent::Send(Command::Schedule(doses)));
                }
                Ok(req) => out.push(Intent::Send(Command::Dose(req))),
            }
        }
        if !self.doses.is_empty() {
            ui.label(RichText::new("Doses given").strong());
            egui::Grid::new("dose-log").striped(true).show(ui, |ui| {
                for d in self.doses.iter().rev().take(12) {
                    ui.label(format!("day {:.2}", d.time_h / 24.0));
                    ui.label(&d.dose.drug);
                    ui.label(d.dose.route.as_str());
                    ui.label(format!("{:.3} mg", d.mg));
                    ui.label(&d.origin);
                    ui.end_row();
                }
            });
        }
    }

    fn export_controls(&mut self, ui: &mut egui::Ui, out: &mut Vec<Intent>) {
        ui.heading("Export");
        ui.label(RichText::new(format!("into {}", self.export_dir.display())).small());
        ui.horizontal(|ui| {
            let stem = format!("step_{:09}", self.step);
            if ui.button("Screenshot").clicked() {
                out.push(Intent::Screenshot(
                    self.export_dir.join(format!("{stem}.png")),
                ));
            }
            if ui.button("Fields .vti").clicked() {
                out.push(Intent::Send(Command::ExportVti(
                    self.export_dir.join(format!("{stem}.vti")),
                )));
            }
            if ui.button("Metrics CSV").clicked() {
                out.push(Intent::Send(Command::ExportCsv(
                    self.export_dir.join("metrics.csv"),
                )));
            }
        });
    }

    /// The colour bar at the bottom right of the 3D area.
    fn legend(&self, ui: &egui::Ui, rect: egui::Rect) {
        let Some(info) = &self.info else { return };
        let painter = ui.painter_at(rect);
        let (w, h) = (220.0, 14.0);
        let origin = egui::pos2(rect.right() - w - 20.0, rect.bottom() - 44.0);
        let n = 64;
        for k in 0..n {
            let t = k as f32 / (n - 1) as f32;
            let [r, g, b] = self.view.colormap.at(t);
            let x = origin.x + w * k as f32 / n as f32;
            painter.rect_filled(
                egui::Rect::from_min_size(
                    egui::pos2(x, origin.y),
                    egui::vec2(w / n as f32 + 0.5, h),
                ),
                0.0,
                Color32::from_rgb(r, g, b),
            );
        }
        let text = |pos, s: String, align| {
            painter.text(
                pos,
                align,
                s,
                egui::FontId::proportional(12.0),
                Color32::WHITE,
            );
        };
        let fmt = |v: f32| format!("{v:.3e}");
        text(
            origin + egui::vec2(0.0, h + 2.0),
            fmt(self.transfer.lo),
            egui::Align2::LEFT_TOP,
        );
        text(
            origin + egui::vec2(w, h + 2.0),
            fmt(self.transfer.hi),
            egui::Align2::RIGHT_TOP,
        );
        let name = info
            .fields
            .get(self.field_index)
            .cloned()
            .unwrap_or_default();
        let scale = if self.transfer.log { " (log)" } else { "" };
        text(
            origin - egui::vec2(0.0, 4.0),
            format!("{name}{scale}"),
            egui::Align2::LEFT_BOTTOM,
        );
        text(
            rect.left_top() + egui::vec2(10.0, 8.0),
            format!("day {:.2}", self.day()),
            egui::Align2::LEFT_TOP,
        );
    }
}

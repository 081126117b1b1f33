//! The simulation on its own thread, so the window never waits for a step: the UI sends
//! commands, the session steps in batches and sends back, per batch, the one field on
//! show, the bone, and a sample of the small reductions the plots need.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::time::Instant;

use crate::io::vti::write_vti;
use crate::launch::BackendChoice;
use crate::pharma::Route;
use crate::pharma::dose::{DoseRecord, DoseRequest, Scheduled};
use crate::preset::Preset;
use crate::report::UM3_PER_MM3;
use crate::run::Run;
use crate::sim::Simulation;

/// What the UI asks of the session.
#[derive(Debug)]
pub enum Command {
    /// Step continuously.
    Play,
    /// Stop stepping.
    Pause,
    /// Take this many steps, then stop.
    Step(u64),
    /// Steps per batch while playing (the speed).
    Batch(u64),
    /// Show this field.
    Select(usize),
    /// Give a dose now.
    Dose(DoseRequest),
    /// Add doses to the schedule.
    Schedule(Vec<Scheduled>),
    /// Start over with this preset.
    Load(Box<Preset>),
    /// Write every field as .vti.
    ExportVti(PathBuf),
    /// Write the metrics sampled so far as CSV.
    ExportCsv(PathBuf),
    /// End the thread.
    Quit,
}

/// A drug the run can dose now.
#[derive(Debug, Clone, PartialEq)]
pub struct DrugChoice {
    /// Library name.
    pub name: String,
    /// Routes it allows.
    pub routes: Vec<Route>,
}

/// What a freshly loaded run looks like.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// Preset name.
    pub name: String,
    /// Grid shape.
    pub dims: [usize; 3],
    /// Voxel edge, µm.
    pub dx_um: f64,
    /// Field names.
    pub fields: Vec<String>,
    /// Drugs loaded for dosing.
    pub drugs: Vec<DrugChoice>,
    /// The backend, in words.
    pub backend: String,
    /// Step length, min.
    pub dt_min: f64,
}

/// The plotted quantities at one time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    /// Simulated days.
    pub day: f64,
    /// Tumour volume, mm³.
    pub tumour_mm3: f64,
    /// Bone volume over total volume.
    pub bv_tv: f64,
    /// CD8 volume, mm³.
    pub cd8_mm3: f64,
    /// Plasma osteopontin, nM.
    pub opn_nm: f64,
    /// Per drug (in `RunInfo::drugs` order): plasma and tissue concentration, nM.
    pub drugs: Vec<(f64, f64)>,
}

/// What the session sends back.
#[derive(Debug)]
pub enum Update {
    /// A run was (re)loaded.
    Loaded(RunInfo),
    /// The state after a batch (or a dose, or a new field choice).
    State {
        /// Steps taken.
        step: u64,
        /// Index of `field`.
        field_index: usize,
        /// The field on show.
        field: Vec<f32>,
        /// The bone volume fraction.
        bone: Option<Vec<f32>>,
        /// Reductions for the plots.
        sample: Sample,
        /// Every dose given.
        doses: Vec<DoseRecord>,
        /// Steps per second over the last batch (0 when not stepping).
        steps_per_s: f64,
        /// Still stepping.
        playing: bool,
    },
    /// Something to tell the user (refused dose, written file, stopped run).
    Message(String),
}

/// The UI's handle on the session thread.
pub struct Session {
    /// Commands in.
    pub commands: Sender<Command>,
    /// Updates out.
    pub updates: Receiver<Update>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Session {
    /// Starts the thread with `preset` at `resolution` on `backend`.
    pub fn start(preset: Preset, resolution: Option<usize>, backend: BackendChoice) -> Session {
        let (ctx, crx) = channel();
        let (utx, urx) = channel();
        let thread = std::thread::Builder::new()
            .name("osteoniche-sim".into())
            .spawn(move || run(preset, resolution, backend, crx, utx))
            .expect("spawning the simulation thread");
        Session {
            commands: ctx,
            updates: urx,
            thread: Some(thread),
        }
    }

    /// Sends a command (ignored once the thread has ended).
    pub fn send(&self, c: Command) {
        let _ = self.commands.send(c);
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Quit);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A loaded run and what the session keeps about it.
struct Live {
    /// The run: the simulation, its metrics (a row for every update after steps) and the
    /// numerical guard.
    run: Run,
    info: RunInfo,
    field: usize,
    bone: Option<usize>,
    idx: Indices,
}

/// Where the plotted quantities are.
struct Indices {
    tumour: Option<usize>,
    cd8: Option<usize>,
    drug_scalars: Vec<(Option<usize>, Option<usize>)>,
    opn: Option<usize>,
}

fn load(preset: &Preset, resolution: Option<usize>, backend: BackendChoice) -> crate::Result<Live> {
    let scenario = preset.scenario(resolution, None)?;
    let sim = Simulation::new(scenario, backend)?;
    let s = sim.setup();
    let fields: Vec<String> = s.species.owned_names();
    let drugs = sim
        .pharmacology()
        .map(|p| {
            p.drugs
                .iter()
                .map(|d| DrugChoice {
                    name: d.drug.name.clone(),
                    routes: d.drug.routes.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let info = RunInfo {
        name: sim.scenario().name.clone(),
        dims: s.grid.dims(),
        dx_um: s.grid.dx_um,
        fields: fields.clone(),
        drugs,
        backend: sim.backend_info().to_string(),
        dt_min: sim.scenario().dt_min,
    };
    let (scalar_names, _) = sim.named_scalars();
    let find = |n: &str| scalar_names.iter().position(|s| s == n);
    let idx = Indices {
        tumour: s.species.index("tumour"),
        cd8: s.species.index("cd8"),
        opn: find("plasma_opn_nM"),
        drug_scalars: info
            .drugs
            .iter()
            .map(|d| {
                (
                    find(&format!("{}_plasma_nM", d.name)),
                    find(&format!("{}_tissue_nM", d.name)),
                )
            })
            .collect(),
    };
    let field = idx.tumour.unwrap_or(0);
    let bone = s.species.bone();
    let run = Run::start(
        sim,
        preset.clone(),
        resolution,
        std::path::Path::new("metrics.csv"),
    )?;
    Ok(Live {
        run,
        info,
        field,
        bone,
        idx,
    })
}

/// Sends the state: the reductions of the last metrics row, or fresh ones when the state
/// changed without a step (a dose), with the field on show and the bone.
fn report(
    live: &mut Live,
    out: &Sender<Update>,
    steps_per_s: f64,
    playing: bool,
    fresh: bool,
) -> crate::Result<()> {
    let stats = if fresh {
        live.run.sim_mut().stats()?
    } else {
        live.run.last_stats().to_vec()
    };
    let (_, scalars) = live.run.sim().named_scalars();
    let g = live.run.sim().setup().grid;
    let vol = g.voxel_volume_um3() / UM3_PER_MM3;
    let integral = |i: Option<usize>| i.map_or(f64::NAN, |i| stats[i].sum * vol);
    let scalar = |i: Option<usize>| i.map_or(f64::NAN, |i| scalars[i]);
    let sample = Sample {
        day: live.run.sim().time_min() / 1440.0,
        tumour_mm3: integral(live.idx.tumour),
        bv_tv: live
            .bone
            .map_or(f64::NAN, |b| stats[b].sum / g.len() as f64),
        cd8_mm3: integral(live.idx.cd8),
        opn_nm: scalar(live.idx.opn),
        drugs: live
            .idx
            .drug_scalars
            .iter()
            .map(|&(p, t)| (scalar(p), scalar(t)))
            .collect(),
    };
    let field = live.run.sim_mut().backend_mut().read_field(live.field)?;
    let bone = match live.bone {
        Some(b) => Some(live.run.sim_mut().backend_mut().read_field(b)?),
        None => None,
    };
    let doses = live
        .run
        .sim()
        .pharmacology()
        .map(|p| p.state.log.clone())
        .unwrap_or_default();
    let _ = out.send(Update::State {
        step: live.run.sim().step_index(),
        field_index: live.field,
        field,
        bone,
        sample,
        doses,
        steps_per_s,
        playing,
    });
    Ok(())
}

fn run(
    preset: Preset,
    resolution: Option<usize>,
    backend: BackendChoice,
    commands: Receiver<Command>,
    out: Sender<Update>,
) {
    let say = |m: String| {
        let _ = out.send(Update::Message(m));
    };
    let mut live = match load(&preset, resolution, backend) {
        Ok(l) => l,
        Err(e) => {
            say(format!("could not start {}: {e}", preset.origin));
            return;
        }
    };
    let _ = out.send(Update::Loaded(live.info.clone()));
    if let Err(e) = report(&mut live, &out, 0.0, false, false) {
        say(format!("reading the first state failed: {e}"));
    }
    let (mut playing, mut pending, mut batch) = (false, 0u64, 1u64);
    loop {
        // Wait for a command while idle; otherwise take what has arrived.
        let next = if playing || pending > 0 {
            match commands.try_recv() {
                Ok(c) => Some(c),
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Disconnected) => return,
            }
        } else {
            match commands.recv() {
                Ok(c) => Some(c),
                Err(_) => return,
            }
        };
        if let Some(c) = next {
            let mut changed = false;
            match c {
                Command::Quit => return,
                Command::Play => playing = true,
                Command::Pause => {
                    playing = false;
                    pending = 0;
                    changed = true;
                }
                Command::Step(n) => pending += n,
                Command::Batch(n) => batch = n.max(1),
                Command::Select(f) if f < live.info.fields.len() => {
                    live.field = f;
                    changed = true;
                }
                Command::Select(f) => say(format!("no field {f}")),
                Command::Dose(d) => match live.run.sim_mut().dose(&d) {
                    Ok(r) => {
                        say(format!(
                            "dosed {} {} {:.4} mg at day {:.3}",
                            d.drug,
                            d.route,
                            r.mg,
                            r.time_h / 24.0
                        ));
                        changed = true;
                    }
                    Err(e) => say(format!("dose refused (nothing changed): {e}")),
                },
                Command::Schedule(s) => {
                    let n = s.len();
                    match live.run.sim_mut().schedule(s) {
                        Ok(()) => say(format!("{n} doses scheduled")),
                        Err(e) => say(format!("schedule refused (nothing changed): {e}")),
                    }
                }
                Command::Load(p) => match load(&p, resolution, backend) {
                    Ok(l) => {
                        live = l;
                        playing = false;
                        pending = 0;
                        let _ = out.send(Update::Loaded(live.info.clone()));
                        changed = true;
                    }
                    Err(e) => say(format!("could not load {}: {e}", p.origin)),
                },
                Command::ExportVti(path) => {
                    let g = live.run.sim().setup().grid;
                    let names: Vec<&str> = live.info.fields.iter().map(String::as_str).collect();
                    let time = live.run.sim().time_min();
                    let written = live
                        .run
                        .sim_mut()
                        .fields()
                        .and_then(|f| write_vti(&path, &g, &names, &f, time));
                    match written {
                        Ok(()) => say(format!("wrote {}", path.display())),
                        Err(e) => say(format!("could not write {}: {e}", path.display())),
                    }
                }
                Command::ExportCsv(path) => match live.run.write_metrics_to(&path) {
                    Ok(()) => say(format!("wrote {}", path.display())),
                    Err(e) => say(format!("could not write {}: {e}", path.display())),
                },
            }
            if changed && let Err(e) = report(&mut live, &out, 0.0, playing, true) {
                say(format!("reading the state failed: {e}"));
            }
            continue;
        }
        let n = if playing { batch } else { pending.min(batch) };
        let t = Instant::now();
        if let Err(e) = live.run.advance_and_record(n) {
            playing = false;
            pending = 0;
            say(format!("the run stopped: {e}"));
            continue;
        }
        pending = pending.saturating_sub(n);
        let rate = n as f64 / t.elapsed().as_secs_f64().max(1e-9);
        if let Err(e) = report(&mut live, &out, rate, playing || pending > 0, false) {
            playing = false;
            pending = 0;
            say(format!("reading the state failed: {e}"));
        }
    }
}

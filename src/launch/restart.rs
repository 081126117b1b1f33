//! A simulation's state as a checkpoint, and a simulation rebuilt from one: the one code
//! path `run --checkpoint-every`, `resume` and the Python `Simulation.checkpoint` /
//! `Simulation.resume` share.

use std::path::Path;

use super::BackendChoice;
use crate::error::{Error, Result};
use crate::io::checkpoint::{Checkpoint, CheckpointHeader};
use crate::preset::{Embedded, Preset};
use crate::sim::Simulation;

/// The state of `sim` (run from `preset` at `resolution`) as a checkpoint; `metrics_csv` is
/// the metrics table so far, which a resumed run continues.
pub fn checkpoint(
    sim: &mut Simulation,
    preset: &Preset,
    resolution: Option<usize>,
    metrics_csv: String,
) -> Result<Checkpoint> {
    let sc = sim.scenario().clone();
    Ok(Checkpoint {
        header: CheckpointHeader {
            writer: env!("CARGO_PKG_VERSION").into(),
            preset_toml: preset.to_toml(),
            preset_origin: preset.origin.clone(),
            resolution,
            seed: sc.seed,
            step: sim.step_index(),
            grid: sc.grid.dims(),
            fields: sc.species.owned_names(),
            backend: sim.backend_info().kind,
            metrics_csv,
            model: preset
                .model
                .as_ref()
                .map(|m| (m.text.clone(), m.origin.clone())),
            systemic: sim.systemic(),
            library: preset
                .library
                .as_ref()
                .map(|l| (l.text.clone(), l.origin.clone())),
            pharma: sim.pharmacology().map(|p| p.state.clone()),
        },
        data: sim.fields()?,
    })
}

/// The preset inside checkpoint `ck` (read from `path`, named in messages) and a simulation
/// at the checkpoint's step with its fields, systemic pools and drug state, on `backend`
/// (default: the backend of the interrupted run). A checkpoint that does not fit its own
/// preset is refused with what it holds and what the preset makes.
pub fn restore(
    ck: &Checkpoint,
    path: &Path,
    backend: Option<BackendChoice>,
) -> Result<(Preset, Simulation)> {
    let h = &ck.header;
    let at = |message: String| Error::Checkpoint {
        path: path.to_path_buf(),
        message,
    };
    let embedded = Embedded {
        model: h.model.as_ref().map(|(t, o)| (t.as_str(), o.as_str())),
        library: h.library.as_ref().map(|(t, o)| (t.as_str(), o.as_str())),
    };
    let preset = Preset::parse_embedded(&h.preset_toml, &h.preset_origin, embedded)
        .map_err(|e| at(format!("the preset inside the checkpoint: {e}")))?;
    let scenario = preset.scenario(h.resolution, Some(h.seed))?;
    let names: Vec<String> = scenario.species.owned_names();
    if scenario.grid.dims() != h.grid || names != h.fields {
        return Err(at(format!(
            "mismatched checkpoint: it holds {:?} on a {:?} grid but its preset makes {:?} on {:?}",
            h.fields,
            h.grid,
            names,
            scenario.grid.dims()
        )));
    }
    if h.step > scenario.steps {
        return Err(at(format!(
            "step {} is past the run's end ({} steps)",
            h.step, scenario.steps
        )));
    }
    let backend = backend.unwrap_or(match h.backend.as_str() {
        "gpu" => BackendChoice::Gpu,
        _ => BackendChoice::Cpu,
    });
    let mut sim = Simulation::new(scenario, backend)?;
    sim.backend_mut().write_fields(&ck.data)?;
    sim.backend_mut().set_step_index(h.step);
    match (h.systemic, sim.systemic()) {
        (Some(state), Some(_)) => sim.set_systemic(state)?,
        (None, Some(_)) => {
            return Err(at(
                "the checkpoint has no systemic pools but its preset has a model".into(),
            ));
        }
        _ => {}
    }
    match (&h.pharma, sim.pharmacology()) {
        (Some(state), Some(_)) => sim.set_pharma_state(state.clone())?,
        (None, Some(_)) => {
            return Err(at(
                "the checkpoint has no drug state but its preset doses drugs".into(),
            ));
        }
        _ => {}
    }
    Ok((preset, sim))
}

//! `osteoniche._native`: the osteoniche library as a Python extension module. The Python
//! package (`python/osteoniche/`) wraps it: NumPy arrays and pandas frames are made there
//! from the raw buffers and tables this module returns, and the exception classes live
//! there (`osteoniche._errors`). Nothing here reimplements the model: a simulation is the
//! library's [`Simulation`], its metrics the CLI's [`MetricsTable`], its checkpoints the
//! CLI's, its endpoints `compare`'s.

#![allow(
    clippy::result_large_err,
    reason = "the library's error type, as the library allows it: rare, and carries file, line and key"
)]

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use osteoniche::io::checkpoint::Checkpoint;
use osteoniche::io::metrics::MetricsTable;
use osteoniche::launch::{BackendChoice, restart};
use osteoniche::pharma::Route;
use osteoniche::pharma::dose::{Amount, DoseRequest, Scheduled};
use osteoniche::preset::{Preset, SimDuration};
use osteoniche::sim::Simulation;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyDict, PyList, PyType};

/// A Python exception of class `name` from `osteoniche._errors` with `message`.
fn raise(py: Python<'_>, name: &str, message: String) -> PyErr {
    let class = py
        .import("osteoniche._errors")
        .and_then(|m| m.getattr(name))
        .and_then(|c| c.cast_into::<PyType>().map_err(PyErr::from));
    match class {
        Ok(class) => PyErr::from_type(class, message),
        Err(e) => e,
    }
}

/// The library's error as the documented Python exception, with the CLI's message.
fn to_py(e: osteoniche::Error) -> PyErr {
    use osteoniche::Error as E;
    let class = match &e {
        E::Preset { .. } | E::Value { .. } => "PresetError",
        E::Invalid(_) => "InvalidError",
        E::Io { .. } => "FileError",
        E::Resources { .. } => "ResourceError",
        E::Gpu(_) | E::Device { .. } | E::DeviceLost { .. } => "BackendError",
        E::NotConverged { .. } => "NumericalError",
    };
    Python::attach(|py| raise(py, class, e.to_string()))
}

/// A refusal of this module's own (bad keyword combinations), as `InvalidError`.
fn invalid(message: String) -> PyErr {
    Python::attach(|py| raise(py, "InvalidError", message))
}

/// A checkpoint that cannot be read or does not fit its preset: `CheckpointError`, or
/// `FileError` when the file cannot be read at all.
fn checkpoint_error(e: osteoniche::Error) -> PyErr {
    match e {
        osteoniche::Error::Invalid(m) => Python::attach(|py| raise(py, "CheckpointError", m)),
        other => to_py(other),
    }
}

/// A JSON value as the Python object `json.loads` would give.
fn json_to_py<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value as V;
    Ok(match v {
        V::Null => py.None().into_bound(py),
        V::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        V::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(f)) => f.into_pyobject(py)?.into_any(),
            _ => n.to_string().into_pyobject(py)?.into_any(),
        },
        V::String(s) => s.into_pyobject(py)?.into_any(),
        V::Array(a) => {
            let list = PyList::empty(py);
            for x in a {
                list.append(json_to_py(py, x)?)?;
            }
            list.into_any()
        }
        V::Object(o) => {
            let dict = PyDict::new(py);
            for (k, x) in o {
                dict.set_item(k, json_to_py(py, x)?)?;
            }
            dict.into_any()
        }
    })
}

/// What a running simulation carries beside the library's [`Simulation`]: the preset it
/// came from (for checkpoints) and the metrics table, sampled as `run` samples it.
struct Live {
    sim: Simulation,
    preset: Preset,
    resolution: Option<usize>,
    metrics: MetricsTable,
    /// Steps between metrics rows (`[output] metrics_every`).
    metrics_every: u64,
}

impl Live {
    fn new(sim: Simulation, preset: Preset, resolution: Option<usize>) -> Live {
        let sc = sim.scenario();
        let metrics_every = sc.steps_every(sc.preset.output.metrics_every, 1);
        // Never flushed: Python reads the rows with `metrics_csv`.
        let metrics = MetricsTable::for_simulation(Path::new(""), &sim);
        Live {
            sim,
            preset,
            resolution,
            metrics,
            metrics_every,
        }
    }

    /// A metrics row now, after the numerical guard (as `run` records one).
    fn record(&mut self) -> osteoniche::Result<()> {
        let stats = self.sim.stats()?;
        self.metrics.push(
            self.sim.step_index(),
            self.sim.time_min(),
            &stats,
            &self.sim.named_scalars().1,
        );
        match self.sim.numerical_fault(&stats)? {
            Some(fault) => Err(osteoniche::Error::Invalid(fault)),
            None => Ok(()),
        }
    }

    /// Takes `n` steps, recording a row at every metrics step and at the preset's end,
    /// the rows `run` records.
    fn advance(&mut self, n: u64) -> osteoniche::Result<()> {
        let end = self.sim.step_index() + n;
        let last = self.sim.scenario().steps;
        while self.sim.step_index() < end {
            let s = self.sim.step_index();
            let every = self.metrics_every;
            let mut target = (s / every + 1) * every;
            if s < last {
                target = target.min(last);
            }
            let target = target.min(end);
            self.sim.advance(target - s)?;
            if target.is_multiple_of(every) || target == last {
                self.record()?;
            }
        }
        Ok(())
    }
}

/// Numerical faults surface as `NumericalError`; every other refusal as [`to_py`] says.
fn step_error(e: osteoniche::Error) -> PyErr {
    match e {
        osteoniche::Error::Invalid(m) if m.starts_with("numerical fault") => {
            Python::attach(|py| raise(py, "NumericalError", m))
        }
        other => to_py(other),
    }
}

/// The native simulation; `osteoniche.Simulation` wraps it.
#[pyclass(module = "osteoniche._native", name = "Simulation")]
struct PySimulation {
    live: Mutex<Live>,
}

impl PySimulation {
    fn lock(&self) -> PyResult<MutexGuard<'_, Live>> {
        self.live.lock().map_err(|_| poisoned())
    }

    /// Runs `f` on the simulation with the GIL released. Nothing inside touches Python:
    /// the library's error comes back as it is and becomes an exception after the GIL is
    /// held again and the lock is dropped (a thread waiting for this simulation while it
    /// holds the GIL cannot deadlock with the error path).
    fn detached<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Live) -> osteoniche::Result<T> + Send,
    ) -> PyResult<osteoniche::Result<T>> {
        py.detach(|| match self.live.lock() {
            Ok(mut live) => Some(f(&mut live)),
            Err(_) => None,
        })
        .ok_or_else(poisoned)
    }
}

/// The lock of a simulation whose stepping panicked in another thread.
fn poisoned() -> PyErr {
    invalid("this simulation failed in another thread".into())
}

/// The route named `route` (`iv-bolus`, `iv-infusion`, `subcutaneous`, `oral`,
/// `local`).
fn route(route: &str) -> PyResult<Route> {
    route.parse().map_err(invalid)
}

#[allow(clippy::too_many_arguments)]
fn request(
    drug: String,
    route_name: &str,
    mg_per_kg: Option<f64>,
    mg: Option<f64>,
    hours: Option<f64>,
    point_um: Option<[f64; 3]>,
    volume_ul: Option<f64>,
) -> PyResult<DoseRequest> {
    let amount = match (mg_per_kg, mg) {
        (Some(x), None) => Amount::MgPerKg(x),
        (None, Some(x)) => Amount::Mg(x),
        (Some(_), Some(_)) => {
            return Err(invalid(format!(
                "dose of `{drug}`: give mg_per_kg or mg, not both"
            )));
        }
        (None, None) => {
            return Err(invalid(format!(
                "dose of `{drug}`: give an amount, mg_per_kg= or mg="
            )));
        }
    };
    Ok(DoseRequest {
        drug,
        route: route(route_name)?,
        amount,
        duration_h: hours,
        point_um,
        volume_nl: volume_ul.map(|v| v * 1000.0),
    })
}

#[pymethods]
impl PySimulation {
    #[new]
    #[pyo3(signature = (preset, resolution=None, backend="auto", seed=None, set=None, mechanisms=None))]
    fn new(
        py: Python<'_>,
        preset: PathBuf,
        resolution: Option<usize>,
        backend: &str,
        seed: Option<u64>,
        set: Option<Vec<(String, f64)>>,
        mechanisms: Option<Vec<(String, bool)>>,
    ) -> PyResult<PySimulation> {
        let choice: BackendChoice = backend.parse().map_err(invalid)?;
        let mut preset = Preset::load(&preset).map_err(to_py)?;
        let (set, mechanisms) = (set.unwrap_or_default(), mechanisms.unwrap_or_default());
        if !set.is_empty() || !mechanisms.is_empty() {
            preset.override_model(&set, &mechanisms).map_err(to_py)?;
        }
        let scenario = preset.scenario(resolution, seed).map_err(to_py)?;
        let live = py
            .detach(move || {
                let sim = Simulation::new(scenario, choice)?;
                let mut live = Live::new(sim, preset, resolution);
                live.record().map(|()| live)
            })
            .map_err(step_error)?;
        Ok(PySimulation {
            live: Mutex::new(live),
        })
    }

    /// Rebuilds a simulation from a checkpoint (`checkpoint()` or `run --checkpoint-every`).
    #[classmethod]
    #[pyo3(signature = (path, backend=None))]
    fn resume(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        path: PathBuf,
        backend: Option<&str>,
    ) -> PyResult<PySimulation> {
        let choice: Option<BackendChoice> =
            backend.map(|b| b.parse().map_err(invalid)).transpose()?;
        let live = py
            .detach(move || -> osteoniche::Result<Live> {
                let ck = Checkpoint::read(&path)?;
                let (preset, sim) = restart::restore(&ck, &path, choice)?;
                let mut live = Live::new(sim, preset, ck.header.resolution);
                live.metrics.restore(&ck.header.metrics_csv)?;
                Ok(live)
            })
            .map_err(checkpoint_error)?;
        Ok(PySimulation {
            live: Mutex::new(live),
        })
    }

    /// Takes `n` steps with the GIL released.
    fn step(&self, py: Python<'_>, n: u64) -> PyResult<()> {
        self.detached(py, |live| live.advance(n))?
            .map_err(step_error)
    }

    /// Steps for `days` simulated days (rounded to whole steps, at least one).
    fn run_days(&self, py: Python<'_>, days: f64) -> PyResult<u64> {
        if !(days.is_finite() && days > 0.0) {
            return Err(invalid(format!(
                "run(days={days}): must be a positive number of days"
            )));
        }
        let dt = self.lock()?.sim.scenario().dt_min;
        let n = ((SimDuration::from_days(days).minutes() / dt).round() as u64).max(1);
        self.step(py, n)?;
        Ok(n)
    }

    #[getter]
    fn step_index(&self) -> PyResult<u64> {
        Ok(self.lock()?.sim.step_index())
    }

    #[getter]
    fn time_days(&self) -> PyResult<f64> {
        Ok(self.lock()?.sim.time_min() / 1440.0)
    }

    #[getter]
    fn end_step(&self) -> PyResult<u64> {
        Ok(self.lock()?.sim.scenario().steps)
    }

    #[getter]
    fn field_names(&self) -> PyResult<Vec<String>> {
        Ok(self.lock()?.sim.scenario().species.owned_names())
    }

    /// Grid shape as (nz, ny, nx).
    #[getter]
    fn shape(&self) -> PyResult<(usize, usize, usize)> {
        let g = self.lock()?.sim.scenario().grid;
        Ok((g.nz, g.ny, g.nx))
    }

    /// One field's values (x fastest) as little-endian float32 bytes.
    fn field_bytes<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyByteArray>> {
        let values = self
            .detached(py, |live| live.sim.field(name))?
            .map_err(to_py)?;
        Ok(PyByteArray::new(py, &le_bytes(&values)))
    }

    /// Every field, field-major, as little-endian float32 bytes.
    fn fields_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyByteArray>> {
        let values = self
            .detached(py, |live| live.sim.fields())?
            .map_err(to_py)?;
        Ok(PyByteArray::new(py, &le_bytes(&values)))
    }

    /// metrics.csv as `run` writes it, rows so far.
    fn metrics_csv(&self) -> PyResult<String> {
        Ok(self.lock()?.metrics.to_csv())
    }

    /// The backend, the grid and the run's clock.
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let live = self.lock()?;
        let sc = live.sim.scenario();
        let v = serde_json::json!({
            "preset": sc.name,
            "preset_file": live.preset.origin,
            "backend": live.sim.backend_info(),
            "backend_reason": live.sim.backend_reason(),
            "grid": sc.grid,
            "dt_min": sc.dt_min,
            "end_step": sc.steps,
            "seed": sc.seed,
            "resolution": live.resolution,
            "version": env!("CARGO_PKG_VERSION"),
        });
        json_to_py(py, &v)
    }

    /// Doses given so far (the rows of doses.csv), as dicts.
    fn doses<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let live = self.lock()?;
        let log = live
            .sim
            .pharmacology()
            .map(|p| serde_json::to_value(&p.state.log).unwrap_or_default())
            .unwrap_or_else(|| serde_json::json!([]));
        json_to_py(py, &log)
    }

    /// Gives a dose now; returns what was given.
    #[pyo3(signature = (drug, route, mg_per_kg=None, mg=None, hours=None, point_um=None, volume_ul=None))]
    #[allow(clippy::too_many_arguments)]
    fn dose<'py>(
        &self,
        py: Python<'py>,
        drug: String,
        route: &str,
        mg_per_kg: Option<f64>,
        mg: Option<f64>,
        hours: Option<f64>,
        point_um: Option<[f64; 3]>,
        volume_ul: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = request(drug, route, mg_per_kg, mg, hours, point_um, volume_ul)?;
        let record = self.lock()?.sim.dose(&req).map_err(to_py)?;
        json_to_py(py, &serde_json::to_value(&record).unwrap_or_default())
    }

    /// Schedules `count` doses, the first at `at_h` simulated hours from the run's start,
    /// then every `every_h` hours.
    #[pyo3(signature = (drug, route, at_h, every_h=None, count=1, mg_per_kg=None, mg=None, hours=None, point_um=None, volume_ul=None))]
    #[allow(clippy::too_many_arguments)]
    fn schedule(
        &self,
        drug: String,
        route: &str,
        at_h: f64,
        every_h: Option<f64>,
        count: u32,
        mg_per_kg: Option<f64>,
        mg: Option<f64>,
        hours: Option<f64>,
        point_um: Option<[f64; 3]>,
        volume_ul: Option<f64>,
    ) -> PyResult<()> {
        let req = request(drug, route, mg_per_kg, mg, hours, point_um, volume_ul)?;
        if count == 0 {
            return Err(invalid(format!(
                "schedule of `{}`: count must be at least 1",
                req.drug
            )));
        }
        let every = match (count, every_h) {
            (1, e) => e.unwrap_or(0.0),
            (_, Some(e)) if e.is_finite() && e > 0.0 => e,
            (_, e) => {
                return Err(invalid(format!(
                    "schedule of `{}`: {count} doses need every_h > 0 (got {e:?})",
                    req.drug
                )));
            }
        };
        let doses = (0..count)
            .map(|k| Scheduled {
                time_min: (at_h + k as f64 * every) * 60.0,
                dose: req.clone(),
            })
            .collect();
        self.lock()?.sim.schedule(doses).map_err(to_py)
    }

    /// Writes a checkpoint `osteoniche resume` (and `Simulation.resume`) continue from.
    fn checkpoint(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        self.detached(py, |live| {
            let csv = live.metrics.to_csv();
            restart::checkpoint(&mut live.sim, &live.preset, live.resolution, csv)?.write(&path)
        })?
        .map_err(to_py)
    }
}

/// f32 values as their little-endian bytes.
fn le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// The arrays of a .vti file written by osteoniche: (name, little-endian float32 bytes).
#[pyfunction]
fn read_vti<'py>(
    py: Python<'py>,
    path: PathBuf,
) -> PyResult<Vec<(String, Bound<'py, PyByteArray>)>> {
    let arrays = osteoniche::io::vti::read_vti_arrays(&path)
        .map_err(|e| to_py(osteoniche::Error::io(&path, e)))?;
    Ok(arrays
        .into_iter()
        .map(|(name, v)| (name, PyByteArray::new(py, &le_bytes(&v))))
        .collect())
}

/// The endpoints `compare` tabulates for one finished run folder: (key, title, value).
#[pyfunction]
fn endpoints(folder: PathBuf) -> PyResult<Vec<(String, String, f64)>> {
    let label = folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| folder.display().to_string());
    let run = osteoniche::report::RunData::load(&folder, &label).map_err(to_py)?;
    Ok(osteoniche::report::endpoints(std::slice::from_ref(&run))
        .into_iter()
        .map(|e| {
            (
                e.key,
                e.title,
                e.values.first().copied().unwrap_or(f64::NAN),
            )
        })
        .collect())
}

/// The native half of the `osteoniche` package.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySimulation>()?;
    m.add_function(wrap_pyfunction!(read_vti, m)?)?;
    m.add_function(wrap_pyfunction!(endpoints, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

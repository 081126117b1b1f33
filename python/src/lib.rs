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

use osteoniche::launch::BackendChoice;
use osteoniche::pharma::Route;
use osteoniche::pharma::dose::{Amount, DoseRequest, Scheduled};
use osteoniche::preset::Preset;
use osteoniche::run::Run;
use osteoniche::sim::Simulation;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple, PyType};

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

/// The library's error as the documented Python exception, with the CLI's message and,
/// where the library says where, attributes: a preset error's `file`, `line`, `column` and
/// `key`; a checkpoint's `path`; a refused dose's `drug`; a numerical fault's `field`, `step`, `day`, `voxel` (i, j, k) and `value`; a solve
/// that did not converge, its `field`, `iterations` and `residual`.
fn to_py(e: osteoniche::Error) -> PyErr {
    use osteoniche::Error as E;
    let class = match &e {
        E::Preset { .. } | E::Value { .. } => "PresetError",
        E::Invalid(_) | E::Dose { .. } => "InvalidError",
        E::Checkpoint { .. } => "CheckpointError",
        E::Io { .. } => "FileError",
        E::Resources { .. } => "ResourceError",
        E::Gpu(_) | E::Device { .. } | E::DeviceLost { .. } => "BackendError",
        E::NotConverged { .. } | E::Numerical(_) => "NumericalError",
    };
    Python::attach(|py| {
        let err = raise(py, class, e.to_string());
        if let Err(failed) = annotate(py, &err, &e) {
            return failed;
        }
        err
    })
}

/// Sets the attributes [`to_py`] promises on the exception `err` made from `e`.
fn annotate(py: Python<'_>, err: &PyErr, e: &osteoniche::Error) -> PyResult<()> {
    use osteoniche::Error as E;
    let value = err.value(py);
    let located = |l: &osteoniche::error::Location, key: Option<&str>| -> PyResult<()> {
        value.setattr("file", &l.file)?;
        value.setattr("line", l.line)?;
        value.setattr("column", l.column)?;
        value.setattr("key", key)
    };
    match e {
        E::Preset { location, .. } => located(location, None)?,
        E::Value { location, key, .. } => located(location, Some(key))?,
        E::Checkpoint { path, .. } => value.setattr("path", path)?,
        E::Dose { drug, .. } => value.setattr("drug", drug)?,
        E::Numerical(f) => {
            value.setattr("field", &f.field)?;
            value.setattr("step", f.step)?;
            value.setattr("day", f.day)?;
            value.setattr("voxel", f.voxel)?;
            value.setattr("value", f.value)?;
        }
        E::NotConverged {
            field,
            iterations,
            residual,
        } => {
            value.setattr("field", field)?;
            value.setattr("iterations", *iterations)?;
            value.setattr("residual", *residual)?;
        }
        _ => {}
    }
    Ok(())
}

/// A refusal of this module's own (bad keyword combinations), as `InvalidError`.
fn invalid(message: String) -> PyErr {
    Python::attach(|py| raise(py, "InvalidError", message))
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

/// The native simulation; `osteoniche.Simulation` wraps it.
#[pyclass(module = "osteoniche._native", name = "Simulation")]
struct PySimulation {
    live: Mutex<Run>,
    /// What the grid makes of a lattice it does not resolve (`run` prints the same on
    /// stderr), measured once at construction.
    lattice_warning: Option<String>,
}

/// The lattice's resolution warning for the simulation `run` holds, if it has a lattice
/// its grid does not resolve (docs/lattice.md).
fn lattice_warning(run: &Run) -> Option<String> {
    let spec = run.sim().scenario().preset.lattice.as_ref()?;
    run.sim().lattice()?.assess(Some(spec)).1
}

impl PySimulation {
    fn lock(&self) -> PyResult<MutexGuard<'_, Run>> {
        self.live.lock().map_err(|_| poisoned())
    }

    /// Runs `f` on the simulation with the GIL released. Nothing inside touches Python:
    /// the library's error comes back as it is and becomes an exception after the GIL is
    /// held again and the lock is dropped (a thread waiting for this simulation while it
    /// holds the GIL cannot deadlock with the error path).
    fn detached<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Run) -> osteoniche::Result<T> + Send,
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
        // Never flushed: Python reads the rows with `metrics_csv`.
        let (live, lattice_warning) = py
            .detach(move || {
                let sim = Simulation::new(scenario, choice)?;
                let run = Run::start(sim, preset, resolution, Path::new(""))?;
                let warning = lattice_warning(&run);
                Ok::<_, osteoniche::Error>((run, warning))
            })
            .map_err(to_py)?;
        Ok(PySimulation {
            live: Mutex::new(live),
            lattice_warning,
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
        let (live, lattice_warning) = py
            .detach(move || {
                Run::resume(&path, choice, Path::new("")).map(|(run, _)| {
                    let warning = lattice_warning(&run);
                    (run, warning)
                })
            })
            .map_err(to_py)?;
        Ok(PySimulation {
            live: Mutex::new(live),
            lattice_warning,
        })
    }

    /// Takes `n` steps with the GIL released.
    fn step(&self, py: Python<'_>, n: u64) -> PyResult<()> {
        self.detached(py, |live| live.advance(n))?.map_err(to_py)
    }

    /// Steps for `days` simulated days (rounded to whole steps, at least one).
    fn run_days(&self, py: Python<'_>, days: f64) -> PyResult<u64> {
        let n = self
            .lock()?
            .steps_in_days(days)
            .map_err(|e| invalid(format!("run(days={days}): {e}")))?;
        self.step(py, n)?;
        Ok(n)
    }

    #[getter]
    fn step_index(&self) -> PyResult<u64> {
        Ok(self.lock()?.sim().step_index())
    }

    #[getter]
    fn time_days(&self) -> PyResult<f64> {
        Ok(self.lock()?.sim().time_min() / 1440.0)
    }

    #[getter]
    fn end_step(&self) -> PyResult<u64> {
        Ok(self.lock()?.end_step())
    }

    #[getter]
    fn field_names(&self) -> PyResult<Vec<String>> {
        Ok(self.lock()?.sim().scenario().species.owned_names())
    }

    /// Grid shape as (nz, ny, nx).
    #[getter]
    fn shape(&self) -> PyResult<(usize, usize, usize)> {
        let g = self.lock()?.sim().scenario().grid;
        Ok((g.nz, g.ny, g.nx))
    }

    /// One field's values as a float32 NumPy array shaped (z, y, x).
    fn field_array<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        let (values, shape) = self
            .detached(py, |live| {
                let g = live.sim().scenario().grid;
                live.sim_mut().field(name).map(|v| (v, [g.nz, g.ny, g.nx]))
            })?
            .map_err(to_py)?;
        f32_array(py, &values, &shape)
    }

    /// Every field as one float32 NumPy array shaped (field, z, y, x).
    fn fields_array<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (values, shape) = self
            .detached(py, |live| {
                let g = live.sim().scenario().grid;
                let n = live.sim().scenario().species.len();
                live.sim_mut().fields().map(|v| (v, [n, g.nz, g.ny, g.nx]))
            })?
            .map_err(to_py)?;
        f32_array(py, &values, &shape)
    }

    /// metrics.csv as `run` writes it, rows so far.
    fn metrics_csv(&self) -> PyResult<String> {
        Ok(self.lock()?.metrics_csv())
    }

    /// The backend, the grid and the run's clock.
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let live = self.lock()?;
        let sc = live.sim().scenario();
        let v = serde_json::json!({
            "preset": sc.name,
            "preset_file": live.preset().origin,
            "backend": live.sim().backend_info(),
            "backend_reason": live.sim().backend_reason(),
            "grid": sc.grid,
            "dt_min": sc.dt_min,
            "end_step": sc.steps,
            "seed": sc.seed,
            "resolution": live.resolution(),
            "lattice_warning": self.lattice_warning,
            "version": env!("CARGO_PKG_VERSION"),
        });
        json_to_py(py, &v)
    }

    /// Doses given so far (the rows of doses.csv), as dicts.
    fn doses<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let live = self.lock()?;
        let log = live
            .sim()
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
        let record = self.lock()?.sim_mut().dose(&req).map_err(to_py)?;
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
        self.lock()?.sim_mut().schedule(doses).map_err(to_py)
    }

    /// Writes a checkpoint `osteoniche resume` (and `Simulation.resume`) continue from.
    fn checkpoint(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        self.detached(py, |live| live.checkpoint()?.write(&path))?
            .map_err(to_py)
    }
}

/// A new C-ordered little-endian float32 NumPy array of `shape` holding `values`, written
/// straight into the array's own memory: the one copy between the library's values and
/// NumPy (no bytearray or bytes object between them; the array owns its data).
fn f32_array<'py>(py: Python<'py>, values: &[f32], shape: &[usize]) -> PyResult<Bound<'py, PyAny>> {
    let wanted: usize = shape.iter().product();
    if wanted != values.len() {
        return Err(PyValueError::new_err(format!(
            "{} values do not fill an array of shape {shape:?}",
            values.len()
        )));
    }
    let array = py
        .import("numpy")?
        .call_method1("empty", (PyTuple::new(py, shape)?, "<f4"))?;
    let flags = array.getattr("flags")?;
    let contiguous: bool = flags.getattr("c_contiguous")?.extract()?;
    let nbytes: usize = array.getattr("nbytes")?.extract()?;
    if !contiguous || nbytes != 4 * values.len() {
        return Err(PyValueError::new_err(format!(
            "numpy.empty gave {nbytes} bytes (contiguous: {contiguous}) for {} float32 values",
            values.len()
        )));
    }
    let address: usize = array
        .getattr("__array_interface__")?
        .get_item("data")?
        .get_item(0)?
        .extract()?;
    // SAFETY: `array` is a fresh, C-contiguous, writeable array of exactly `nbytes` bytes
    // at `address` (checked above), owned by this thread's new reference and alive until
    // the end of this function at least; nothing else can reach it while the GIL is held.
    let bytes = unsafe { std::slice::from_raw_parts_mut(address as *mut u8, nbytes) };
    for (b, v) in bytes.chunks_exact_mut(4).zip(values) {
        b.copy_from_slice(&v.to_le_bytes());
    }
    Ok(array)
}

/// The arrays of a .vti file written by osteoniche, each a float32 NumPy array of `shape`
/// (z, y, x): (name, array).
#[pyfunction]
fn read_vti<'py>(
    py: Python<'py>,
    path: PathBuf,
    shape: (usize, usize, usize),
) -> PyResult<Vec<(String, Bound<'py, PyAny>)>> {
    let arrays = osteoniche::io::vti::read_vti_arrays(&path)
        .map_err(|e| to_py(osteoniche::Error::io(&path, e)))?;
    let shape = [shape.0, shape.1, shape.2];
    arrays
        .into_iter()
        .map(|(name, v)| {
            let array = f32_array(py, &v, &shape).map_err(|e| {
                PyValueError::new_err(format!("{}: array `{name}`: {e}", path.display()))
            })?;
            Ok((name, array))
        })
        .collect()
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

//! The library's error type: every variant says what was wrong, where, and what is allowed.

use std::path::PathBuf;

/// Where in a preset file a problem sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file, or `<string>` for presets parsed from memory.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        Ok(())
    }
}

/// Everything the library can refuse or fail at.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The preset is not valid TOML, or does not fit the preset schema.
    #[error("{location}: {message}")]
    Preset {
        /// Where the problem is.
        location: Location,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A value is outside its allowed range.
    #[error("{location}: `{key}` = {value}: {allowed}")]
    Value {
        /// Where the key is.
        location: Location,
        /// Dotted key path, e.g. `species[1].diffusion`.
        key: String,
        /// The offending value, as written.
        value: String,
        /// What is allowed.
        allowed: String,
    },
    /// A grid or field set that does not fit the device or the host: the message says what
    /// and what to do; `limit` carries the two figures compared, where a check compared two.
    #[error("{message}")]
    Resources {
        /// What does not fit, with the figures and the way out.
        message: String,
        /// What was needed against what is allowed.
        limit: Option<Limit>,
    },
    /// The GPU could not be used (no adapter, shader or pipeline failure).
    #[error("GPU: {0}")]
    Gpu(String),
    /// A wgpu call failed (opening the device, waiting for the queue, mapping a readback);
    /// the wgpu error is kept as the source.
    #[error("GPU: {context}: {source}")]
    Device {
        /// What osteoniche was doing.
        context: String,
        /// The wgpu error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// The device was lost, or raised an error outside any operation, during the run; the
    /// run cannot go on on it.
    #[error(
        "GPU: {what}; the run cannot continue on this device: rerun with --backend cpu, or resume from the last checkpoint"
    )]
    DeviceLost {
        /// What the driver said.
        what: String,
    },
    /// An implicit solve did not reach its tolerance.
    #[error(
        "implicit solve of field `{field}` did not converge in {iterations} iterations (relative residual {residual:.2e})"
    )]
    NotConverged {
        /// The field.
        field: String,
        /// Iterations taken.
        iterations: usize,
        /// Relative residual |r| / |b| reached.
        residual: f64,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A checkpoint that cannot be continued: not a checkpoint, corrupt, of another format
    /// version, or not fitting the preset inside it.
    #[error("{}: {message}", path.display())]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A dose refused: its drug is not loaded, its amount, route, duration or point is out of
    /// range, or it is scheduled in the past. Nothing was given or scheduled.
    #[error("{message}")]
    Dose {
        /// The drug asked for.
        drug: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A field turned NaN or infinite: the numerical guard's finding, with the field, the
    /// step and the first bad voxel.
    #[error("{0}")]
    Numerical(Box<NumericalFault>),
    /// A request that does not make sense for the current simulation.
    #[error("{0}")]
    Invalid(String),
}

/// What the numerical guard found: the first field with NaN or infinite values, where the
/// first of them is, and the step's numerical parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct NumericalFault {
    /// The field's name.
    pub field: String,
    /// How many of its values are NaN or infinite.
    pub count: u64,
    /// The step after which the guard looked.
    pub step: u64,
    /// Simulated time at that step, days.
    pub day: f64,
    /// The first bad voxel, (i, j, k) with i along x.
    pub voxel: [usize; 3],
    /// Its value.
    pub value: f32,
    /// Time step, minutes.
    pub dt_min: f64,
    /// The field's diffusivity, µm²/min.
    pub diffusion_um2_min: f64,
    /// The field's decay rate, 1/min.
    pub decay_per_min: f64,
    /// The implicit scheme's theta.
    pub theta: f64,
}

impl std::fmt::Display for NumericalFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [i, j, k] = self.voxel;
        write!(
            f,
            "numerical fault: field `{}` has {} non-finite values at step {} (day {:.3}); first at voxel ({i}, {j}, {k}) = {}; \
             dt {} min, D {} µm²/min, decay {}/min, scheme theta {}",
            self.field,
            self.count,
            self.step,
            self.day,
            self.value,
            self.dt_min,
            self.diffusion_um2_min,
            self.decay_per_min,
            self.theta
        )
    }
}

/// A limit a run exceeded: what it needed against what the host or device allows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    /// What the run needs.
    pub needed: u64,
    /// What is allowed.
    pub allowed: u64,
    /// What is counted (bytes in one buffer, storage buffers per kernel, ...).
    pub unit: &'static str,
}

impl Limit {
    /// `needed` against `allowed`, counted in `unit`.
    pub fn count(needed: u64, allowed: u64, unit: &'static str) -> Limit {
        Limit {
            needed,
            allowed,
            unit,
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_error_keeps_its_source_and_a_solve_says_its_figures() {
        let io = std::io::Error::other("queue timeout");
        let e = Error::Device {
            context: "waiting for the GPU failed".into(),
            source: Box::new(io),
        };
        assert_eq!(
            e.to_string(),
            "GPU: waiting for the GPU failed: queue timeout"
        );
        let source = std::error::Error::source(&e).expect("kept");
        assert_eq!(source.to_string(), "queue timeout");
        let e = Error::NotConverged {
            field: "tgf".into(),
            iterations: 1000,
            residual: 3.5e-4,
        };
        assert_eq!(
            e.to_string(),
            "implicit solve of field `tgf` did not converge in 1000 iterations (relative residual 3.50e-4)"
        );
        let lost = Error::DeviceLost {
            what: "the device was lost (Destroyed): gone".into(),
        };
        assert!(lost.to_string().contains("rerun with --backend cpu"));
    }
}

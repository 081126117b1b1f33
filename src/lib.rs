//! osteoniche: a GPU-accelerated 3D reaction-diffusion simulator of the bone-metastasis
//! microenvironment.
//!
//! Load a [`preset::Preset`], resolve it into a [`preset::Scenario`], build a
//! [`sim::Simulation`] on the GPU (wgpu) or CPU (rayon) backend, step it, read metrics.
//!
//! ```no_run
//! use osteoniche::{launch::BackendChoice, preset::Preset, sim::Simulation};
//! let preset = Preset::load("presets/breast-osteolytic.toml".as_ref())?;
//! let mut sim = Simulation::new(preset.scenario(None, None)?, BackendChoice::Cpu)?;
//! sim.advance(10)?;
//! let stats = sim.stats()?;
//! # Ok::<(), osteoniche::Error>(())
//! ```

#![warn(missing_docs)]
#![allow(
    clippy::result_large_err,
    reason = "errors are rare and carry file, line and key context; boxing them would save nothing measurable"
)]

pub mod atomic;
pub mod checks;
pub mod claims;
pub mod converge;
pub mod cpu;
pub mod error;
pub mod gpu;
pub mod grid;
pub mod io;
pub mod kernels;
pub mod lanes;
pub mod lattice;
pub mod launch;
pub mod locate;
pub mod model;
pub mod numerics;
pub mod pharma;
pub mod preset;
pub mod render;
pub mod report;
pub mod run;
pub mod sim;
pub mod study;
pub mod sweep;
#[cfg(feature = "viewer")]
pub mod viewer;
pub mod wgsl;

pub use error::{Error, NumericalFault, Result};

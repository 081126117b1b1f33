//! Output files: metrics CSV, VTK ImageData snapshots, run summary; all written atomically.

pub mod atomic;
pub mod checkpoint;
pub mod metrics;
pub mod vti;

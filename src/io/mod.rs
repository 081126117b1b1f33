//! Output files: metrics CSV, VTK ImageData snapshots and their ParaView collection, run
//! summary; all written atomically.

pub mod checkpoint;
pub mod metrics;
pub mod pvd;
pub mod table;
pub mod vti;

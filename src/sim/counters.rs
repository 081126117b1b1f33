//! What a backend has done since it was built: implicit solves and their iterations, and
//! on a GPU the host-device round trips (`bench` reports them per step).

use serde::Serialize;

/// Counts of a backend's work since it was built; differences between two reads give the
/// work in between.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Implicit solves (one per implicit field per step).
    pub implicit_solves: u64,
    /// Conjugate-gradient iterations of those solves.
    pub implicit_iterations: u64,
    /// Times the host blocked until the device had finished (GPU).
    pub host_waits: u64,
    /// Command buffer submissions (GPU).
    pub submits: u64,
    /// Compute dispatches recorded (GPU).
    pub dispatches: u64,
}

impl Counters {
    /// `self - earlier`, field by field.
    pub fn since(&self, earlier: &Counters) -> Counters {
        Counters {
            implicit_solves: self.implicit_solves - earlier.implicit_solves,
            implicit_iterations: self.implicit_iterations - earlier.implicit_iterations,
            host_waits: self.host_waits - earlier.host_waits,
            submits: self.submits - earlier.submits,
            dispatches: self.dispatches - earlier.dispatches,
        }
    }

    /// Mean iterations per implicit solve (0 without solves).
    pub fn mean_iterations(&self) -> f64 {
        if self.implicit_solves == 0 {
            0.0
        } else {
            self.implicit_iterations as f64 / self.implicit_solves as f64
        }
    }
}

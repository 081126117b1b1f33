//! Per-stage timing of one coupled step (what `osteoniche bench` reports), and the traffic
//! each stage must move at least, for the effective-bandwidth column.

use std::time::Instant;

use serde::Serialize;

use super::setup::Setup;
use crate::kernels::Kernel;

/// A stage of the coupled step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Supply/uptake regions (both half steps).
    Sources,
    /// Implicit per-axis sweeps (x, y, z) of the split mobile fields, with the decay folded
    /// into them (see `Setup`).
    Transport,
    /// Backward-Euler solves of the implicit (fast-diffusing) fields.
    Implicit,
    /// Chemotaxis of the motile cells.
    Motility,
    /// Per-voxel reactions (biology, drug pools).
    React,
    /// Bone surface update after remodelling.
    Surface,
    /// Host side: systemic pools, pharmacokinetics, the small reductions they read.
    Pk,
}

impl Stage {
    /// Every stage, in step order.
    pub const ALL: [Stage; 7] = [
        Stage::Sources,
        Stage::Transport,
        Stage::Implicit,
        Stage::Motility,
        Stage::React,
        Stage::Surface,
        Stage::Pk,
    ];

    /// The kernel that runs it on the GPU (and whose CPU mirror runs it on the CPU); none
    /// for the host's `Pk`.
    pub fn kernel(self) -> Option<Kernel> {
        match self {
            Stage::Sources => Some(Kernel::Sources),
            Stage::Transport => Some(Kernel::Transport),
            Stage::Implicit => Some(Kernel::Implicit),
            Stage::Motility => Some(Kernel::Motility),
            Stage::React => Some(Kernel::React),
            Stage::Surface => Some(Kernel::Surface),
            Stage::Pk => None,
        }
    }

    /// Its name in tables: its kernel's, or `pk`.
    pub fn name(self) -> &'static str {
        self.kernel().map_or("pk", Kernel::name)
    }
}

/// Time spent in each stage of one or more steps.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageTimes {
    /// Wall seconds per stage (index: `Stage as usize`), measured around a fence after the
    /// stage (the GPU backend waits for the queue to drain before it stops the clock).
    pub wall_s: [f64; 7],
    /// Device seconds per stage from GPU timestamp queries, when the adapter has them.
    pub device_s: Option<[f64; 7]>,
    /// Stages that ran.
    pub ran: [bool; 7],
}

impl StageTimes {
    /// Adds another step's times.
    pub fn add(&mut self, o: &StageTimes) {
        for i in 0..7 {
            self.wall_s[i] += o.wall_s[i];
            self.ran[i] |= o.ran[i];
        }
        self.device_s = match (self.device_s, o.device_s) {
            (Some(mut a), Some(b)) => {
                a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
                Some(a)
            }
            (None, b) => b,
            (a, None) => a,
        };
    }

    /// The best available time of a stage: device time when measured (not for the host's
    /// `Stage::Pk`), else wall time.
    pub fn seconds(&self, s: Stage) -> f64 {
        match self.device_s {
            Some(d) if s != Stage::Pk => d[s as usize],
            _ => self.wall_s[s as usize],
        }
    }
}

/// A stopwatch that books the time since its last lap to a stage.
#[derive(Debug)]
pub struct StageClock {
    last: Instant,
    /// What has been booked.
    pub times: StageTimes,
}

impl Default for StageClock {
    fn default() -> Self {
        StageClock {
            last: Instant::now(),
            times: StageTimes::default(),
        }
    }
}

impl StageClock {
    /// Restarts the stopwatch without booking (time between stages is not a stage's).
    pub fn restart(&mut self) {
        self.last = Instant::now();
    }

    /// Books the time since the last lap or restart to `stage`.
    pub fn lap(&mut self, stage: Stage) {
        let now = Instant::now();
        self.times.wall_s[stage as usize] += (now - self.last).as_secs_f64();
        self.times.ran[stage as usize] = true;
        self.last = now;
    }
}

/// Books the time since the last lap to `stage` when a clock is given.
#[inline]
pub fn lap(clock: &mut Option<&mut StageClock>, stage: Stage) {
    if let Some(c) = clock.as_deref_mut() {
        c.lap(stage);
    }
}

/// Voxel-field updates per second: `voxels` x `fields` advanced by one whole time step in
/// `step_s` seconds. The one throughput `bench`, criterion and the docs report; a stage has
/// its own time and bytes ([`traffic`]), never its own update count (three sweeps of a
/// field are one update of it, as in BioFVM's count).
pub fn throughput(voxels: usize, fields: usize, step_s: f64) -> f64 {
    voxels as f64 * fields as f64 / step_s
}

/// What a stage must move per step at least, for its effective bandwidth.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Traffic {
    /// Bytes per step if every field a pass updates is read and written once and every
    /// field it only reads is read once (neighbour reads hit cache). A lower bound: the
    /// effective bandwidth is these bytes over the measured time. 0 when the stage has no
    /// work in this setup.
    pub bytes: f64,
}

/// The compulsory traffic of `stage` per step for `setup` (f32 fields). `pk_fields` is the
/// number of fields the host sums after each step (systemic pool inputs and drug ledgers).
///
/// Counted per stage: sources, each region read+write of its field for both half steps;
/// transport, each swept field read+written twice (the x and y sweeps of a plane run while
/// it is in cache, the z sweep is a second pass; the GPU's three passes move more) plus,
/// for fields whose coefficients depend on bone, the bone field read per pass; implicit,
/// each solved field read+written once (the conjugate-gradient iterations move about ten
/// vectors per iteration on top; not counted, so its bandwidth is a floor); motility, per
/// chemotaxis sub-step the cell field read+written twice (kernel, copy back) and the
/// attractant and bone read; react, every field read+written and the implicit rates
/// written; surface, the bone field read and the surface written; pk, each summed field
/// read once.
pub fn traffic(setup: &Setup, stage: Stage, pk_fields: usize) -> Traffic {
    let n = setup.grid.len() as f64;
    let has_bone = setup.species.bone().is_some();
    let bytes = match stage {
        Stage::Sources => 16.0 * setup.regions.len() as f64 * n,
        Stage::Transport => {
            let swept = setup.transport.iter().filter(|t| t.mobile != 0);
            let (mut all, mut on_bone) = (0.0, 0.0);
            for t in swept {
                all += 1.0;
                if has_bone && t.bone_permeability != 1.0 {
                    on_bone += 1.0;
                }
            }
            (16.0 * all + 8.0 * on_bone) * n
        }
        Stage::Implicit => 8.0 * setup.implicit.len() as f64 * n,
        Stage::Motility => {
            let subs: f64 = setup.model.as_ref().map_or(0.0, |m| {
                m.chemotaxis.iter().map(|c| c.substeps as f64).sum()
            });
            24.0 * subs * n
        }
        Stage::React if !setup.reacts() => 0.0,
        Stage::React => {
            let f = setup.species.len() as f64;
            let rates = 2.0 * setup.implicit_rate_slots() as f64;
            (8.0 * f + 4.0 * rates) * n
        }
        Stage::Surface => match setup.model {
            Some(_) => 8.0 * n,
            None => 0.0,
        },
        Stage::Pk => 4.0 * pk_fields as f64 * n,
    };
    Traffic { bytes }
}

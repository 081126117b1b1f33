//! Per-voxel reaction terms, written as production `P >= 0` and loss rate `L >= 0` for each
//! species: `du/dt = P(u) - L(u) u`. The reaction step integrates this with an exponential
//! update (see `cpu/react.rs` and `shaders/react.wgsl`), which keeps every field
//! non-negative and is exact for constant `P` and `L`, so stiff decay or binding with
//! `L dt >> 1` is stable.

use crate::wgsl::{Members, wgsl_members};
use bytemuck::{Pod, Zeroable};

use super::SpeciesList;
use crate::lanes::Real;

/// Days per minute: the model's rates are per day, the step is in minutes (`PER_DAY` in
/// the kernels' generated prelude).
pub const PER_DAY: f32 = 1.0 / 1440.0;

/// Reaction parameters of one species, as the shaders read them.
/// Uploaded as `SpeciesRates` of `shaders/shared/params.wgsl` (every member's offset is
/// checked against it: [`SpeciesRates::WGSL_MEMBERS`]).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
pub struct SpeciesRates {
    /// First-order decay, 1/min.
    pub decay: f32,
    /// Logistic growth rate, 1/min.
    pub growth: f32,
    /// Logistic carrying capacity, field unit (> 0).
    pub capacity: f32,
    /// 1 + the field's slot among the implicit fields when the implicit solver takes its
    /// reaction rates (the react step then leaves the field to the solve), else 0.
    pub implicit: u32,
}
const _: () = assert!(std::mem::size_of::<SpeciesRates>() == 16);

impl SpeciesRates {
    /// Each member of `SpeciesRates` (`shaders/shared/params.wgsl`) and its offset here.
    pub const WGSL_MEMBERS: Members = wgsl_members!(SpeciesRates {
        "decay" => decay, "growth" => growth, "capacity" => capacity, "implicit" => implicit,
    });
}

/// Reaction parameters of the whole species list.
#[derive(Debug, Clone, PartialEq)]
pub struct ReactionParams {
    /// One entry per field, in field order.
    pub rates: Vec<SpeciesRates>,
}

impl ReactionParams {
    /// Takes decay, growth and capacity from each species.
    pub fn from_species(species: &SpeciesList) -> Self {
        let rates = species
            .iter()
            .map(|s| SpeciesRates {
                decay: s.decay_per_min as f32,
                growth: s.growth_per_min as f32,
                capacity: s.capacity.max(f64::MIN_POSITIVE) as f32,
                implicit: 0,
            })
            .collect();
        ReactionParams { rates }
    }

    /// True when no term would change any field (the reaction step can be skipped).
    pub fn is_identity(&self) -> bool {
        self.rates.iter().all(|r| r.decay == 0.0 && r.growth == 0.0)
    }
}

/// Production and loss rate of field `f` given the voxel's values `u` (CPU mirror of
/// `rates()` in `shaders/shared/model.wgsl`).
#[inline(always)]
pub fn rates<T: Real>(f: usize, u: &[T], params: &[SpeciesRates]) -> (T, T) {
    let r = params[f];
    let uf = u[f];
    // Logistic growth r u (1 - u/K) as production r u and loss r u / K: non-negative parts.
    let growth = T::splat(r.growth);
    let production = growth * uf;
    let loss = T::splat(r.decay) + growth * uf / T::splat(r.capacity);
    (production, loss)
}

/// One exponential step of `du/dt = P - L u` over `dt` with `P`, `L` frozen: exact for
/// constant rates, non-negative for `u, P, L >= 0` whatever `L dt`.
#[inline(always)]
pub fn exp_update<T: Real>(u: T, production: T, loss: T, dt: f32) -> T {
    let dt = T::splat(dt);
    let one = T::splat(1.0);
    let x = loss * dt;
    let no_loss = x.equals(T::splat(0.0));
    if T::all(no_loss) {
        // The branch below in every lane, without the exponentials.
        return u + production * dt;
    }
    let e = (-x).exp();
    // (1 - e^-x)/x, with its limit 1 for tiny x (where 1 - e^-x loses all digits).
    let phi = T::select(x.gt(T::splat(1e-4)), (one - e) / x, one - T::splat(0.5) * x);
    // No loss: e^0 = 1 exactly, and the production term is plain.
    T::select(no_loss, u + production * dt, u * e + production * dt * phi)
}

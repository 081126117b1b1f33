//! What is simulated: the species (fields) and the per-voxel reaction terms.

pub mod reactions;
pub mod species;

pub use reactions::{ReactionParams, SpeciesRates};
pub use species::{Solver, Species, SpeciesKind, SpeciesList};

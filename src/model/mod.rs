//! What is simulated: the species (fields), the per-voxel reaction terms, and the
//! bone-metastasis model with its parameter registry.

pub mod biology;
pub mod parameters;
pub mod reactions;
pub mod reference;
pub mod species;
pub mod systemic;
pub mod therapy;

pub use biology::{ModelIndex, ModelParams};
pub use reactions::{ReactionParams, SpeciesRates};
pub use species::{Solver, Species, SpeciesKind, SpeciesList};

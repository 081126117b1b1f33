//! Pharmacology (docs/pharmacology.md): the drug library, systemic pharmacokinetics, drugs
//! in tissue (exchange, bone binding, carriers, pharmacodynamics), doses and schedules.

pub mod dose;
pub mod dosing;
pub mod library;
pub mod pk;
pub mod tissue;

pub use library::{Drug, DrugLibrary, Effect, Route, Target};
pub use pk::{Compartments, PkState};

//! Pharmacology: systemic pharmacokinetics of the drugs a scenario doses. The tissue side
//! (drug fields, carriers, bone binding, pharmacodynamics) builds on it.

pub mod pk;

pub use pk::{Compartments, PkState};

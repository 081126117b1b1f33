//! The coupled step as data: its stages in splitting order, with the condition under which
//! each runs, written once. Both backends walk [`plan`]'s list (the CPU calls each stage's
//! mirror, the GPU records each stage's kernel), so they cannot drift apart in order or
//! conditions.
//!
//! Order: half a step of the sources, transport sweeps, chemotaxis, reactions, implicit
//! solves, the bone surface, the other half of the sources (the sources are Strang-split
//! around the rest, so their splitting error is second order in dt).

use super::params::Stages;
use super::profile::Stage;
use super::setup::Setup;

/// One entry of a step's plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Planned {
    /// Half a step of the supply and uptake regions.
    HalfSources,
    /// The transport sweeps of the split mobile fields.
    Transport,
    /// Chemotaxis of the motile cells.
    Motility,
    /// Per-voxel reactions, which also leave the implicit fields' reaction rates.
    React,
    /// No reactions this step: the implicit solves see no reaction rates.
    NoReactionRates,
    /// The implicit solves.
    Implicit,
    /// The bone surface after remodelling.
    Surface,
}

impl Planned {
    /// The profiled stage this entry is booked to (none for clearing the rates).
    pub fn stage(self) -> Option<Stage> {
        match self {
            Planned::HalfSources => Some(Stage::Sources),
            Planned::Transport => Some(Stage::Transport),
            Planned::Motility => Some(Stage::Motility),
            Planned::React => Some(Stage::React),
            Planned::NoReactionRates => None,
            Planned::Implicit => Some(Stage::Implicit),
            Planned::Surface => Some(Stage::Surface),
        }
    }
}

/// The entries of one step, in order: at most seven, held inline, so the per-step walk
/// allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    entries: [Planned; 7],
    len: usize,
}

impl Plan {
    fn push(&mut self, entry: Planned) {
        self.entries[self.len] = entry;
        self.len += 1;
    }

    /// The entries, in order.
    pub fn entries(&self) -> &[Planned] {
        &self.entries[..self.len]
    }
}

/// The entries of one step of `setup` running `stages`, in order.
pub fn plan(setup: &Setup, stages: Stages) -> Plan {
    let mut p = Plan {
        entries: [Planned::HalfSources; 7],
        len: 0,
    };
    let sources = stages.sources && !setup.regions.is_empty();
    if sources {
        p.push(Planned::HalfSources);
    }
    if stages.transport && setup.species.mobile_count() > 0 {
        p.push(Planned::Transport);
    }
    let chemotaxis = setup
        .model
        .as_ref()
        .is_some_and(|m| !m.chemotaxis.is_empty());
    if stages.transport && chemotaxis {
        p.push(Planned::Motility);
    }
    if stages.reactions && setup.reacts() {
        p.push(Planned::React);
    } else if !setup.implicit.is_empty() {
        p.push(Planned::NoReactionRates);
    }
    if stages.transport && !setup.implicit.is_empty() {
        p.push(Planned::Implicit);
    }
    if stages.reactions && setup.model.is_some() {
        p.push(Planned::Surface);
    }
    if sources {
        p.push(Planned::HalfSources);
    }
    p
}

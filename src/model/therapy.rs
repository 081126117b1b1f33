//! What a drug acts on ([`Target`]): the model's therapy slots, each driving one therapy
//! parameter of the model. The model owns them (the per-voxel biology reads them); the drug
//! library names them.

use serde::{Deserialize, Serialize};

use crate::model::parameters::p;

/// What a drug acts on: each target names the model's therapy parameter it drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// PD-1 blockade (`blockade_pd1`).
    Pd1,
    /// TIGIT blockade (`blockade_tigit`).
    Tigit,
    /// RANKL neutralisation (`blockade_rankl`).
    Rankl,
    /// DKK1 neutralisation (`blockade_dkk1`).
    Dkk1,
    /// IL-1beta blockade (`blockade_il1b`).
    Il1b,
    /// TGF-beta receptor I inhibition (`blockade_tbri`).
    Tbri,
    /// CXCR2 antagonism (`blockade_cxcr2`).
    Cxcr2,
    /// CSF2 / PRMT5 inhibition (`blockade_csf2`).
    Csf2,
    /// TGF-beta ligand neutralisation (`blockade_tgfb`).
    Tgfb,
    /// Vitamin C effect on CXCR2-driven recruitment (`vitamin_c`).
    VitaminC,
    /// Cytotoxic tumour kill (`effect_chemo`).
    Chemo,
    /// PARP-inhibitor tumour kill (`effect_parp`).
    Parp,
    /// Osteoclast kill (`effect_oc_kill`).
    OcKill,
    /// Senescent-osteocyte kill (`effect_senolytic`).
    Senolytic,
    /// Cx43 hemichannel activation (`effect_cx43`).
    Cx43,
}

impl Target {
    /// Every target, in the order of the kernel's therapy array.
    pub const ALL: [Target; 15] = [
        Target::Pd1,
        Target::Tigit,
        Target::Rankl,
        Target::Dkk1,
        Target::Il1b,
        Target::Tbri,
        Target::Cxcr2,
        Target::Csf2,
        Target::Tgfb,
        Target::VitaminC,
        Target::Chemo,
        Target::Parp,
        Target::OcKill,
        Target::Senolytic,
        Target::Cx43,
    ];

    /// The model parameter whose value is the target's effect without drugs.
    pub fn parameter(self) -> usize {
        match self {
            Target::Pd1 => p::BLOCKADE_PD1,
            Target::Tigit => p::BLOCKADE_TIGIT,
            Target::Rankl => p::BLOCKADE_RANKL,
            Target::Dkk1 => p::BLOCKADE_DKK1,
            Target::Il1b => p::BLOCKADE_IL1B,
            Target::Tbri => p::BLOCKADE_TBRI,
            Target::Cxcr2 => p::BLOCKADE_CXCR2,
            Target::Csf2 => p::BLOCKADE_CSF2,
            Target::Tgfb => p::BLOCKADE_TGFB,
            Target::VitaminC => p::VITAMIN_C,
            Target::Chemo => p::EFFECT_CHEMO,
            Target::Parp => p::EFFECT_PARP,
            Target::OcKill => p::EFFECT_OC_KILL,
            Target::Senolytic => p::EFFECT_SENOLYTIC,
            Target::Cx43 => p::EFFECT_CX43,
        }
    }

    /// Position in the kernel's therapy array (the declaration order, which
    /// [`Target::ALL`] follows; a test checks).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The name library files use.
    pub fn as_str(self) -> &'static str {
        crate::model::parameters::PARAMS[self.parameter()]
            .name
            .trim_start_matches("blockade_")
            .trim_start_matches("effect_")
    }

    /// WGSL constant of the therapy-array slot, e.g. `T_PD1`.
    pub fn wgsl_name(self) -> String {
        format!("T_{}", self.as_str().to_ascii_uppercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn therapy_slots_follow_the_declaration_order() {
        for (i, t) in Target::ALL.iter().enumerate() {
            assert_eq!(t.index(), i, "{t:?}");
        }
        let names: std::collections::BTreeSet<&str> =
            Target::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(names.len(), Target::ALL.len(), "distinct names");
        assert_eq!(Target::OcKill.as_str(), "oc_kill");
        assert_eq!(Target::VitaminC.wgsl_name(), "T_VITAMIN_C");
    }
}

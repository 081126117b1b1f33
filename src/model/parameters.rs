//! The parameter registry of the bone-metastasis model: every named parameter the reaction
//! kernel reads, with its unit, the mechanism it belongs to and what it means. Values and
//! sources live in the model file (`presets/model/bone-metastasis.toml`); the loader checks
//! that file against this table (every name present, units equal), and `docs/model.md` is
//! generated from both, so code, data and docs cannot drift.
//!
//! The kernel reads one flat `f32` array: the registered parameters in table order, then
//! one switch per mechanism (1 on, 0 off), then values derived from the parameters and the
//! systemic pools the host updates every step ([`Slot`]). `shaders/shared/biology.wgsl`
//! names them through the generated constants `P_<NAME>`, `S_M<k>` and the slot constants.

use serde::{Deserialize, Serialize};

/// A number as model files and drug libraries write it:
/// `name = { value = ..., unit = "...", source = "..." }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamEntry {
    /// The value, in `unit`.
    pub value: f64,
    /// Must equal the registered unit.
    pub unit: String,
    /// Paper with table or figure, or "assumption" with the reason for the value.
    pub source: String,
}

/// One registered parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamDef {
    /// Name in model files and presets (`[model.set]`).
    pub name: &'static str,
    /// Unit; the model file must state exactly this unit.
    pub unit: &'static str,
    /// Mechanism id (`M1`..`M19`), or `core`, `cells`, `systemic`, `motility`, `therapy`.
    pub group: &'static str,
    /// What it is, in one line.
    pub meaning: &'static str,
}

macro_rules! registry {
    ($($konst:ident = $name:literal, $unit:literal, $group:literal, $meaning:literal;)*) => {
        /// Index of each parameter in the kernel's parameter array.
        #[allow(missing_docs, reason = "each constant is documented by its PARAMS entry")]
        pub mod p {
            #[allow(non_camel_case_types, clippy::upper_case_acronyms, clippy::enum_variant_names, reason = "one variant per constant, named alike")]
            #[repr(usize)]
            enum I { $($konst,)* }
            $(pub const $konst: usize = I::$konst as usize;)*
        }
        /// Every parameter, in array order.
        pub const PARAMS: &[ParamDef] = &[
            $(ParamDef { name: $name, unit: $unit, group: $group, meaning: $meaning },)*
        ];
    };
}

#[rustfmt::skip]
registry! {
    // Remodelling core: Komarova et al. 2003, Bone 33:206, eqs. 1-3.
    ALPHA1 = "alpha1", "1/day", "core", "osteoclast production rate (alpha1)";
    ALPHA2 = "alpha2", "1/day", "core", "osteoblast production rate (alpha2)";
    BETA1 = "beta1", "1/day", "core", "osteoclast removal rate (beta1)";
    BETA2 = "beta2", "1/day", "core", "osteoblast removal rate (beta2)";
    G11 = "g11", "1", "core", "osteoclast autocrine exponent (g11)";
    G12 = "g12", "1", "core", "osteoclast-to-osteoblast paracrine exponent (g12)";
    G21 = "g21", "1", "core", "osteoblast-to-osteoclast paracrine exponent (g21)";
    G22 = "g22", "1", "core", "osteoblast autocrine exponent (g22)";
    K1 = "k1", "%/day", "core", "bone resorbed per osteoclast above steady state (k1)";
    K2 = "k2", "%/day", "core", "bone formed per osteoblast above steady state (k2)";
    OC_UNIT = "oc_unit", "volume fraction", "core", "osteoclast volume fraction that counts as one Komarova cell at surface share 1 (per surface_layer_um of layer on each unit of bone surface)";
    OB_UNIT = "ob_unit", "volume fraction", "core", "osteoblast volume fraction that counts as one Komarova cell at surface share 1 (per surface_layer_um of layer on each unit of bone surface)";
    BONE_PER_PERCENT = "bone_per_percent", "volume fraction", "core", "bone fraction at surface share 1 per percent of Komarova's bone mass (times surface_layer_um: the bone surface's normal displacement per percent)";
    SURFACE_LAYER = "surface_layer_um", "um", "core", "depth of the layer of bone-surface cells: a voxel's surface share is this depth times its bone-surface area density (1/um)";
    CELL_FLOOR = "cell_floor", "1", "core", "floor on the Komarova cell numbers inside the power laws (lets a new surface recruit its first cells)";
    // Tumour.
    TUMOUR_GROWTH = "tumour_growth", "1/day", "cells", "tumour proliferation rate with room to grow";
    TUMOUR_DEATH = "tumour_death", "1/day", "cells", "tumour death rate without immune attack";
    // M1 vicious cycle.
    PTHRP_SECRETION = "pthrp_secretion", "nM/day", "M1", "PTHrP secreted per unit tumour fraction";
    PTHRP_K = "pthrp_k", "nM", "M1", "PTHrP giving half the maximal bone-cell response";
    RANKL_FROM_PTHRP = "rankl_from_pthrp", "nM/day", "M1", "RANKL made by bone cells at saturating PTHrP, per unit bone or surface";
    RANKL_OC_BOOST = "rankl_oc_boost", "1", "M1", "largest relative rise of osteoclastogenesis from RANKL";
    RANKL_K = "rankl_k", "nM", "M1", "RANKL giving half the osteoclastogenic effect";
    PRECURSOR_FUSION = "precursor_fusion", "1/day", "M1", "osteoclast precursors fusing into osteoclasts at a surface at saturating RANKL";
    TGF_MATRIX_RELEASE = "tgf_matrix_release", "nM", "M1", "TGF-beta released per unit bone fraction resorbed";
    TGF_TUMOUR_BOOST = "tgf_tumour_boost", "1", "M1", "largest relative rise of tumour growth from TGF-beta";
    TGF_K = "tgf_k", "nM", "M1", "TGF-beta giving half its effect (tumour growth, neutrophil block)";
    // Osteoclast precursors and the myeloid traffic from vessels.
    PRECURSOR_RECRUITMENT = "precursor_recruitment", "1/day", "cells", "osteoclast precursors entering from vessels, per unit vessel density";
    PRECURSOR_DEATH = "precursor_death", "1/day", "cells", "osteoclast precursor death rate";
    // M2, M3 DKK1.
    DKK1_SECRETION = "dkk1_secretion", "nM/day", "M2", "DKK1 secreted per unit tumour fraction";
    DKK1_K = "dkk1_k", "nM", "M2", "DKK1 giving half its effect (neutrophil maturation, osteoblasts)";
    NEUTROPHIL_MATURATION = "neutrophil_maturation", "1/day", "cells", "maturation rate of immature neutrophils without DKK1";
    DKK1_MATURATION_BLOCK = "dkk1_maturation_block", "1", "M2", "largest relative slowing of neutrophil maturation by DKK1";
    CHI3L3_SUPPRESSION = "chi3l3_suppression", "1", "M2", "largest relative fall of CD8 killing from CHI3L3+ immature neutrophils";
    NEUTROPHIL_K = "neutrophil_k", "volume fraction", "M2", "granulocyte fraction giving half its suppressive effect";
    DKK1_OB_BLOCK = "dkk1_ob_block", "1", "M3", "largest relative fall of osteoblast production from DKK1 (Wnt inhibition)";
    DKK1_DECOUPLING = "dkk1_decoupling", "1", "M3", "largest relative fall of the osteoclast-to-osteoblast exponent g12 from DKK1 (uncoupled formation)";
    // M4 CSF2.
    CSF2_SECRETION = "csf2_secretion", "nM/day", "M4", "CSF2 secreted per unit tumour fraction (BHLHE22-driven)";
    CSF2_K = "csf2_k", "nM", "M4", "CSF2 giving half its effect";
    CSF2_RECRUITMENT = "csf2_recruitment", "1/day", "M4", "immature neutrophils recruited at saturating CSF2, per unit vessel density";
    CSF2_MYELOPOIESIS = "csf2_myelopoiesis", "1", "M4", "largest relative rise of the circulating myeloid pool from tissue CSF2";
    // M5 CXCR2.
    CXCL_SECRETION = "cxcl_secretion", "nM/day", "M5", "CXCR2 ligands (CXCL1/2/5/8, lumped) secreted per unit tumour fraction";
    CXCL_K = "cxcl_k", "nM", "M5", "CXCR2 ligand giving half its effect";
    CXCR2_RECRUITMENT = "cxcr2_recruitment", "1/day", "M5", "immature neutrophils recruited at saturating CXCR2 ligand, per unit vessel density";
    NEUTROPHIL_BASAL_RECRUITMENT = "neutrophil_basal_recruitment", "1/day", "cells", "immature neutrophils entering without tumour signals, per unit vessel density";
    NEUTROPHIL_DEATH = "neutrophil_death", "1/day", "cells", "immature neutrophil death rate";
    MATURE_NEUTROPHIL_DEATH = "mature_neutrophil_death", "1/day", "cells", "mature neutrophil death rate";
    // M6 androgen deprivation, TbetaRI on neutrophils.
    NEUTROPHIL_KILL = "neutrophil_kill", "1/day", "M6", "tumour killed per unit mature-neutrophil fraction";
    ANDROGEN_DEPRIVATION = "androgen_deprivation", "1", "M6", "androgen deprivation therapy in force (1) or not (0)";
    TGF_NEUTROPHIL_BLOCK = "tgf_neutrophil_block", "1", "M6", "largest relative fall of neutrophil killing from TGF-beta under androgen deprivation";
    // M7 EnOBT Wnt.
    ENOBT_WNT = "enobt_wnt", "nM/day", "M7", "Wnt from endothelium turned osteoblastic, per unit tumour x vessel density";
    WNT_K = "wnt_k", "nM", "M7", "Wnt giving half its effect";
    WNT_M2_POLARISATION = "wnt_m2_polarisation", "1/day", "M7", "macrophage polarisation to M2 at saturating Wnt";
    WNT_OB_BOOST = "wnt_ob_boost", "1", "M7", "largest relative rise of osteoblast production from Wnt";
    // M8 CCL5, TAMs.
    CCL5_SECRETION = "ccl5_secretion", "nM/day", "M8", "CCL5 secreted per unit tumour fraction";
    CCL5_OSTEOBLAST = "ccl5_osteoblast", "nM/day", "M8", "CCL5 from osteoblasts activated by tumour signals (LT-beta [36]), per unit osteoblast fraction at saturation";
    CCL5_K = "ccl5_k", "nM", "M8", "CCL5 giving half its effect";
    CCL5_M2_POLARISATION = "ccl5_m2_polarisation", "1/day", "M8", "macrophage polarisation to M2 at saturating CCL5";
    MACROPHAGE_RECRUITMENT = "macrophage_recruitment", "1/day", "cells", "monocyte-derived macrophages entering from vessels, per unit vessel density";
    MACROPHAGE_DEATH = "macrophage_death", "1/day", "cells", "unpolarised macrophage death rate";
    M2_DEATH = "m2_death", "1/day", "cells", "M2 macrophage death rate";
    M2_TGF = "m2_tgf", "nM/day", "M8", "TGF-beta secreted per unit M2 fraction";
    M2_SUPPRESSION = "m2_suppression", "1", "M8", "largest relative fall of CD8 killing from M2 macrophages";
    M2_K = "m2_k", "volume fraction", "M8", "M2 fraction giving half its effect";
    // M9 MDSCs.
    MDSC_RECRUITMENT = "mdsc_recruitment", "1/day", "M9", "MDSCs recruited at saturating CXCR2 ligand, per unit vessel density";
    MDSC_DEATH = "mdsc_death", "1/day", "cells", "MDSC death rate";
    MDSC_SUPPRESSION = "mdsc_suppression", "1", "M9", "largest relative fall of CD8 killing from MDSCs (arginase, ROS, NO)";
    MDSC_K = "mdsc_k", "volume fraction", "M9", "MDSC fraction giving half its effect";
    MDSC_OC_BOOST = "mdsc_oc_boost", "1", "M9", "largest relative rise of osteoclastogenesis from MDSCs";
    PDL1_MDSC_SHARE = "pdl1_mdsc_share", "1", "M9", "PD-L1+ monocytic MDSCs, as tumour-equivalent PD-L1 per unit MDSC";
    // M10 TIGIT, IL-1beta.
    TIGIT_SUPPRESSION = "tigit_suppression", "1", "M10", "largest relative fall of CD8 killing through TIGIT from MDSCs and granulocytes";
    IL1B_MDSC = "il1b_mdsc", "nM/day", "M10", "IL-1beta secreted per unit MDSC fraction";
    IL1B_NEUTROPHIL = "il1b_neutrophil", "nM/day", "M10", "IL-1beta secreted per unit immature-neutrophil fraction";
    IL1B_AMPLIFICATION = "il1b_amplification", "1", "M10", "largest relative rise of granulocyte suppression from IL-1beta";
    IL1B_K = "il1b_k", "nM", "M10", "IL-1beta giving half its effect";
    // M11 OPN.
    OPN_OSTEOCLAST = "opn_osteoclast", "nM/day", "M11", "OPN secreted per unit osteoclast fraction";
    OPN_TUMOUR = "opn_tumour", "nM/day", "M11", "OPN secreted per unit tumour fraction (SPP1-high tumours)";
    OPN_PLASMA_INPUT = "opn_plasma_input", "1/day", "M11", "plasma OPN gained per day per nM of mean tissue OPN";
    OPN_PLASMA_CLEARANCE = "opn_plasma_clearance", "1/day", "M11", "plasma OPN clearance rate";
    OPN_RECRUITMENT_BLOCK = "opn_recruitment_block", "1", "M11", "largest relative fall of circulating TCF1+ CD8 precursors from plasma OPN";
    OPN_K = "opn_k", "nM", "M11", "OPN (plasma or tissue) giving half its effect";
    OPN_LOCAL_SUPPRESSION = "opn_local_suppression", "1", "M11", "largest relative fall of CD8 killing from tissue OPN";
    // M12 Siglec15.
    SIGLEC15_BLOCK = "siglec15_block", "1", "M12", "largest relative fall of CD8 activation from osteoclast apoptotic bodies";
    OSTEOCLAST_K = "osteoclast_k", "volume fraction", "M12", "osteoclast fraction giving half its effect (Siglec15, glutamine)";
    // M13 Tregs, Cx43.
    TREG_RECRUITMENT = "treg_recruitment", "1/day", "M13", "Tregs entering from vessels, per unit vessel density (marrow enrichment)";
    TREG_DEATH = "treg_death", "1/day", "cells", "Treg death rate";
    TREG_SUPPRESSION = "treg_suppression", "1", "M13", "largest relative fall of CD8 killing from Tregs";
    TREG_K = "treg_k", "volume fraction", "M13", "Treg fraction giving half its effect";
    TREG_TGF = "treg_tgf", "nM/day", "M13", "TGF-beta secreted per unit Treg fraction";
    CX43_TREG_DEPLETION = "cx43_treg_depletion", "1/day", "M13", "Treg removal at full Cx43 hemichannel activation (osteocyte ATP)";
    // M14 senescent osteocytes.
    SENESCENCE_RATE = "senescence_rate", "1/day", "M14", "osteocytes turned senescent per day at saturating tumour signal (PTHrP as its proxy)";
    OSTEOCYTE_DENSITY = "osteocyte_density", "volume fraction", "M14", "osteocyte volume per unit bone volume";
    SENESCENT_CLEARANCE = "senescent_clearance", "1/day", "M14", "natural clearance rate of senescent osteocytes";
    SASP_RANKL = "sasp_rankl", "nM/day", "M14", "RANKL from the SASP, per unit senescent-osteocyte fraction";
    SASP_OC_BOOST = "sasp_oc_boost", "1", "M14", "largest relative rise of osteoclastogenesis from the SASP";
    SENESCENT_K = "senescent_k", "volume fraction", "M14", "senescent-osteocyte fraction giving half its effect";
    // M15 osteocyte mitochondria.
    STING_IMMUNOGENICITY = "sting_immunogenicity", "1", "M15", "largest relative rise of CD8 killing of tumour touching bone (mitochondria -> cGAS/STING)";
    // M16, M17 drug resistance in the niche.
    CYP3A4_PROTECTION = "cyp3a4_protection", "1", "M16", "relative fall of chemotherapy kill at a bone surface (stromal CYP3A4)";
    GLUTATHIONE_RESISTANCE = "glutathione_resistance", "1", "M17", "largest relative fall of PARP-inhibitor kill from osteoclast glutamine";
    // M18 metabolic suppression.
    LACTATE_SECRETION = "lactate_secretion", "mM/day", "M18", "lactate (with adenosine and kynurenine, lumped) per unit tumour fraction";
    LACTATE_SUPPRESSION = "lactate_suppression", "1", "M18", "largest relative fall of CD8 killing and expansion from acidity";
    LACTATE_K = "lactate_k", "mM", "M18", "lactate giving half its effect";
    // M19 CD8 and the immune balance.
    CD8_RECRUITMENT = "cd8_recruitment", "1/day", "M19", "effector CD8 entering from vessels, per unit vessel density and circulating pool";
    CD8_PROLIFERATION = "cd8_proliferation", "1/day", "M19", "CD8 expansion rate at saturating antigen";
    CD8_DEATH = "cd8_death", "1/day", "cells", "effector CD8 death rate";
    CD8_KILL = "cd8_kill", "1/day", "M19", "tumour killed per unit CD8 fraction without suppression";
    TUMOUR_K = "tumour_k", "volume fraction", "M19", "tumour fraction giving half the antigen stimulus";
    EXHAUSTION_RATE = "exhaustion_rate", "1/day", "M19", "CD8 exhaustion rate at saturating PD-L1";
    EXHAUSTED_DEATH = "exhausted_death", "1/day", "cells", "exhausted CD8 death rate";
    EXHAUSTED_KILL_SHARE = "exhausted_kill_share", "1", "M19", "killing of an exhausted CD8 relative to an effector";
    PD1_SUPPRESSION = "pd1_suppression", "1", "M19", "largest relative fall of CD8 killing from PD-1 engagement";
    PDL1_K = "pdl1_k", "volume fraction", "M19", "PD-L1 (tumour-equivalent fraction) giving half its effect";
    // Systemic pools.
    CD8_POOL_TURNOVER = "cd8_pool_turnover", "1/day", "systemic", "relaxation rate of the circulating TCF1+ CD8 precursor pool";
    MYELOID_POOL_TURNOVER = "myeloid_pool_turnover", "1/day", "systemic", "relaxation rate of the circulating myeloid pool";
    // Chemotaxis (speeds per minute, like the transport coefficients).
    CHEMOTAXIS_PRECURSOR = "chemotaxis_precursor", "um2/min/nM", "motility", "chemotactic sensitivity of osteoclast precursors to RANKL (M1)";
    CHEMOTAXIS_CD8 = "chemotaxis_cd8", "um2/min/nM", "motility", "chemotactic sensitivity of CD8 T cells to CCL5 (M19)";
    CHEMOTAXIS_MDSC = "chemotaxis_mdsc", "um2/min/nM", "motility", "chemotactic sensitivity of MDSCs to CXCR2 ligands (M9)";
    CHEMOTAXIS_NEUTROPHIL = "chemotaxis_neutrophil", "um2/min/nM", "motility", "chemotactic sensitivity of immature neutrophils to CXCR2 ligands (M5)";
    CHEMOTAXIS_MACROPHAGE = "chemotaxis_macrophage", "um2/min/nM", "motility", "chemotactic sensitivity of macrophages to CCL5 (M8)";
    MAX_CHEMOTACTIC_SPEED = "max_chemotactic_speed", "um/min", "motility", "speed at which chemotactic drift saturates";
    // Therapy terms: constant effects, 0 (none) .. 1 (full); drugs add to them.
    BLOCKADE_PD1 = "blockade_pd1", "1", "therapy", "PD-1 blockade";
    BLOCKADE_TIGIT = "blockade_tigit", "1", "therapy", "TIGIT blockade";
    BLOCKADE_RANKL = "blockade_rankl", "1", "therapy", "RANKL neutralisation (denosumab)";
    BLOCKADE_DKK1 = "blockade_dkk1", "1", "therapy", "DKK1 neutralisation";
    BLOCKADE_IL1B = "blockade_il1b", "1", "therapy", "IL-1beta blockade";
    BLOCKADE_TBRI = "blockade_tbri", "1", "therapy", "TGF-beta receptor I inhibition";
    BLOCKADE_CXCR2 = "blockade_cxcr2", "1", "therapy", "CXCR2 antagonism";
    BLOCKADE_CSF2 = "blockade_csf2", "1", "therapy", "CSF2 (or PRMT5) inhibition";
    BLOCKADE_TGFB = "blockade_tgfb", "1", "therapy", "TGF-beta ligand neutralisation (engineered HSCs [53])";
    VITAMIN_C = "vitamin_c", "1", "therapy", "vitamin C effect on CXCR2-driven recruitment";
    EFFECT_CHEMO = "effect_chemo", "1", "therapy", "cytotoxic chemotherapy exposure (docetaxel)";
    CHEMO_KILL = "chemo_kill", "1/day", "therapy", "tumour kill rate at full chemotherapy effect";
    EFFECT_PARP = "effect_parp", "1", "therapy", "PARP inhibitor exposure";
    PARP_KILL = "parp_kill", "1/day", "therapy", "tumour kill rate at full PARP-inhibitor effect";
    EFFECT_OC_KILL = "effect_oc_kill", "1", "therapy", "bisphosphonate exposure of osteoclasts";
    OC_KILL = "oc_kill", "1/day", "therapy", "osteoclast removal at full bisphosphonate effect";
    EFFECT_SENOLYTIC = "effect_senolytic", "1", "therapy", "senolytic exposure";
    SENOLYTIC_KILL = "senolytic_kill", "1/day", "therapy", "senescent-osteocyte removal at full senolytic effect";
    EFFECT_CX43 = "effect_cx43", "1", "therapy", "Cx43 hemichannel activation";
}

/// The mechanisms M1-M19 (docs/model.md, Reference), each with a switch `S_M<k>` in the kernel.
pub const MECHANISMS: &[(&str, &str)] = &[
    ("M1", "vicious cycle [3]"),
    ("M2", "DKK1 keeps neutrophils immature, CHI3L3+ [4]"),
    ("M3", "DKK1 inhibits osteoblasts (Wnt)"),
    ("M4", "tumour CSF2 recruits suppressive neutrophils [15]"),
    (
        "M5",
        "CXCR2-driven neutrophil recruitment; vitamin C reduces it [16]",
    ),
    (
        "M6",
        "androgen deprivation: TGF-beta blocks neutrophil cytotoxicity via TbetaRI [17]",
    ),
    ("M7", "EnOBT Wnt polarises macrophages to M2 [19]"),
    (
        "M8",
        "tumour CCL5 recruits and polarises TAMs; M2 TGF-beta [20, 22]",
    ),
    (
        "M9",
        "MDSCs suppress T cells and drive osteoclastogenesis [2, 25]",
    ),
    (
        "M10",
        "TIGIT and IL-1beta carry granulocyte suppression [24]",
    ),
    (
        "M11",
        "osteoclast OPN in plasma impairs CD8 precursor recruitment [5]",
    ),
    (
        "M12",
        "osteoclast apoptotic bodies (Siglec15) block CD8 activation [26]",
    ),
    (
        "M13",
        "Tregs enriched in marrow; Cx43 activation lowers them [9, 11, 29]",
    ),
    (
        "M14",
        "tumour-induced senescent osteocytes; SASP osteoclastogenesis [10]",
    ),
    ("M15", "osteocyte mitochondria -> tumour cGAS/STING [33]"),
    ("M16", "stromal CYP3A4 metabolises chemotherapy [12]"),
    (
        "M17",
        "osteoclast glutamine -> glutathione -> PARPi resistance [43]",
    ),
    ("M18", "lactate, adenosine, kynurenine suppress CTL [44]"),
    ("M19", "CD8 killing and its brakes"),
];

/// Values after the registered parameters and the switches: derived on the host from the
/// parameters, or updated by the host every step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Komarova steady state of the osteoclast number (derived from alpha, beta, g).
    XBar1,
    /// Komarova steady state of the osteoblast number.
    XBar2,
    /// 1 in the well-mixed mode (the bone surface indicator is held at 1).
    WellMixed,
    /// Plasma OPN, nM (systemic pool).
    PlasmaOpn,
    /// Circulating TCF1+ CD8 precursors, relative to health (systemic pool).
    Cd8Pool,
    /// Circulating myeloid cells, relative to health (systemic pool).
    MyeloidPool,
}

impl Slot {
    /// Every slot, in array order.
    pub const ALL: [Slot; 6] = [
        Slot::XBar1,
        Slot::XBar2,
        Slot::WellMixed,
        Slot::PlasmaOpn,
        Slot::Cd8Pool,
        Slot::MyeloidPool,
    ];

    /// Index in the kernel's parameter array.
    pub fn index(self) -> usize {
        PARAMS.len() + MECHANISMS.len() + self as usize
    }

    /// The WGSL constant naming it.
    pub fn wgsl_name(self) -> &'static str {
        match self {
            Slot::XBar1 => "X_XBAR1",
            Slot::XBar2 => "X_XBAR2",
            Slot::WellMixed => "X_WELL_MIXED",
            Slot::PlasmaOpn => "X_PLASMA_OPN",
            Slot::Cd8Pool => "X_CD8_POOL",
            Slot::MyeloidPool => "X_MYELOID_POOL",
        }
    }
}

/// Length of the kernel's parameter array.
pub const ARRAY_LEN: usize = PARAMS.len() + MECHANISMS.len() + Slot::ALL.len();

/// Index of mechanism `k`'s switch (`k` from 1).
pub fn switch_index(k: usize) -> usize {
    PARAMS.len() + k - 1
}

/// The registered parameter called `name`.
pub fn find(name: &str) -> Option<(usize, &'static ParamDef)> {
    PARAMS.iter().enumerate().find(|(_, d)| d.name == name)
}

/// WGSL constants for every array entry: `P_<NAME>`, `S_M<k>` and the slots.
pub fn wgsl_constants() -> String {
    let mut s = String::from("// Generated from src/model/parameters.rs: do not edit.\n");
    for (i, d) in PARAMS.iter().enumerate() {
        s.push_str(&format!(
            "const P_{}: u32 = {i}u; // [{}]\n",
            d.name.to_ascii_uppercase(),
            d.unit
        ));
    }
    for (k, (id, _)) in MECHANISMS.iter().enumerate() {
        s.push_str(&format!("const S_{id}: u32 = {}u;\n", switch_index(k + 1)));
    }
    for slot in Slot::ALL {
        s.push_str(&format!(
            "const {}: u32 = {}u;\n",
            slot.wgsl_name(),
            slot.index()
        ));
    }
    s.push_str(&format!("const N_MODEL_PARAMS: u32 = {ARRAY_LEN}u;\n"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_indices_follow_the_table() {
        for (i, d) in PARAMS.iter().enumerate() {
            assert_eq!(find(d.name).map(|(j, _)| j), Some(i), "{}", d.name);
        }
        assert_eq!(PARAMS[p::ALPHA1].name, "alpha1");
        assert_eq!(PARAMS[p::EFFECT_CX43].name, "effect_cx43");
        assert_eq!(Slot::MyeloidPool.index(), ARRAY_LEN - 1);
        assert_eq!(MECHANISMS.len(), 19);
    }
}

//! The bone-metastasis model's per-voxel terms (docs/model.md, Reference: fields and mechanisms): the Komarova 2003
//! remodelling core at bone surfaces, the tumour, the immune cells and the soluble factors,
//! with mechanisms M1-M19 each behind a switch. CPU mirror of
//! `shaders/shared/biology.wgsl`; `docs/model.md` writes out the equations.
//!
//! All rates are per day; the reaction step converts. Every term is written as production
//! `P >= 0` and loss rate `L >= 0` of a field, so the exponential update keeps it
//! non-negative (see [`super::reactions`]).

use super::SpeciesKind;
use super::SpeciesList;
use super::parameters::{Slot, p, switch_index};
use crate::lanes::{Real, sat};
use crate::model::therapy::Target;

/// The fields the model needs, with their kinds (docs/model.md, Reference: Fields).
pub const MODEL_FIELDS: &[(&str, SpeciesKind, &str)] = &[
    ("bone", SpeciesKind::Bone, "mineralised bone fraction"),
    ("vessels", SpeciesKind::Geometry, "sinusoid density"),
    (
        "surface",
        SpeciesKind::Geometry,
        "bone-surface share: surface_layer_um times the bone-surface area density |grad b| (1/um), recomputed from bone every step",
    ),
    ("tumour", SpeciesKind::Cell, "tumour cells"),
    (
        "oc_precursor",
        SpeciesKind::Cell,
        "osteoclast precursors (monocyte lineage)",
    ),
    (
        "osteoclast",
        SpeciesKind::Cell,
        "active osteoclasts, on bone surfaces",
    ),
    (
        "osteoblast",
        SpeciesKind::Cell,
        "osteoblasts, on bone surfaces",
    ),
    (
        "senescent_osteocyte",
        SpeciesKind::Cell,
        "senescent osteocytes, inside bone",
    ),
    ("cd8", SpeciesKind::Cell, "CD8+ effector T cells"),
    ("cd8_exhausted", SpeciesKind::Cell, "exhausted CD8+ T cells"),
    ("treg", SpeciesKind::Cell, "regulatory T cells"),
    (
        "mdsc",
        SpeciesKind::Cell,
        "myeloid-derived suppressor cells (PD-L1+ monocytic share included)",
    ),
    (
        "neutrophil_immature",
        SpeciesKind::Cell,
        "immature CHI3L3+ neutrophils",
    ),
    (
        "neutrophil_mature",
        SpeciesKind::Cell,
        "mature, cytotoxic neutrophils",
    ),
    (
        "macrophage",
        SpeciesKind::Cell,
        "unpolarised monocyte-derived macrophages",
    ),
    (
        "tam_m2",
        SpeciesKind::Cell,
        "M2-polarised tumour-associated macrophages",
    ),
    ("tgf_beta", SpeciesKind::Factor, "TGF-beta"),
    (
        "rankl",
        SpeciesKind::Factor,
        "RANKL above the homeostatic level",
    ),
    ("opn", SpeciesKind::Factor, "osteopontin in tissue"),
    ("dkk1", SpeciesKind::Factor, "DKK1"),
    ("il1b", SpeciesKind::Factor, "IL-1beta"),
    ("ccl5", SpeciesKind::Factor, "CCL5"),
    (
        "pthrp",
        SpeciesKind::Factor,
        "PTHrP (also the proxy of the tumour secretome reaching bone)",
    ),
    ("csf2", SpeciesKind::Factor, "CSF2 (GM-CSF)"),
    ("cxcl", SpeciesKind::Factor, "CXCR2 ligands, lumped"),
    (
        "lactate",
        SpeciesKind::Factor,
        "lactate (acidity), with adenosine and kynurenine lumped",
    ),
    (
        "wnt",
        SpeciesKind::Factor,
        "Wnt ligands from endothelial-to-osteoblast transition",
    ),
];

/// Field indices of the model's state in a species list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(
    missing_docs,
    reason = "each field is one MODEL_FIELDS entry of the same name"
)]
pub struct ModelIndex {
    pub bone: usize,
    pub vessels: usize,
    pub surface: usize,
    pub tumour: usize,
    pub precursor: usize,
    pub osteoclast: usize,
    pub osteoblast: usize,
    pub senescent: usize,
    pub cd8: usize,
    pub exhausted: usize,
    pub treg: usize,
    pub mdsc: usize,
    pub neut_immature: usize,
    pub neut_mature: usize,
    pub macrophage: usize,
    pub m2: usize,
    pub tgf: usize,
    pub rankl: usize,
    pub opn: usize,
    pub dkk1: usize,
    pub il1b: usize,
    pub ccl5: usize,
    pub pthrp: usize,
    pub csf2: usize,
    pub cxcl: usize,
    pub lactate: usize,
    pub wnt: usize,
}

impl ModelIndex {
    /// Looks every model field up by name; `None` names the first one missing.
    pub fn new(species: &SpeciesList) -> std::result::Result<ModelIndex, &'static str> {
        let i = |name: &'static str| species.index(name).ok_or(name);
        Ok(ModelIndex {
            bone: i("bone")?,
            vessels: i("vessels")?,
            surface: i("surface")?,
            tumour: i("tumour")?,
            precursor: i("oc_precursor")?,
            osteoclast: i("osteoclast")?,
            osteoblast: i("osteoblast")?,
            senescent: i("senescent_osteocyte")?,
            cd8: i("cd8")?,
            exhausted: i("cd8_exhausted")?,
            treg: i("treg")?,
            mdsc: i("mdsc")?,
            neut_immature: i("neutrophil_immature")?,
            neut_mature: i("neutrophil_mature")?,
            macrophage: i("macrophage")?,
            m2: i("tam_m2")?,
            tgf: i("tgf_beta")?,
            rankl: i("rankl")?,
            opn: i("opn")?,
            dkk1: i("dkk1")?,
            il1b: i("il1b")?,
            ccl5: i("ccl5")?,
            pthrp: i("pthrp")?,
            csf2: i("csf2")?,
            cxcl: i("cxcl")?,
            lactate: i("lactate")?,
            wnt: i("wnt")?,
        })
    }

    /// The cells that share the marrow space with bone (lining and embedded cells excluded).
    pub fn marrow_cells(&self) -> [usize; 10] {
        [
            self.tumour,
            self.precursor,
            self.cd8,
            self.exhausted,
            self.treg,
            self.mdsc,
            self.neut_immature,
            self.neut_mature,
            self.macrophage,
            self.m2,
        ]
    }
}

/// Komarova et al. 2003's non-trivial steady state (x1, x2) of
/// `dx1/dt = a1 x1^g11 x2^g21 - b1 x1`, `dx2/dt = a2 x1^g12 x2^g22 - b2 x2`.
pub fn komarova_steady_state(values: &[f32]) -> (f64, f64) {
    let v = |i: usize| values[i] as f64;
    let (a1, a2, b1, b2) = (v(p::ALPHA1), v(p::ALPHA2), v(p::BETA1), v(p::BETA2));
    let (g11, g12, g21, g22) = (v(p::G11), v(p::G12), v(p::G21), v(p::G22));
    let gamma = g12 * g21 - (1.0 - g11) * (1.0 - g22);
    let x1 = (b1 / a1).powf((1.0 - g22) / gamma) * (b2 / a2).powf(g21 / gamma);
    let x2 = (b1 / a1).powf(g12 / gamma) * (b2 / a2).powf((1.0 - g11) / gamma);
    (x1, x2)
}

/// Bone fraction below which resorption stops acting as a rate on the remaining bone
/// (`BONE_FLOOR` in WGSL, from [`wgsl_constants`]).
pub const BONE_FLOOR: f32 = 0.01;

/// The constants `shaders/shared/biology.wgsl` shares with this file, for the react
/// kernel's prelude (written so that WGSL reads back the same f32).
pub fn wgsl_constants() -> String {
    format!("const BONE_FLOOR: f32 = {BONE_FLOOR:e};\n")
}

/// Adds the model's production and loss rates (per day) of every field at one voxel with
/// values `u` (or at eight, in lanes) to `prod` and `loss`; returns the voxel's relative bone
/// resorption rate (per day). Mirror of `biology()` in `shaders/shared/biology.wgsl`.
#[allow(
    clippy::too_many_lines,
    reason = "one term per mechanism, in the order of the docs"
)]
#[inline(always)]
pub fn biology<T: Real>(
    u: &[T],
    ix: &ModelIndex,
    pv: &[f32],
    th: &[T],
    prod: &mut [T],
    loss: &mut [T],
) -> T {
    let sw = |k: usize| T::splat(pv[switch_index(k)]);
    let q = |i: usize| T::splat(pv[i]);
    let one = T::splat(1.0);
    let zero = T::splat(0.0);
    let b = u[ix.bone];
    let vessel = u[ix.vessels];
    // The surface share (surface_layer_um times the bone-surface area density): rates per
    // unit surface scale with it; `near`, the share capped at 1, is how much of the voxel
    // lies at a surface, for effects of nearness to bone.
    let s = u[ix.surface];
    let near = s.min(T::splat(1.0));
    let tumour = u[ix.tumour];
    let pre = u[ix.precursor];
    let oc = u[ix.osteoclast];
    let ob = u[ix.osteoblast];
    let sen = u[ix.senescent];
    let cd8 = u[ix.cd8];
    let tex = u[ix.exhausted];
    let treg = u[ix.treg];
    let mdsc = u[ix.mdsc];
    let ni = u[ix.neut_immature];
    let nm = u[ix.neut_mature];
    let mac = u[ix.macrophage];
    let m2 = u[ix.m2];
    // TGF-beta that reaches its receptors (ligand neutralisation takes its share).
    let tgf = u[ix.tgf] * (one - th[Target::Tgfb as usize]);
    let rankl = u[ix.rankl];
    let opn = u[ix.opn];
    let dkk1 = u[ix.dkk1];
    let il1b = u[ix.il1b];
    let ccl5 = u[ix.ccl5];
    let pthrp = u[ix.pthrp];
    let csf2 = u[ix.csf2];
    let cxcl = u[ix.cxcl];
    let lactate = u[ix.lactate];
    let wnt = u[ix.wnt];

    let mut occupied = b;
    for c in ix.marrow_cells() {
        occupied += u[c];
    }
    let room = (one - occupied).max(zero);
    let rankl_eff = rankl * (one - th[Target::Rankl as usize]);
    let dkk1_eff = dkk1 * (one - th[Target::Dkk1 as usize]);
    let il1b_eff = il1b * (one - th[Target::Il1b as usize]);
    let cd8_pool = q(Slot::Cd8Pool.index());
    let myeloid = q(Slot::MyeloidPool.index());
    let rankl_signal = sat(rankl_eff, q(p::RANKL_K));

    // Remodelling core (Komarova 2003) per unit bone surface, modulated by the mechanisms:
    // only at surfaces (`s > 0`; computed in every lane, kept where it applies; skipped when
    // no lane is at a surface).
    let at_surface = s.gt(zero);
    let mut resorption = zero;
    if T::any(at_surface) {
        let add = |x: &mut T, v: T| *x = T::select(at_surface, *x + v, *x);
        let x1 = oc / (q(p::OC_UNIT) * s);
        let x2 = ob / (q(p::OB_UNIT) * s);
        let x1e = x1.max(q(p::CELL_FLOOR));
        let x2e = x2.max(q(p::CELL_FLOOR));
        let psi_oc = (one + sw(1) * q(p::RANKL_OC_BOOST) * rankl_signal)
            * (one + sw(9) * q(p::MDSC_OC_BOOST) * sat(mdsc, q(p::MDSC_K)))
            * (one + sw(14) * q(p::SASP_OC_BOOST) * sat(sen, q(p::SENESCENT_K)));
        let psi_ob = (one + sw(7) * q(p::WNT_OB_BOOST) * sat(wnt, q(p::WNT_K)))
            / (one + sw(3) * q(p::DKK1_OB_BLOCK) * sat(dkk1_eff, q(p::DKK1_K)));
        add(
            &mut prod[ix.osteoclast],
            s * q(p::OC_UNIT) * q(p::ALPHA1) * x1e.powf(q(p::G11)) * x2e.powf(q(p::G21)) * psi_oc,
        );
        // M3 also uncouples formation from resorption (Ayati et al. 2010's r12 term).
        let g12 = q(p::G12) / (one + sw(3) * q(p::DKK1_DECOUPLING) * sat(dkk1_eff, q(p::DKK1_K)));
        add(
            &mut prod[ix.osteoblast],
            s * q(p::OB_UNIT) * q(p::ALPHA2) * x1e.powf(g12) * x2e.powf(q(p::G22)) * psi_ob,
        );
        let y1 = (x1 - q(Slot::XBar1.index())).max(zero);
        let y2 = (x2 - q(Slot::XBar2.index())).max(zero);
        let resorb = s * q(p::BONE_PER_PERCENT) * q(p::K1) * y1;
        let form = s * q(p::BONE_PER_PERCENT) * q(p::K2) * y2;
        let per_bone = resorb / b.max(T::splat(BONE_FLOOR));
        resorption = T::select(at_surface, per_bone, zero);
        add(&mut prod[ix.bone], form);
        add(&mut loss[ix.bone], per_bone);
        // M1: resorption releases matrix TGF-beta; embedded osteocytes go with the bone.
        add(
            &mut prod[ix.tgf],
            sw(1) * q(p::TGF_MATRIX_RELEASE) * per_bone * b,
        );
        add(&mut loss[ix.senescent], per_bone);
        // M1: precursors fuse into osteoclasts where RANKL reaches a surface.
        let fuse = sw(1) * q(p::PRECURSOR_FUSION) * s * rankl_signal;
        add(&mut loss[ix.precursor], fuse);
        add(&mut prod[ix.osteoclast], fuse * pre);
    }
    loss[ix.osteoclast] += q(p::BETA1) + q(p::OC_KILL) * th[Target::OcKill as usize];
    loss[ix.osteoblast] += q(p::BETA2);

    // Tumour: growth into free room, fed by TGF-beta (M1).
    let tgf_boost = one + sw(1) * q(p::TGF_TUMOUR_BOOST) * sat(tgf, q(p::TGF_K));
    prod[ix.tumour] += q(p::TUMOUR_GROWTH) * tgf_boost * tumour;
    loss[ix.tumour] += q(p::TUMOUR_GROWTH) * tgf_boost * occupied + q(p::TUMOUR_DEATH);
    // M19: CD8 killing and every brake on it.
    let pdl1 = tumour + sw(9) * q(p::PDL1_MDSC_SHARE) * mdsc;
    let granulocytes = mdsc + ni;
    let brakes = (one
        + sw(19)
            * q(p::PD1_SUPPRESSION)
            * sat(pdl1, q(p::PDL1_K))
            * (one - th[Target::Pd1 as usize]))
        * (one
            + sw(10)
                * q(p::TIGIT_SUPPRESSION)
                * sat(granulocytes, q(p::NEUTROPHIL_K))
                * (one - th[Target::Tigit as usize])
                * (one + q(p::IL1B_AMPLIFICATION) * sat(il1b_eff, q(p::IL1B_K))))
        * (one + sw(2) * q(p::CHI3L3_SUPPRESSION) * sat(ni, q(p::NEUTROPHIL_K)))
        * (one + sw(11) * q(p::OPN_LOCAL_SUPPRESSION) * sat(opn, q(p::OPN_K)))
        * (one + sw(13) * q(p::TREG_SUPPRESSION) * sat(treg, q(p::TREG_K)))
        * (one + sw(8) * q(p::M2_SUPPRESSION) * sat(m2, q(p::M2_K)))
        * (one + sw(9) * q(p::MDSC_SUPPRESSION) * sat(mdsc, q(p::MDSC_K)))
        * (one + sw(18) * q(p::LACTATE_SUPPRESSION) * sat(lactate, q(p::LACTATE_K)));
    let sen_share = sat(sen, q(p::SENESCENT_K));
    let immunogenic = one + sw(15) * q(p::STING_IMMUNOGENICITY) * near * (one - sen_share);
    let killers = cd8 + q(p::EXHAUSTED_KILL_SHARE) * tex;
    loss[ix.tumour] += q(p::CD8_KILL) * killers * immunogenic / brakes;
    // M6: mature neutrophils kill; under androgen deprivation TGF-beta blocks them.
    let nm_block = one
        + sw(6)
            * q(p::ANDROGEN_DEPRIVATION)
            * q(p::TGF_NEUTROPHIL_BLOCK)
            * sat(tgf, q(p::TGF_K))
            * (one - th[Target::Tbri as usize]);
    loss[ix.tumour] += q(p::NEUTROPHIL_KILL) * nm / nm_block;
    // M16, M17: drug kill, weakened in the niche.
    loss[ix.tumour] += q(p::CHEMO_KILL) * th[Target::Chemo as usize]
        / (one + sw(16) * q(p::CYP3A4_PROTECTION) * near);
    loss[ix.tumour] += q(p::PARP_KILL) * th[Target::Parp as usize]
        / (one + sw(17) * q(p::GLUTATHIONE_RESISTANCE) * sat(oc, q(p::OSTEOCLAST_K)));

    // Tumour-derived factors.
    prod[ix.pthrp] += q(p::PTHRP_SECRETION) * tumour;
    prod[ix.dkk1] += q(p::DKK1_SECRETION) * tumour;
    prod[ix.csf2] += sw(4) * q(p::CSF2_SECRETION) * tumour;
    prod[ix.cxcl] += q(p::CXCL_SECRETION) * tumour;
    prod[ix.lactate] += sw(18) * q(p::LACTATE_SECRETION) * tumour;
    prod[ix.wnt] += sw(7) * q(p::ENOBT_WNT) * vessel * tumour;
    prod[ix.opn] += q(p::OPN_OSTEOCLAST) * oc + q(p::OPN_TUMOUR) * tumour;
    let tumour_signal = sat(pthrp, q(p::PTHRP_K));
    prod[ix.ccl5] +=
        sw(8) * (q(p::CCL5_SECRETION) * tumour + q(p::CCL5_OSTEOBLAST) * ob * tumour_signal);
    // M1: bone cells answer PTHrP with RANKL; M14: the SASP adds RANKL.
    prod[ix.rankl] += sw(1) * q(p::RANKL_FROM_PTHRP) * tumour_signal * b.max(near)
        + sw(14) * q(p::SASP_RANKL) * sen;

    // M14: osteocytes turn senescent near tumour; clearance and senolytics remove them.
    let sen_drive = sw(14) * q(p::SENESCENCE_RATE) * tumour_signal;
    prod[ix.senescent] += sen_drive * q(p::OSTEOCYTE_DENSITY) * b;
    loss[ix.senescent] += sen_drive
        + q(p::SENESCENT_CLEARANCE)
        + q(p::SENOLYTIC_KILL) * th[Target::Senolytic as usize];

    // M19, M11, M12, M18: CD8 recruitment, expansion, exhaustion.
    let activation = one / (one + sw(12) * q(p::SIGLEC15_BLOCK) * sat(oc, q(p::OSTEOCLAST_K)));
    let acidity = one + sw(18) * q(p::LACTATE_SUPPRESSION) * sat(lactate, q(p::LACTATE_K));
    prod[ix.cd8] += q(p::CD8_RECRUITMENT) * vessel * cd8_pool * activation * room;
    let expansion = q(p::CD8_PROLIFERATION) * sat(tumour, q(p::TUMOUR_K)) * activation / acidity;
    prod[ix.cd8] += expansion * cd8;
    let exhaustion =
        sw(19) * q(p::EXHAUSTION_RATE) * sat(pdl1, q(p::PDL1_K)) * (one - th[Target::Pd1 as usize]);
    loss[ix.cd8] += expansion * occupied + q(p::CD8_DEATH) + exhaustion;
    prod[ix.exhausted] += exhaustion * cd8;
    loss[ix.exhausted] += q(p::EXHAUSTED_DEATH);

    // M13: Tregs.
    prod[ix.treg] += q(p::TREG_RECRUITMENT) * vessel * room;
    loss[ix.treg] +=
        q(p::TREG_DEATH) + sw(13) * q(p::CX43_TREG_DEPLETION) * th[Target::Cx43 as usize];
    prod[ix.tgf] += q(p::TREG_TGF) * treg;

    // Myeloid traffic from the circulating pool.
    let inflow = vessel * myeloid * room;
    prod[ix.precursor] += q(p::PRECURSOR_RECRUITMENT) * inflow;
    loss[ix.precursor] += q(p::PRECURSOR_DEATH);
    let cxcr2 = sat(cxcl, q(p::CXCL_K)) * (one - th[Target::Cxcr2 as usize]);
    prod[ix.mdsc] += q(p::MDSC_RECRUITMENT) * inflow * cxcr2;
    loss[ix.mdsc] += q(p::MDSC_DEATH);
    prod[ix.il1b] += sw(10) * (q(p::IL1B_MDSC) * mdsc + q(p::IL1B_NEUTROPHIL) * ni);
    // M4, M5: immature neutrophils; M2: DKK1 holds their maturation.
    let csf2_signal = sat(csf2 * (one - th[Target::Csf2 as usize]), q(p::CSF2_K));
    prod[ix.neut_immature] += inflow
        * (q(p::NEUTROPHIL_BASAL_RECRUITMENT)
            + sw(4) * q(p::CSF2_RECRUITMENT) * csf2_signal
            + sw(5) * q(p::CXCR2_RECRUITMENT) * cxcr2 * (one - th[Target::VitaminC as usize]));
    let maturation = q(p::NEUTROPHIL_MATURATION)
        / (one + sw(2) * q(p::DKK1_MATURATION_BLOCK) * sat(dkk1_eff, q(p::DKK1_K)));
    loss[ix.neut_immature] += q(p::NEUTROPHIL_DEATH) + maturation;
    prod[ix.neut_mature] += maturation * ni;
    loss[ix.neut_mature] += q(p::MATURE_NEUTROPHIL_DEATH);
    // M7, M8: macrophages polarise to M2 (CCL5, EnOBT Wnt); M2 make TGF-beta.
    prod[ix.macrophage] += q(p::MACROPHAGE_RECRUITMENT) * inflow;
    let polarisation = sw(8) * q(p::CCL5_M2_POLARISATION) * sat(ccl5, q(p::CCL5_K))
        + sw(7) * q(p::WNT_M2_POLARISATION) * sat(wnt, q(p::WNT_K));
    loss[ix.macrophage] += q(p::MACROPHAGE_DEATH) + polarisation;
    prod[ix.m2] += polarisation * mac;
    loss[ix.m2] += q(p::M2_DEATH);
    prod[ix.tgf] += sw(8) * q(p::M2_TGF) * m2;
    resorption
}

/// The model's kernel parameter array (registered parameters, switches, derived values and
/// systemic pools; see [`super::parameters`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelParams {
    /// The array the kernel reads.
    pub values: Vec<f32>,
}

impl ModelParams {
    /// The values of a model file's `parameters` with a preset's `[model]` changes
    /// applied (`set` values, `mechanisms` switches, `well_mixed`); systemic pools start at
    /// their healthy values.
    pub fn new(
        parameters: &std::collections::BTreeMap<String, super::parameters::ParamEntry>,
        set: &std::collections::BTreeMap<String, f64>,
        mechanisms: &std::collections::BTreeMap<String, bool>,
        well_mixed: bool,
    ) -> Self {
        use super::parameters::{ARRAY_LEN, MECHANISMS, PARAMS};
        let mut values = vec![0f32; ARRAY_LEN];
        for (i, d) in PARAMS.iter().enumerate() {
            let v = set
                .get(d.name)
                .copied()
                .unwrap_or_else(|| parameters[d.name].value);
            values[i] = v as f32;
        }
        for (k, (id, _)) in MECHANISMS.iter().enumerate() {
            let on = mechanisms.get(*id).copied().unwrap_or(true);
            values[switch_index(k + 1)] = if on { 1.0 } else { 0.0 };
        }
        let (x1, x2) = komarova_steady_state(&values);
        values[Slot::XBar1.index()] = x1 as f32;
        values[Slot::XBar2.index()] = x2 as f32;
        values[Slot::WellMixed.index()] = if well_mixed { 1.0 } else { 0.0 };
        super::systemic::Systemic::healthy().write(&mut values);
        ModelParams { values }
    }

    /// Value of registered parameter `i` (a [`p`] constant).
    pub fn get(&self, i: usize) -> f32 {
        self.values[i]
    }

    /// Whether mechanism `k` (1..=19) is on.
    pub fn mechanism(&self, k: usize) -> bool {
        self.values[switch_index(k)] != 0.0
    }

    /// Depth of the layer of bone-surface cells, µm (`surface_layer_um`): the surface
    /// share of a voxel per unit of its bone-surface area density.
    pub fn surface_layer_um(&self) -> f32 {
        self.values[p::SURFACE_LAYER]
    }

    /// True in the well-mixed mode.
    pub fn well_mixed(&self) -> bool {
        self.values[Slot::WellMixed.index()] != 0.0
    }
}

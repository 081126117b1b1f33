//! The model reference: one entry per mechanism (and per group of core terms) with its
//! equation, switch, parameters (value, unit, source from the model file) and references.
//! `docs/model.md` embeds [`markdown`] for the shipped model file and a test checks it, so
//! code, data and docs cannot drift.

use super::parameters::{MECHANISMS, PARAMS};
use std::collections::BTreeMap;

use super::parameters::ParamEntry;

/// Notation used in the equations.
pub const NOTATION: &str = "Notation: `S(x, K) = x / (x + K)`; `b` bone fraction, `s` bone-surface share (`surface_layer_um` times the bone-surface area density `|grad b|` in 1/um, so that its volume integral is `surface_layer_um` times the bone surface area on any grid), `near = min(s, 1)`, `V` vessel density; \
`T` tumour, `Pre` osteoclast precursors, `OC`, `OB`, `SEN` senescent osteocytes, `CD8`, `TEX` exhausted CD8, `Treg`, `MDSC`, \
`NI`/`NM` immature/mature neutrophils, `MAC`/`M2` macrophages; `room = 1 - b - (marrow cells)`; `Mk` is 1 when the switch is on. \
`E_x` are the therapy terms (constant, 0..1). Rates per day; `P_f` adds production of field `f`, `L_f` adds a loss rate.";

/// The equation of each group, in the order of the reference.
pub const EQUATIONS: &[(&str, &str, &str)] = &[
    (
        "core",
        "Remodelling core (Komarova et al. 2003)",
        "Per unit surface `x1 = OC / (oc_unit s)`, `x2 = OB / (ob_unit s)` (floored at `cell_floor` inside the powers): `P_OC = s oc_unit alpha1 x1^g11 x2^g21 psi_OC`, `L_OC = beta1`; `P_OB = s ob_unit alpha2 x1^g12' x2^g22 psi_OB`, `L_OB = beta2`; bone `db/dt = s bone_per_percent (-k1 y1 + k2 y2)` with `yi = max(0, xi - xi_bar)` and `xi_bar` Komarova's steady state of the unmodified core. `psi_OC`, `psi_OB`, `g12'` are 1, 1, `g12` with every mechanism off: the core is then Komarova's ODE on every unit of bone surface, and bone moves at the normal speed `surface_layer_um bone_per_percent (k2 y2 - k1 y1)`.",
    ),
    (
        "M1",
        "",
        "`P_PTHrP = pthrp_secretion T`; `P_RANKL += M1 rankl_from_pthrp S(PTHrP, pthrp_k) max(b, near)` (RANKL above the homeostatic level); `psi_OC *= 1 + M1 rankl_oc_boost S(RANKL (1 - E_rankl), rankl_k)`; precursors fuse at surfaces: `L_Pre += f`, `P_OC += f Pre`, `f = M1 precursor_fusion s S(RANKL_eff, rankl_k)`; resorption releases matrix TGF-beta: `P_TGF += M1 tgf_matrix_release R` (R = bone resorbed per day); tumour growth times `1 + M1 tgf_tumour_boost S(TGF, tgf_k)`.",
    ),
    (
        "M2",
        "",
        "`P_DKK1 = dkk1_secretion T`; maturation `NI -> NM` at `neutrophil_maturation / (1 + M2 dkk1_maturation_block S(DKK1 (1 - E_dkk1), dkk1_k))`; CD8 brake `1 + M2 chi3l3_suppression S(NI, neutrophil_k)`.",
    ),
    (
        "M3",
        "",
        "`psi_OB /= 1 + M3 dkk1_ob_block S(DKK1_eff, dkk1_k)`; `g12' = g12 / (1 + M3 dkk1_decoupling S(DKK1_eff, dkk1_k))` (formation uncoupled from resorption, Ayati et al. 2010's r12).",
    ),
    (
        "M4",
        "",
        "`P_CSF2 = M4 csf2_secretion T`; `P_NI += V My room M4 csf2_recruitment S(CSF2 (1 - E_csf2), csf2_k)`; systemic myeloid pool target `1 + M4 csf2_myelopoiesis S(mean CSF2, csf2_k)`.",
    ),
    (
        "M5",
        "",
        "`P_CXCL = cxcl_secretion T`; `P_NI += V My room M5 cxcr2_recruitment S(CXCL, cxcl_k) (1 - E_cxcr2) (1 - E_vitc)`; immature neutrophils drift up CXCL (chemotaxis).",
    ),
    (
        "M6",
        "",
        "Neutrophil kill `L_T += neutrophil_kill NM / (1 + M6 androgen_deprivation tgf_neutrophil_block S(TGF, tgf_k) (1 - E_tbri))`.",
    ),
    (
        "M7",
        "",
        "`P_Wnt = M7 enobt_wnt V T`; polarisation `MAC -> M2` at `+ M7 wnt_m2_polarisation S(Wnt, wnt_k)`; `psi_OB *= 1 + M7 wnt_ob_boost S(Wnt, wnt_k)`.",
    ),
    (
        "M8",
        "",
        "`P_CCL5 = M8 (ccl5_secretion T + ccl5_osteoblast OB S(PTHrP, pthrp_k))`; polarisation `MAC -> M2` at `M8 ccl5_m2_polarisation S(CCL5, ccl5_k)`; `P_TGF += M8 m2_tgf M2`; CD8 brake `1 + M8 m2_suppression S(M2, m2_k)`; macrophages drift up CCL5.",
    ),
    (
        "M9",
        "",
        "`P_MDSC = mdsc_recruitment V My room S(CXCL, cxcl_k) (1 - E_cxcr2)`; CD8 brake `1 + M9 mdsc_suppression S(MDSC, mdsc_k)`; PD-L1 `T + M9 pdl1_mdsc_share MDSC`; `psi_OC *= 1 + M9 mdsc_oc_boost S(MDSC, mdsc_k)`; MDSCs drift up CXCL.",
    ),
    (
        "M10",
        "",
        "`P_IL1b = M10 (il1b_mdsc MDSC + il1b_neutrophil NI)`; CD8 brake `1 + M10 tigit_suppression S(MDSC + NI, neutrophil_k) (1 - E_tigit) (1 + il1b_amplification S(IL1b (1 - E_il1b), il1b_k))`.",
    ),
    (
        "M11",
        "",
        "`P_OPN = opn_osteoclast OC + opn_tumour T`; plasma OPN `dP/dt = opn_plasma_input mean(OPN) - opn_plasma_clearance P`; CD8 precursor pool target `1 / (1 + M11 opn_recruitment_block S(P, opn_k))`; CD8 brake `1 + M11 opn_local_suppression S(OPN, opn_k)`.",
    ),
    (
        "M12",
        "",
        "CD8 activation (recruitment and expansion) divided by `1 + M12 siglec15_block S(OC, osteoclast_k)`.",
    ),
    (
        "M13",
        "",
        "`P_Treg = treg_recruitment V room`, `L_Treg = treg_death + M13 cx43_treg_depletion E_cx43`; `P_TGF += treg_tgf Treg`; CD8 brake `1 + M13 treg_suppression S(Treg, treg_k)`.",
    ),
    (
        "M14",
        "",
        "`P_SEN = d osteocyte_density b`, `L_SEN = d + senescent_clearance + senolytic_kill E_senolytic + R / b`, `d = M14 senescence_rate S(PTHrP, pthrp_k)`; `P_RANKL += M14 sasp_rankl SEN`; `psi_OC *= 1 + M14 sasp_oc_boost S(SEN, senescent_k)`.",
    ),
    (
        "M15",
        "",
        "CD8 kill times `1 + M15 sting_immunogenicity near (1 - S(SEN, senescent_k))` (tumour touching healthy bone).",
    ),
    (
        "M16",
        "",
        "`L_T += chemo_kill E_chemo / (1 + M16 cyp3a4_protection near)`.",
    ),
    (
        "M17",
        "",
        "`L_T += parp_kill E_parp / (1 + M17 glutathione_resistance S(OC, osteoclast_k))`.",
    ),
    (
        "M18",
        "",
        "`P_lactate = M18 lactate_secretion T`; CD8 brake and expansion divisor `1 + M18 lactate_suppression S(lactate, lactate_k)`.",
    ),
    (
        "M19",
        "",
        "`L_T += cd8_kill (CD8 + exhausted_kill_share TEX) immunogenicity / brakes`, brakes the product of the `1 + ...` factors of M2, M8-M11, M13, M18 and `1 + M19 pd1_suppression S(PD-L1, pdl1_k) (1 - E_pd1)`; `P_CD8 = cd8_recruitment V C8 activation room + e CD8`, `L_CD8 = e occupied + cd8_death + x`, `e = cd8_proliferation S(T, tumour_k) activation / acidity`, exhaustion `x = M19 exhaustion_rate S(PD-L1, pdl1_k) (1 - E_pd1)`, `P_TEX = x CD8`; CD8 drift up CCL5.",
    ),
    (
        "cells",
        "Cell turnover",
        "Tumour `P_T = tumour_growth g T`, `L_T = tumour_growth g occupied + tumour_death` (`g` the M1 boost); myeloid inflow `V My room` times `precursor_recruitment`, `neutrophil_basal_recruitment`, `macrophage_recruitment`; deaths as listed.",
    ),
    (
        "systemic",
        "Systemic pools",
        "Host ODE once per step, exact for frozen inputs: plasma OPN (M11), circulating CD8 precursors `C8` and myeloid cells `My` relaxing to their targets at `cd8_pool_turnover`, `myeloid_pool_turnover` (1 = tumour-free).",
    ),
    (
        "motility",
        "Chemotaxis",
        "Upwind drift of a cell field up an attractant, face speed `vmax g / (vmax + |g|)`, `g = chi dA / dx`, closed into bone; sub-steps with `6 vmax dt / dx <= 1`. Pairs: precursors-RANKL (M1), CD8-CCL5 (M19), MDSC-CXCL (M9), immature neutrophils-CXCL (M5), macrophages-CCL5 (M8).",
    ),
    (
        "therapy",
        "Therapy terms",
        "Constant effects `E_x` in 0..1 and the kill rates they scale; the pharmacology issue adds drugs whose Emax/Hill effects add to them.",
    ),
];

/// The reference in Markdown, with each field's transport source (`species_sources`, by
/// field name) and the parameters' values and sources of a model file.
pub fn markdown(
    species_sources: &BTreeMap<String, String>,
    parameters: &BTreeMap<String, ParamEntry>,
) -> String {
    let mut s = String::from(
        "### Fields\n\n| field | kind | what | transport source |\n|---|---|---|---|\n",
    );
    for (name, kind, what) in super::biology::MODEL_FIELDS {
        let source = species_sources
            .get(*name)
            .map(String::as_str)
            .unwrap_or("missing");
        s.push_str(&format!(
            "| `{name}` | {} | {what} | {source} |\n",
            kind.as_str()
        ));
    }
    s.push('\n');
    s.push_str(NOTATION);
    s.push_str("\n\n");
    for (group, title, equation) in EQUATIONS {
        let title = if title.is_empty() {
            let t = MECHANISMS
                .iter()
                .find(|(id, _)| id == group)
                .map(|(_, t)| *t)
                .unwrap_or_default();
            format!("{group}: {t} (switch `{group}`)")
        } else {
            title.to_string()
        };
        s.push_str(&format!("### {title}\n\n{equation}\n\n"));
        let params: Vec<_> = PARAMS.iter().filter(|d| d.group == *group).collect();
        if params.is_empty() {
            continue;
        }
        s.push_str("| parameter | value | unit | meaning | source |\n|---|---|---|---|---|\n");
        for d in params {
            let (value, source) = parameters
                .get(d.name)
                .map(|e| (format!("{}", e.value), e.source.as_str()))
                .unwrap_or(("missing".into(), ""));
            s.push_str(&format!(
                "| `{}` | {} | {} | {} | {} |\n",
                d.name, value, d.unit, d.meaning, source
            ));
        }
        s.push('\n');
    }
    s
}

// The bone-metastasis model's per-voxel terms: the Komarova 2003 remodelling core at bone
// surfaces, tumour, immune cells and soluble factors, mechanisms M1-M19 each behind a
// switch S_M<k>. Mirror of src/model/biology.rs (same order, same names); docs/model.md
// writes out the equations. Rates are per day. Bound by the react kernel as `model`.

// BONE_FLOOR comes from the generated prelude (model::biology::BONE_FLOOR).

fn q(i: u32) -> f32 {
    return model[i];
}

fn sat(x: f32, k: f32) -> f32 {
    return x / (x + k);
}

// `th` holds the therapy effects (the model's constants combined with the drugs' local
// effects, see shared/drugs.wgsl); returns the relative resorption rate of the voxel's bone
// (per day), which releases bone-bound drug.
fn biology(u: ptr<function, array<f32, NF>>, th: ptr<function, array<f32, NT>>,
           prod: ptr<function, array<f32, NF>>, loss: ptr<function, array<f32, NF>>) -> f32 {
    let b = (*u)[F_BONE];
    let vessel = (*u)[F_VESSELS];
    // The surface share (surface_layer_um times the bone-surface area density): rates per
    // unit surface scale with it; `near`, the share capped at 1, is how much of the voxel
    // lies at a surface, for effects of nearness to bone.
    let s = (*u)[F_SURFACE];
    let near = min(s, 1.0);
    let tumour = (*u)[F_TUMOUR];
    let pre = (*u)[F_OC_PRECURSOR];
    let oc = (*u)[F_OSTEOCLAST];
    let ob = (*u)[F_OSTEOBLAST];
    let sen = (*u)[F_SENESCENT_OSTEOCYTE];
    let cd8 = (*u)[F_CD8];
    let tex = (*u)[F_CD8_EXHAUSTED];
    let treg = (*u)[F_TREG];
    let mdsc = (*u)[F_MDSC];
    let ni = (*u)[F_NEUTROPHIL_IMMATURE];
    let nm = (*u)[F_NEUTROPHIL_MATURE];
    let mac = (*u)[F_MACROPHAGE];
    let m2 = (*u)[F_TAM_M2];
    // TGF-beta that reaches its receptors (ligand neutralisation takes its share).
    let tgf = (*u)[F_TGF_BETA] * (1.0 - (*th)[T_TGFB]);
    let rankl = (*u)[F_RANKL];
    let opn = (*u)[F_OPN];
    let dkk1 = (*u)[F_DKK1];
    let il1b = (*u)[F_IL1B];
    let ccl5 = (*u)[F_CCL5];
    let pthrp = (*u)[F_PTHRP];
    let csf2 = (*u)[F_CSF2];
    let cxcl = (*u)[F_CXCL];
    let lactate = (*u)[F_LACTATE];
    let wnt = (*u)[F_WNT];

    let occupied = b + tumour + pre + cd8 + tex + treg + mdsc + ni + nm + mac + m2;
    let room = max(1.0 - occupied, 0.0);
    let rankl_eff = rankl * (1.0 - (*th)[T_RANKL]);
    let dkk1_eff = dkk1 * (1.0 - (*th)[T_DKK1]);
    let il1b_eff = il1b * (1.0 - (*th)[T_IL1B]);
    let cd8_pool = q(X_CD8_POOL);
    let myeloid = q(X_MYELOID_POOL);
    let rankl_signal = sat(rankl_eff, q(P_RANKL_K));

    var resorption = 0.0;
    // Remodelling core (Komarova 2003) per unit bone surface, modulated by the mechanisms.
    if (s > 0.0) {
        let x1 = oc / (q(P_OC_UNIT) * s);
        let x2 = ob / (q(P_OB_UNIT) * s);
        let x1e = max(x1, q(P_CELL_FLOOR));
        let x2e = max(x2, q(P_CELL_FLOOR));
        let psi_oc = (1.0 + q(S_M1) * q(P_RANKL_OC_BOOST) * rankl_signal)
            * (1.0 + q(S_M9) * q(P_MDSC_OC_BOOST) * sat(mdsc, q(P_MDSC_K)))
            * (1.0 + q(S_M14) * q(P_SASP_OC_BOOST) * sat(sen, q(P_SENESCENT_K)));
        let psi_ob = (1.0 + q(S_M7) * q(P_WNT_OB_BOOST) * sat(wnt, q(P_WNT_K)))
            / (1.0 + q(S_M3) * q(P_DKK1_OB_BLOCK) * sat(dkk1_eff, q(P_DKK1_K)));
        (*prod)[F_OSTEOCLAST] += s * q(P_OC_UNIT) * q(P_ALPHA1) * pow(x1e, q(P_G11))
            * pow(x2e, q(P_G21)) * psi_oc;
        // M3 also uncouples formation from resorption (Ayati et al. 2010's r12 term).
        let g12 = q(P_G12) / (1.0 + q(S_M3) * q(P_DKK1_DECOUPLING) * sat(dkk1_eff, q(P_DKK1_K)));
        (*prod)[F_OSTEOBLAST] += s * q(P_OB_UNIT) * q(P_ALPHA2) * pow(x1e, g12)
            * pow(x2e, q(P_G22)) * psi_ob;
        let y1 = max(x1 - q(X_XBAR1), 0.0);
        let y2 = max(x2 - q(X_XBAR2), 0.0);
        let resorb = s * q(P_BONE_PER_PERCENT) * q(P_K1) * y1;
        let form = s * q(P_BONE_PER_PERCENT) * q(P_K2) * y2;
        let per_bone = resorb / max(b, BONE_FLOOR);
        resorption = per_bone;
        (*prod)[F_BONE] += form;
        (*loss)[F_BONE] += per_bone;
        // M1: resorption releases matrix TGF-beta; embedded osteocytes go with the bone.
        (*prod)[F_TGF_BETA] += q(S_M1) * q(P_TGF_MATRIX_RELEASE) * per_bone * b;
        (*loss)[F_SENESCENT_OSTEOCYTE] += per_bone;
        // M1: precursors fuse into osteoclasts where RANKL reaches a surface.
        let fuse = q(S_M1) * q(P_PRECURSOR_FUSION) * s * rankl_signal;
        (*loss)[F_OC_PRECURSOR] += fuse;
        (*prod)[F_OSTEOCLAST] += fuse * pre;
    }
    (*loss)[F_OSTEOCLAST] += q(P_BETA1) + q(P_OC_KILL) * (*th)[T_OC_KILL];
    (*loss)[F_OSTEOBLAST] += q(P_BETA2);

    // Tumour: growth into free room, fed by TGF-beta (M1).
    let tgf_boost = 1.0 + q(S_M1) * q(P_TGF_TUMOUR_BOOST) * sat(tgf, q(P_TGF_K));
    (*prod)[F_TUMOUR] += q(P_TUMOUR_GROWTH) * tgf_boost * tumour;
    (*loss)[F_TUMOUR] += q(P_TUMOUR_GROWTH) * tgf_boost * occupied + q(P_TUMOUR_DEATH);
    // M19: CD8 killing and every brake on it.
    let pdl1 = tumour + q(S_M9) * q(P_PDL1_MDSC_SHARE) * mdsc;
    let granulocytes = mdsc + ni;
    let brakes = (1.0 + q(S_M19) * q(P_PD1_SUPPRESSION) * sat(pdl1, q(P_PDL1_K))
            * (1.0 - (*th)[T_PD1]))
        * (1.0 + q(S_M10) * q(P_TIGIT_SUPPRESSION) * sat(granulocytes, q(P_NEUTROPHIL_K))
            * (1.0 - (*th)[T_TIGIT])
            * (1.0 + q(P_IL1B_AMPLIFICATION) * sat(il1b_eff, q(P_IL1B_K))))
        * (1.0 + q(S_M2) * q(P_CHI3L3_SUPPRESSION) * sat(ni, q(P_NEUTROPHIL_K)))
        * (1.0 + q(S_M11) * q(P_OPN_LOCAL_SUPPRESSION) * sat(opn, q(P_OPN_K)))
        * (1.0 + q(S_M13) * q(P_TREG_SUPPRESSION) * sat(treg, q(P_TREG_K)))
        * (1.0 + q(S_M8) * q(P_M2_SUPPRESSION) * sat(m2, q(P_M2_K)))
        * (1.0 + q(S_M9) * q(P_MDSC_SUPPRESSION) * sat(mdsc, q(P_MDSC_K)))
        * (1.0 + q(S_M18) * q(P_LACTATE_SUPPRESSION) * sat(lactate, q(P_LACTATE_K)));
    let sen_share = sat(sen, q(P_SENESCENT_K));
    let immunogenic = 1.0 + q(S_M15) * q(P_STING_IMMUNOGENICITY) * near * (1.0 - sen_share);
    let killers = cd8 + q(P_EXHAUSTED_KILL_SHARE) * tex;
    (*loss)[F_TUMOUR] += q(P_CD8_KILL) * killers * immunogenic / brakes;
    // M6: mature neutrophils kill; under androgen deprivation TGF-beta blocks them.
    let nm_block = 1.0 + q(S_M6) * q(P_ANDROGEN_DEPRIVATION) * q(P_TGF_NEUTROPHIL_BLOCK)
        * sat(tgf, q(P_TGF_K)) * (1.0 - (*th)[T_TBRI]);
    (*loss)[F_TUMOUR] += q(P_NEUTROPHIL_KILL) * nm / nm_block;
    // M16, M17: drug kill, weakened in the niche.
    (*loss)[F_TUMOUR] += q(P_CHEMO_KILL) * (*th)[T_CHEMO]
        / (1.0 + q(S_M16) * q(P_CYP3A4_PROTECTION) * near);
    (*loss)[F_TUMOUR] += q(P_PARP_KILL) * (*th)[T_PARP]
        / (1.0 + q(S_M17) * q(P_GLUTATHIONE_RESISTANCE) * sat(oc, q(P_OSTEOCLAST_K)));

    // Tumour-derived factors.
    (*prod)[F_PTHRP] += q(P_PTHRP_SECRETION) * tumour;
    (*prod)[F_DKK1] += q(P_DKK1_SECRETION) * tumour;
    (*prod)[F_CSF2] += q(S_M4) * q(P_CSF2_SECRETION) * tumour;
    (*prod)[F_CXCL] += q(P_CXCL_SECRETION) * tumour;
    (*prod)[F_LACTATE] += q(S_M18) * q(P_LACTATE_SECRETION) * tumour;
    (*prod)[F_WNT] += q(S_M7) * q(P_ENOBT_WNT) * vessel * tumour;
    (*prod)[F_OPN] += q(P_OPN_OSTEOCLAST) * oc + q(P_OPN_TUMOUR) * tumour;
    let tumour_signal = sat(pthrp, q(P_PTHRP_K));
    (*prod)[F_CCL5] += q(S_M8) * (q(P_CCL5_SECRETION) * tumour
        + q(P_CCL5_OSTEOBLAST) * ob * tumour_signal);
    // M1: bone cells answer PTHrP with RANKL; M14: the SASP adds RANKL.
    (*prod)[F_RANKL] += q(S_M1) * q(P_RANKL_FROM_PTHRP) * tumour_signal * max(b, near)
        + q(S_M14) * q(P_SASP_RANKL) * sen;

    // M14: osteocytes turn senescent near tumour; clearance and senolytics remove them.
    let sen_drive = q(S_M14) * q(P_SENESCENCE_RATE) * tumour_signal;
    (*prod)[F_SENESCENT_OSTEOCYTE] += sen_drive * q(P_OSTEOCYTE_DENSITY) * b;
    (*loss)[F_SENESCENT_OSTEOCYTE] += sen_drive + q(P_SENESCENT_CLEARANCE)
        + q(P_SENOLYTIC_KILL) * (*th)[T_SENOLYTIC];

    // M19, M11, M12, M18: CD8 recruitment, expansion, exhaustion.
    let activation = 1.0 / (1.0 + q(S_M12) * q(P_SIGLEC15_BLOCK) * sat(oc, q(P_OSTEOCLAST_K)));
    let acidity = 1.0 + q(S_M18) * q(P_LACTATE_SUPPRESSION) * sat(lactate, q(P_LACTATE_K));
    (*prod)[F_CD8] += q(P_CD8_RECRUITMENT) * vessel * cd8_pool * activation * room;
    let expansion = q(P_CD8_PROLIFERATION) * sat(tumour, q(P_TUMOUR_K)) * activation / acidity;
    (*prod)[F_CD8] += expansion * cd8;
    let exhaustion = q(S_M19) * q(P_EXHAUSTION_RATE) * sat(pdl1, q(P_PDL1_K))
        * (1.0 - (*th)[T_PD1]);
    (*loss)[F_CD8] += expansion * occupied + q(P_CD8_DEATH) + exhaustion;
    (*prod)[F_CD8_EXHAUSTED] += exhaustion * cd8;
    (*loss)[F_CD8_EXHAUSTED] += q(P_EXHAUSTED_DEATH);

    // M13: Tregs.
    (*prod)[F_TREG] += q(P_TREG_RECRUITMENT) * vessel * room;
    (*loss)[F_TREG] += q(P_TREG_DEATH) + q(S_M13) * q(P_CX43_TREG_DEPLETION) * (*th)[T_CX43];
    (*prod)[F_TGF_BETA] += q(P_TREG_TGF) * treg;

    // Myeloid traffic from the circulating pool.
    let inflow = vessel * myeloid * room;
    (*prod)[F_OC_PRECURSOR] += q(P_PRECURSOR_RECRUITMENT) * inflow;
    (*loss)[F_OC_PRECURSOR] += q(P_PRECURSOR_DEATH);
    let cxcr2 = sat(cxcl, q(P_CXCL_K)) * (1.0 - (*th)[T_CXCR2]);
    (*prod)[F_MDSC] += q(P_MDSC_RECRUITMENT) * inflow * cxcr2;
    (*loss)[F_MDSC] += q(P_MDSC_DEATH);
    (*prod)[F_IL1B] += q(S_M10) * (q(P_IL1B_MDSC) * mdsc + q(P_IL1B_NEUTROPHIL) * ni);
    // M4, M5: immature neutrophils; M2: DKK1 holds their maturation.
    let csf2_signal = sat(csf2 * (1.0 - (*th)[T_CSF2]), q(P_CSF2_K));
    (*prod)[F_NEUTROPHIL_IMMATURE] += inflow * (q(P_NEUTROPHIL_BASAL_RECRUITMENT)
        + q(S_M4) * q(P_CSF2_RECRUITMENT) * csf2_signal
        + q(S_M5) * q(P_CXCR2_RECRUITMENT) * cxcr2 * (1.0 - (*th)[T_VITAMIN_C]));
    let maturation = q(P_NEUTROPHIL_MATURATION)
        / (1.0 + q(S_M2) * q(P_DKK1_MATURATION_BLOCK) * sat(dkk1_eff, q(P_DKK1_K)));
    (*loss)[F_NEUTROPHIL_IMMATURE] += q(P_NEUTROPHIL_DEATH) + maturation;
    (*prod)[F_NEUTROPHIL_MATURE] += maturation * ni;
    (*loss)[F_NEUTROPHIL_MATURE] += q(P_MATURE_NEUTROPHIL_DEATH);
    // M7, M8: macrophages polarise to M2 (CCL5, EnOBT Wnt); M2 make TGF-beta.
    (*prod)[F_MACROPHAGE] += q(P_MACROPHAGE_RECRUITMENT) * inflow;
    let polarisation = q(S_M8) * q(P_CCL5_M2_POLARISATION) * sat(ccl5, q(P_CCL5_K))
        + q(S_M7) * q(P_WNT_M2_POLARISATION) * sat(wnt, q(P_WNT_K));
    (*loss)[F_MACROPHAGE] += q(P_MACROPHAGE_DEATH) + polarisation;
    (*prod)[F_TAM_M2] += polarisation * mac;
    (*loss)[F_TAM_M2] += q(P_M2_DEATH);
    (*prod)[F_TGF_BETA] += q(S_M8) * q(P_M2_TGF) * m2;
    return resorption;
}

// Drugs in tissue: pharmacodynamic effects on the therapy array, and one backward-Euler
// step of each drug's pools (free, bone-bound, carrier, bone-anchored carrier) with the
// amounts exchanged with plasma and eliminated written to the drug's ledger fields. Mirror
// of src/pharma/tissue.rs, which writes out the equations. Bound by the react kernel;
// reads the drug blocks after the model's parameters in `model`.

fn drug_field(b: u32, s: u32) -> i32 {
    return i32(model[b + s]);
}

fn drug_sat(x: f32, k: f32) -> f32 {
    return x / (x + k);
}

fn drug_effects(u: ptr<function, array<f32, NF>>, th: ptr<function, array<f32, NT>>) {
    let n = u32(model[DRUG_HEADER]);
    for (var d = 0u; d < n; d++) {
        let b = DRUG_BASE + d * D_STRIDE;
        var c = (*u)[u32(model[b + D_FREE])];
        let fb = drug_field(b, D_BOUND);
        if (fb >= 0) {
            c += min((*u)[F_SURFACE], 1.0) * (*u)[u32(fb)];
        }
        if (c <= 0.0) {
            continue;
        }
        let nt = u32(model[b + D_N_TARGETS]);
        for (var t = 0u; t < nt; t++) {
            let o = b + D_TARGETS + 4u * t;
            let r = pow(c / model[o + 2u], model[o + 3u]);
            let e = model[o + 1u] * r / (1.0 + r);
            let k = u32(model[o]);
            (*th)[k] = 1.0 - (1.0 - (*th)[k]) * (1.0 - e);
        }
    }
}

fn drug_pools(u: ptr<function, array<f32, NF>>, resorption: f32, v: u32) {
    let n = u32(model[DRUG_HEADER]);
    let vessel = (*u)[F_VESSELS];
    let s = (*u)[F_SURFACE];
    let r = resorption / 1440.0;
    let dt = step.dt;
    for (var d = 0u; d < n; d++) {
        let b = DRUG_BASE + d * D_STRIDE;
        let ff = u32(model[b + D_FREE]);
        let fb = drug_field(b, D_BOUND);
        let fc = drug_field(b, D_CARRIER);
        let fk = drug_field(b, D_CARRIER_BOUND);
        let pf = model[b + D_PERM] * vessel;
        let uptake = pf * model[b + D_PLASMA];
        var k_fb = 0.0;
        var r_bf = 0.0;
        var b0 = 0.0;
        if (fb >= 0) {
            k_fb = model[b + D_BIND] * s;
            r_bf = r;
            b0 = (*u)[u32(fb)];
        }
        var c = 0.0;
        var k = 0.0;
        var released = 0.0;
        var c_uptake = 0.0;
        var pc = 0.0;
        if (fc >= 0) {
            pc = model[b + D_PERM_CARRIER] * vessel;
            let epr = 1.0 + model[b + D_EPR] * drug_sat((*u)[F_TUMOUR], model[b + D_EPR_K]);
            c_uptake = pc * epr * model[b + D_PLASMA_CARRIER];
            let ros = (*u)[F_MDSC] + (*u)[F_NEUTROPHIL_IMMATURE];
            let rel = model[b + D_RELEASE]
                * (1.0 + model[b + D_ACID] * drug_sat((*u)[F_LACTATE], model[b + D_ACID_K])
                    + model[b + D_ROS] * drug_sat(ros, model[b + D_ROS_K]));
            var k_ck = 0.0;
            var r_kc = 0.0;
            var k0 = 0.0;
            if (fk >= 0) {
                k_ck = model[b + D_CARRIER_BIND] * s;
                r_kc = r;
                k0 = (*u)[u32(fk)];
            }
            let kc = model[b + D_DECAY_CARRIER];
            let a11 = 1.0 + dt * (pc + kc + rel + k_ck);
            let a12 = -dt * r_kc;
            let a21 = -dt * k_ck;
            let a22 = 1.0 + dt * (rel + r_kc + kc);
            let rhs1 = (*u)[u32(fc)] + dt * c_uptake;
            let det = a11 * a22 - a12 * a21;
            c = (rhs1 * a22 - a12 * k0) / det;
            k = (a11 * k0 - a21 * rhs1) / det;
            released = rel * (c + k);
        }
        let kd = model[b + D_DECAY];
        let a11 = 1.0 + dt * (pf + kd + k_fb);
        let a12 = -dt * r_bf;
        let a21 = -dt * k_fb;
        let a22 = 1.0 + dt * r_bf;
        let rhs1 = (*u)[ff] + dt * (uptake + released);
        let det = a11 * a22 - a12 * a21;
        let f = (rhs1 * a22 - a12 * b0) / det;
        let bound = (a11 * b0 - a21 * rhs1) / det;
        store(ff, v, f);
        if (fb >= 0) {
            store(u32(fb), v, bound);
        }
        if (fc >= 0) {
            store(u32(fc), v, c);
        }
        if (fk >= 0) {
            store(u32(fk), v, k);
        }
        store(u32(model[b + D_UPTAKE]), v, dt * uptake);
        store(u32(model[b + D_RETURN]), v, dt * pf * f);
        store(u32(model[b + D_CLEARED]), v, dt * (kd * f + model[b + D_DECAY_CARRIER] * (c + k)));
        let fcu = drug_field(b, D_CARRIER_UPTAKE);
        if (fcu >= 0) {
            store(u32(fcu), v, dt * c_uptake);
        }
        let fcr = drug_field(b, D_CARRIER_RETURN);
        if (fcr >= 0) {
            store(u32(fcr), v, dt * pc * c);
        }
    }
}

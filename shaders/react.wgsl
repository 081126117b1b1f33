// Per-voxel reactions: every field's production and loss from rates() in
// shared/model.wgsl plus, with the bone-metastasis model, biology() in
// shared/biology.wgsl (per day), then the exponential update; a field the implicit solver
// advances keeps its value and hands its rates to the solve. With drugs, their local
// effects (shared/drugs.wgsl) set the therapy terms biology() reads, and their pools take
// one backward-Euler step of their own. CPU mirror: src/cpu/react.rs.

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> species: array<SpeciesRates>;
@group(0) @binding(2) var<storage, read> model: array<f32>;
// Production and loss rates of the fields the implicit solver advances (two per slot).
@group(0) @binding(3) var<storage, read_write> implicit_rates: array<f32>;
// Bindings 4.. are the field chunks, declared with load()/store() in the generated prelude.

// PER_DAY (days per minute: the model's rates are per day, the step is in minutes) comes
// from the generated prelude (model::reactions::PER_DAY).

@compute @workgroup_size(WG)
fn react(@builtin(global_invocation_id) gid: vec3<u32>) {
    let v = gid.x + gid.y * MAX_GROUPS * WG;
    if (v >= NV) {
        return;
    }
    var u: array<f32, NF>;
    var bp: array<f32, NF>;
    var bl: array<f32, NF>;
    for (var f = 0u; f < NF; f++) {
        u[f] = load(f, v);
    }
    var th: array<f32, NT>;
    var resorption = 0.0;
    // Fields from here on are drug pools and ledgers, advanced by drug_pools().
    var first_drug = NF;
    if (MODEL_ON) {
        therapy_defaults(&th);
        drug_effects(&u, &th);
        resorption = biology(&u, &th, &bp, &bl);
        first_drug = u32(model[DRUG_HEADER + 1u]);
    }
    for (var f = 0u; f < first_drug; f++) {
        let pl = rates(f, &u, species[f]);
        let prod = pl.x + bp[f] * PER_DAY;
        let loss = pl.y + bl[f] * PER_DAY;
        let slot = species[f].implicit;
        if (slot > 0u) {
            // The implicit solve that follows takes these rates; the field keeps its value.
            implicit_rates[(2u * (slot - 1u)) * NV + v] = prod;
            implicit_rates[(2u * (slot - 1u) + 1u) * NV + v] = loss;
            continue;
        }
        var x = exp_update(u[f], prod, loss, step.dt);
        if (MODEL_ON && f == BONE_FIELD) {
            x = min(x, 1.0);
        }
        store(f, v, x);
    }
    if (MODEL_ON) {
        drug_pools(&u, resorption, v);
    }
}

// Per-voxel reactions: every field's production and loss from rates() in
// shared/model.wgsl, then the exponential update. CPU mirror: src/cpu/react.rs.

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> species: array<SpeciesRates>;
// Bindings 2.. are the field chunks, declared with load()/store() in the generated prelude.

@compute @workgroup_size(64)
fn react(@builtin(global_invocation_id) gid: vec3<u32>) {
    let v = gid.x + gid.y * 65535u * 64u;
    if (v >= NV) {
        return;
    }
    var u: array<f32, NF>;
    for (var f = 0u; f < NF; f++) {
        u[f] = load(f, v);
    }
    for (var f = 0u; f < NF; f++) {
        let pl = rates(f, &u, species[f]);
        store(f, v, exp_update(u[f], pl.x, pl.y, step.dt));
    }
}

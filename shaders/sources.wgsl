// Bulk supply and uptake, du/dt = S (target - u) - U u inside each region, integrated
// implicitly per voxel (unconditionally stable, non-negative), regions in order. The host
// runs it twice per step with step.dt set to half the step (Strang splitting).
// CPU mirror: src/cpu/sources.rs.

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> regions: array<SourceRegion>;
// Bindings 2.. are the field chunks, declared with load()/store() in the generated prelude.

@compute @workgroup_size(WG)
fn sources(@builtin(global_invocation_id) gid: vec3<u32>) {
    let v = gid.x + gid.y * MAX_GROUPS * WG;
    if (v >= NV) {
        return;
    }
    let c = voxel_coords(v);
    let p = (vec3<f32>(c) + vec3<f32>(0.5)) * step.dx;
    let ext = vec3<f32>(f32(NX), f32(NY), f32(NZ)) * step.dx;
    let dt = step.dt;
    for (var r = 0u; r < step.n_regions; r++) {
        let reg = regions[r];
        let w = region_weight(reg, p, ext, v);
        if (w <= 0.0) {
            continue;
        }
        let s = w * reg.supply;
        let up = w * reg.uptake;
        let u = load(reg.field, v);
        store(reg.field, v, (u + dt * s * reg.target_value) / (1.0 + dt * (s + up)));
    }
}

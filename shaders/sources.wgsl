// Bulk supply and uptake, du/dt = S (target - u) - U u inside each region, integrated
// implicitly per voxel (unconditionally stable, non-negative), regions in order. The host
// runs it twice per step with step.dt set to half the step (Strang splitting).
// CPU mirror: src/cpu/sources.rs.

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> regions: array<SourceRegion>;
// Bindings 2.. are the field chunks, declared with load()/store() in the generated prelude.

// 1 or 0 for geometric shapes, the weighting field's value for shape 4 (field).
fn region_weight(r: SourceRegion, p: vec3<f32>, ext: vec3<f32>, v: u32) -> f32 {
    switch r.shape {
        case 0u: {
            return 1.0;
        }
        case 1u: {
            return select(0.0, 1.0, all(p >= r.a.xyz) && all(p <= r.b.xyz));
        }
        case 2u: {
            let d = p - r.a.xyz;
            return select(0.0, 1.0, dot(d, d) <= r.a.w * r.a.w);
        }
        case 3u: {
            let w = r.a.x;
            return select(0.0, 1.0, any(p < vec3<f32>(w)) || any(ext - p < vec3<f32>(w)));
        }
        case 4u: {
            return load(r.weight_field, v);
        }
        default: {
            return 0.0;
        }
    }
}

@compute @workgroup_size(64)
fn sources(@builtin(global_invocation_id) gid: vec3<u32>) {
    let v = gid.x + gid.y * 65535u * 64u;
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

// Weight of a supply/uptake region at a voxel. Needs load() from the generated prelude.
// CPU mirror: SourceRegion::weight in src/sim/params.rs.

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


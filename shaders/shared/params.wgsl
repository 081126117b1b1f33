// Step parameters, shared by every kernel. Keep in sync with src/sim/params.rs and
// src/model/reactions.rs (sizes asserted there).

struct Step {
    nx: u32,
    ny: u32,
    nz: u32,
    nf: u32,
    n_vox: u32,
    field_base: u32,
    n_regions: u32,
    chunk_fields: u32,
    dt: f32,
    dt_over_dx2: f32,
    theta: f32,
    dx: f32,
}

struct FieldTransport {
    diffusion: f32,
    bone_permeability: f32,
    dirichlet_mask: u32,
    mobile: u32,
    // Fixed face values in mask bit order: bits 0-3, then 4-5.
    dirichlet_lo: vec4<f32>,
    dirichlet_hi: vec2<f32>,
    // Factor the last sweep of a step multiplies the field by (folded linear decay, or 1).
    retain: f32,
    pad: f32,
}

// The fixed value of face `bit` (2 axis + side) of a field.
fn dirichlet_value(ft: FieldTransport, bit: u32) -> f32 {
    if (bit < 4u) {
        return ft.dirichlet_lo[bit];
    }
    return ft.dirichlet_hi[bit - 4u];
}

struct SourceRegion {
    shape: u32,
    field: u32,
    weight_field: u32,
    _pad0: u32,
    supply: f32,
    target_value: f32,
    uptake: f32,
    _pad1: f32,
    a: vec4<f32>,
    b: vec4<f32>,
}

struct SpeciesRates {
    decay: f32,
    growth: f32,
    capacity: f32,
    implicit: u32,
}

// Voxel coordinates of linear index v.
fn voxel_coords(v: u32) -> vec3<u32> {
    return vec3<u32>(v % NX, (v / NX) % NY, v / (NX * NY));
}

// Chemotaxis: first-order upwind drift of a cell field up an attractant's gradient,
// confined to marrow (a face into bone is closed in proportion to the bone fraction). The
// face speed saturates at vmax and the host picks sub-steps with 6 vmax dt_sub / dx <= 1, so
// no voxel sends out more than it holds. One sub-step writes `scratch`; the host copies it
// back into the cell field. CPU mirror: src/cpu/motility.rs.

// Keep in sync with `Chemotaxis` in src/sim/params.rs.
struct Chemotaxis {
    cell: u32,
    attractant: u32,
    substeps: u32,
    pad: u32,
    chi: f32,
    vmax: f32,
    dt_sub: f32,
    dx: f32,
}

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<uniform> pair: Chemotaxis;
@group(0) @binding(2) var<storage, read_write> scratch: array<f32>;
// Bindings 3.. are the field chunks, declared with load()/store() in the generated prelude.

fn face_speed(da: f32) -> f32 {
    let g = pair.chi * da / pair.dx;
    return pair.vmax * g / (pair.vmax + abs(g));
}

// Flux from voxel i to voxel j (negative: from j to i), times the face's passability.
fn face_flux(i: u32, j: u32) -> f32 {
    let v = face_speed(load(pair.attractant, j) - load(pair.attractant, i));
    let open = max(min(1.0 - load(BONE_FIELD, i), 1.0 - load(BONE_FIELD, j)), 0.0);
    let flux = select(v * load(pair.cell, j), v * load(pair.cell, i), v > 0.0);
    return flux * open;
}

@compute @workgroup_size(WG)
fn motility(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * MAX_GROUPS * WG;
    if (i >= NV) {
        return;
    }
    let x = i % NX;
    let y = (i / NX) % NY;
    let z = i / (NX * NY);
    var net = 0.0;
    if (x > 0u) {
        net -= face_flux(i, i - 1u);
    }
    if (x + 1u < NX) {
        net -= face_flux(i, i + 1u);
    }
    if (y > 0u) {
        net -= face_flux(i, i - NX);
    }
    if (y + 1u < NY) {
        net -= face_flux(i, i + NX);
    }
    if (z > 0u) {
        net -= face_flux(i, i - NX * NY);
    }
    if (z + 1u < NZ) {
        net -= face_flux(i, i + NX * NY);
    }
    scratch[i] = max(load(pair.cell, i) + pair.dt_sub / pair.dx * net, 0.0);
}

// The bone-surface indicator s = min(1, 2 |grad b|) (central differences in voxel units,
// mirrored at the walls): 1 on both sides of a sharp bone-marrow interface, 0 deep in bone
// or marrow; 1 everywhere in the well-mixed mode. Runs after every reaction step, since
// remodelling moves the surface. CPU mirror: src/lattice/surface.rs (the lattice builder uses
// the same indicator).

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> model: array<f32>;
// Bindings 2.. are the field chunks, declared with load()/store() in the generated prelude.

fn bone_at(x: u32, y: u32, z: u32) -> f32 {
    return load(F_BONE, x + NX * (y + NY * z));
}

@compute @workgroup_size(WG)
fn surface(@builtin(global_invocation_id) gid: vec3<u32>) {
    let v = gid.x + gid.y * MAX_GROUPS * WG;
    if (v >= NV) {
        return;
    }
    if (model[X_WELL_MIXED] != 0.0) {
        store(F_SURFACE, v, 1.0);
        return;
    }
    let x = v % NX;
    let y = (v / NX) % NY;
    let z = v / (NX * NY);
    let gx = 0.5 * (bone_at(min(x + 1u, NX - 1u), y, z) - bone_at(max(x, 1u) - 1u, y, z));
    let gy = 0.5 * (bone_at(x, min(y + 1u, NY - 1u), z) - bone_at(x, max(y, 1u) - 1u, z));
    let gz = 0.5 * (bone_at(x, y, min(z + 1u, NZ - 1u)) - bone_at(x, y, max(z, 1u) - 1u));
    store(F_SURFACE, v, min(2.0 * sqrt(gx * gx + gy * gy + gz * gz), 1.0));
}

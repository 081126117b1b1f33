// The bone-surface share s = l a of each voxel: the bone-surface area density a = |grad b|
// (1/um: central differences of the bone fraction averaged over the two transverse axes
// with weights 1/4, 1/2, 1/4, over the voxel edge, indices clamped at the walls) times the
// depth l of the layer of bone-surface cells (`surface_layer_um`). Its volume integral is l
// times the bone surface area on any grid, so every term proportional to s scales with
// surface area, not with the voxel. 1 everywhere in the well-mixed mode. Runs after every
// reaction step, since remodelling moves the surface. CPU mirror: src/lattice/surface.rs
// (the lattice's initial surface uses the same function).

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
    let xs = array<u32, 3>(max(x, 1u) - 1u, x, min(x + 1u, NX - 1u));
    let ys = array<u32, 3>(max(y, 1u) - 1u, y, min(y + 1u, NY - 1u));
    let zs = array<u32, 3>(max(z, 1u) - 1u, z, min(z + 1u, NZ - 1u));
    let w = array<f32, 3>(0.25, 0.5, 0.25);
    // Each axis's difference, averaged over its two transverse axes in the order the CPU
    // mirror takes them (axis + 1, then axis + 2).
    var gx = 0.0;
    var gy = 0.0;
    var gz = 0.0;
    for (var i = 0u; i < 3u; i++) {
        for (var j = 0u; j < 3u; j++) {
            let wij = w[i] * w[j];
            gx += wij * (bone_at(xs[2], ys[i], zs[j]) - bone_at(xs[0], ys[i], zs[j]));
            gy += wij * (bone_at(xs[j], ys[2], zs[i]) - bone_at(xs[j], ys[0], zs[i]));
            gz += wij * (bone_at(xs[i], ys[j], zs[2]) - bone_at(xs[i], ys[j], zs[0]));
        }
    }
    let a = 0.5 * sqrt(gx * gx + gy * gy + gz * gz) / step.dx;
    store(F_SURFACE, v, model[P_SURFACE_LAYER_UM] * a);
}

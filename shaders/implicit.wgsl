// Backward Euler on the whole 3-D operator of one field, with its decay, supply and uptake
// and the react step's production and loss inside: (I + dt (Lambda - A)) u' = u + dt F,
// by Jacobi-preconditioned conjugate
// gradients. One entry point per stage of an iteration; the host adds the workgroup
// partial sums (in order, in f64) and sets alpha and beta between dispatches.
// CPU mirror: src/cpu/implicit.rs.

struct Implicit {
    field: u32,
    groups_x: u32,
    // 1 + the field's slot in `reaction`, or 0 when the react step gave it no rates.
    slot: u32,
    _pad1: u32,
    decay: f32,
    alpha: f32,
    beta: f32,
    d_dx2: f32,
}

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<uniform> imp: Implicit;
@group(0) @binding(2) var<storage, read> fields: array<FieldTransport>;
@group(0) @binding(3) var<storage, read> regions: array<SourceRegion>;
@group(0) @binding(4) var<storage, read> bone: array<f32>;
@group(0) @binding(5) var<storage, read_write> lam: array<f32>;
@group(0) @binding(6) var<storage, read_write> rhs: array<f32>;
@group(0) @binding(7) var<storage, read_write> x: array<f32>;
@group(0) @binding(8) var<storage, read_write> r: array<f32>;
@group(0) @binding(9) var<storage, read_write> p: array<f32>;
@group(0) @binding(10) var<storage, read_write> q: array<f32>;
@group(0) @binding(11) var<storage, read_write> partials: array<vec4<f32>>;
@group(0) @binding(12) var<storage, read_write> diag: array<f32>;
// Production and loss rates from the react step, two arrays per implicit slot.
@group(0) @binding(13) var<storage, read> reaction: array<f32>;
// Bindings 14.. are the field chunks, declared with load()/store() in the generated prelude.

const WG: u32 = 256u;
var<workgroup> red: array<vec4<f32>, WG>;

fn g_at(v: u32, permeability: f32) -> f32 {
    if (BONE_FIELD >= NF) {
        return 1.0;
    }
    return 1.0 - bone[v] * (1.0 - permeability);
}

fn harmonic_mean(a: f32, b: f32) -> f32 {
    let s = a + b;
    return select(0.0, 2.0 * a * b / s, s > 0.0);
}

// Value of x (which = 0) or p (which = 1) at voxel w.
fn value(which: u32, w: u32) -> f32 {
    if (which == 0u) {
        return x[w];
    }
    return p[w];
}

// Over the six faces of voxel v, for vector `which`: the coupling sum k (v_v - v_n) over
// inner faces, the inner face sum k, the fixed-face sum k_b, and the inflow k_b g_b.
fn faces(which: u32, v: u32) -> vec4<f32> {
    let ft = fields[imp.field];
    let c = voxel_coords(v);
    let n = vec3<u32>(NX, NY, NZ);
    let stride = vec3<u32>(1u, NX, NX * NY);
    let gv = g_at(v, ft.bone_permeability);
    let xv = value(which, v);
    var sums = vec4<f32>(0.0);
    for (var a = 0u; a < 3u; a++) {
        for (var side = 0u; side < 2u; side++) {
            let slot = 2u * a + side;
            let inside = select(c[a] + 1u < n[a], c[a] > 0u, side == 0u);
            if (inside) {
                let w = select(v + stride[a], v - stride[a], side == 0u);
                let k = imp.d_dx2 * harmonic_mean(gv, g_at(w, ft.bone_permeability));
                sums.x += k * (xv - value(which, w));
                sums.y += k;
            } else if (((ft.dirichlet_mask >> slot) & 1u) == 1u) {
                let k = 2.0 * imp.d_dx2 * gv;
                sums.z += k;
                sums.w += k * ft.dirichlet[slot / 4u][slot % 4u];
            }
        }
    }
    return sums;
}

// (M v)_voxel for vector `which` (the diagonal is in `diag`, from `setup`).
fn apply(which: u32, v: u32) -> f32 {
    let s = faces(which, v);
    let xv = value(which, v);
    return xv + step.dt * (lam[v] * xv + s.z * xv + s.x);
}

fn voxel_index(gid: vec3<u32>) -> u32 {
    return gid.x + gid.y * 65535u * WG;
}

// Adds `value` over the workgroup; thread 0 stores the partial.
fn reduce_store(value: vec4<f32>, t: u32, wid: vec3<u32>) {
    red[t] = value;
    workgroupBarrier();
    for (var width = WG / 2u; width > 0u; width /= 2u) {
        if (t < width) {
            red[t] += red[t + width];
        }
        workgroupBarrier();
    }
    if (t == 0u) {
        partials[wid.x + wid.y * imp.groups_x] = red[0];
    }
}

// Lambda, the diagonal, the right-hand side's source and fixed-face part, and x = u.
@compute @workgroup_size(256)
fn setup(@builtin(global_invocation_id) gid: vec3<u32>) {
    let v = voxel_index(gid);
    if (v >= NV) {
        return;
    }
    let c = voxel_coords(v);
    let pos = (vec3<f32>(c) + vec3<f32>(0.5)) * step.dx;
    let ext = vec3<f32>(f32(NX), f32(NY), f32(NZ)) * step.dx;
    var l = imp.decay;
    var supply = 0.0;
    for (var i = 0u; i < arrayLength(&regions); i++) {
        let reg = regions[i];
        if (reg.field != imp.field || reg.shape == 255u) {
            continue;
        }
        let w = region_weight(reg, pos, ext, v);
        if (w > 0.0) {
            l += w * (reg.supply + reg.uptake);
            supply += w * reg.supply * reg.target_value;
        }
    }
    if (imp.slot > 0u) {
        l += reaction[(2u * (imp.slot - 1u) + 1u) * NV + v];
        supply += reaction[(2u * (imp.slot - 1u)) * NV + v];
    }
    lam[v] = l;
    x[v] = load(imp.field, v);
    let f = faces(0u, v);
    diag[v] = 1.0 + step.dt * (l + f.y + f.z);
    rhs[v] = supply + f.w;
}

// rhs = u + dt (F + inflow); r = rhs - M x; p = r / diag; partial (r.p, r.r, rhs.rhs).
@compute @workgroup_size(256)
fn residual(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let v = voxel_index(gid);
    var part = vec4<f32>(0.0);
    if (v < NV) {
        let b = x[v] + step.dt * rhs[v];
        rhs[v] = b;
        let rv = b - apply(0u, v);
        r[v] = rv;
        let pv = rv / diag[v];
        p[v] = pv;
        part = vec4<f32>(rv * pv, rv * rv, b * b, 0.0);
    }
    reduce_store(part, lid.x, wid);
}

// q = M p; partial p.q.
@compute @workgroup_size(256)
fn matvec(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let v = voxel_index(gid);
    var part = vec4<f32>(0.0);
    if (v < NV) {
        let qv = apply(1u, v);
        q[v] = qv;
        part = vec4<f32>(p[v] * qv, 0.0, 0.0, 0.0);
    }
    reduce_store(part, lid.x, wid);
}

// x += alpha p; r -= alpha q; partial (r.r / diag, r.r).
@compute @workgroup_size(256)
fn update(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let v = voxel_index(gid);
    var part = vec4<f32>(0.0);
    if (v < NV) {
        x[v] += imp.alpha * p[v];
        let rv = r[v] - imp.alpha * q[v];
        r[v] = rv;
        part = vec4<f32>(rv * rv / diag[v], rv * rv, 0.0, 0.0);
    }
    reduce_store(part, lid.x, wid);
}

// p = r / diag + beta p.
@compute @workgroup_size(256)
fn direction(@builtin(global_invocation_id) gid: vec3<u32>) {
    let v = voxel_index(gid);
    if (v >= NV) {
        return;
    }
    p[v] = r[v] / diag[v] + imp.beta * p[v];
}

// The field takes x, clipped at 0 (the exact solution is non-negative).
@compute @workgroup_size(256)
fn finish(@builtin(global_invocation_id) gid: vec3<u32>) {
    let v = voxel_index(gid);
    if (v >= NV) {
        return;
    }
    store(imp.field, v, max(x[v], 0.0));
}

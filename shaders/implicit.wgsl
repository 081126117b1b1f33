// Backward Euler on the whole 3-D operator of each implicit field, with its decay, supply
// and uptake and the react step's production and loss inside:
// (I + dt (Lambda - A)) u' = u + dt F, by conjugate gradients preconditioned with one
// multigrid V-cycle (shaders/multigrid.wgsl), for every slot of a batch at once
// (workgroup_id.z). The Krylov scalars stay on the device: the partial sums of each dot
// product are added by a one-workgroup `scalars_*` kernel per slot, which also decides
// convergence; every kernel of a converged slot returns at once.
// CPU mirror: src/cpu/implicit.rs.

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

// Sum over the faces of fine voxel v of slot s of k times p.
fn neighbours_p(s: u32, v: u32, c: vec3<u32>) -> f32 {
    let plane = NX * NY;
    let i = s * lvl.total + v;
    let f = s * NV + v;
    var sum = 0.0;
    if (c.x + 1u < NX) {
        sum += kx[i] * p[f + 1u];
    }
    if (c.x > 0u) {
        sum += kx[i - 1u] * p[f - 1u];
    }
    if (c.y + 1u < NY) {
        sum += ky[i] * p[f + NX];
    }
    if (c.y > 0u) {
        sum += ky[i - NX] * p[f - NX];
    }
    if (c.z + 1u < NZ) {
        sum += kz[i] * p[f + plane];
    }
    if (c.z > 0u) {
        sum += kz[i - plane] * p[f - plane];
    }
    return sum;
}

// Lambda, the face coefficients, the mass and fixed-face parts of the diagonal, the
// diagonal, the right-hand side u + dt (F + fixed-face inflow), and x = p = u.
@compute @workgroup_size(WG)
fn setup(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let s = wid.z;
    let v = linear(gid, lvl.groups_x);
    if (v >= NV) {
        return;
    }
    let sp = slots[s];
    let ft = fields[sp.field];
    let c = voxel_coords(v);
    let pos = (vec3<f32>(c) + vec3<f32>(0.5)) * step.dx;
    let ext = vec3<f32>(f32(NX), f32(NY), f32(NZ)) * step.dx;
    var l = sp.decay;
    var supply = 0.0;
    for (var r = 0u; r < arrayLength(&regions); r++) {
        let reg = regions[r];
        if (reg.field != sp.field || reg.shape == 255u) {
            continue;
        }
        let w = region_weight(reg, pos, ext, v);
        if (w > 0.0) {
            l += w * (reg.supply + reg.uptake);
            supply += w * reg.supply * reg.target_value;
        }
    }
    if (sp.rate_slot > 0u) {
        l += reaction[(2u * (sp.rate_slot - 1u) + 1u) * NV + v];
        supply += reaction[(2u * (sp.rate_slot - 1u)) * NV + v];
    }
    // Faces: inner face coefficients, fixed-face coefficient and inflow.
    let n = vec3<u32>(NX, NY, NZ);
    let stride = vec3<u32>(1u, NX, NX * NY);
    let gv = g_at(v, ft.bone_permeability);
    var inner = 0.0;
    var kb = 0.0;
    var inflow = 0.0;
    var plus = vec3<f32>(0.0);
    for (var a = 0u; a < 3u; a++) {
        for (var side = 0u; side < 2u; side++) {
            let slot = 2u * a + side;
            let inside = select(c[a] + 1u < n[a], c[a] > 0u, side == 0u);
            if (inside) {
                let w = select(v + stride[a], v - stride[a], side == 0u);
                let k = sp.d_dx2 * harmonic_mean(gv, g_at(w, ft.bone_permeability));
                inner += k;
                if (side == 1u) {
                    plus[a] = k;
                }
            } else if (((ft.dirichlet_mask >> slot) & 1u) == 1u) {
                let k = 2.0 * sp.d_dx2 * gv;
                kb += k;
                inflow += k * dirichlet_value(ft, slot);
            }
        }
    }
    let dt = step.dt;
    let i = s * lvl.total + v;
    kx[i] = dt * plus.x;
    ky[i] = dt * plus.y;
    kz[i] = dt * plus.z;
    mass[i] = 1.0 + dt * l;
    bnd[i] = dt * kb;
    diag[i] = 1.0 + dt * (l + kb + inner);
    let u = load(sp.field, v);
    x[s * NV + v] = u;
    p[s * NV + v] = u;
    rhs[s * NV + v] = u + dt * (supply + inflow);
}

// r = rhs - A x (into level 0 of mb; p holds x here); partials (r.r, rhs.rhs).
@compute @workgroup_size(WG)
fn start(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let s = wid.z;
    let v = linear(gid, lvl.groups_x);
    var part = vec4<f32>(0.0);
    if (v < NV) {
        let c = voxel_coords(v);
        let i = s * lvl.total + v;
        let b = rhs[s * NV + v];
        let rv = b - (diag[i] * p[s * NV + v] - neighbours_p(s, v, c));
        mb[i] = rv;
        part = vec4<f32>(rv * rv, b * b, 0.0, 0.0);
    }
    reduce_store(part, lid.x, wid, lvl.groups_x);
}

// q = A p; partial p.q.
@compute @workgroup_size(WG)
fn matvec(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let s = wid.z;
    if (!slot_active(s, lid.x)) {
        return;
    }
    let v = linear(gid, lvl.groups_x);
    var part = vec4<f32>(0.0);
    if (v < NV) {
        let c = voxel_coords(v);
        let f = s * NV + v;
        let qv = diag[s * lvl.total + v] * p[f] - neighbours_p(s, v, c);
        q[f] = qv;
        part = vec4<f32>(p[f] * qv, 0.0, 0.0, 0.0);
    }
    reduce_store(part, lid.x, wid, lvl.groups_x);
}

// x += alpha p; r -= alpha q; partial r.r.
@compute @workgroup_size(WG)
fn update(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let s = wid.z;
    if (!slot_active(s, lid.x)) {
        return;
    }
    let v = linear(gid, lvl.groups_x);
    var part = vec4<f32>(0.0);
    if (v < NV) {
        let alpha = state[s].alpha;
        let f = s * NV + v;
        let i = s * lvl.total + v;
        x[f] += alpha * p[f];
        let rv = mb[i] - alpha * q[f];
        mb[i] = rv;
        part = vec4<f32>(rv * rv, 0.0, 0.0, 0.0);
    }
    reduce_store(part, lid.x, wid, lvl.groups_x);
}

// Partial r.z (z = B r, level 0 of mx).
@compute @workgroup_size(WG)
fn dot_rz(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let s = wid.z;
    if (!slot_active(s, lid.x)) {
        return;
    }
    let v = linear(gid, lvl.groups_x);
    var part = vec4<f32>(0.0);
    if (v < NV) {
        let i = s * lvl.total + v;
        part = vec4<f32>(mb[i] * mx[i], 0.0, 0.0, 0.0);
    }
    reduce_store(part, lid.x, wid, lvl.groups_x);
}

// p = z + beta p.
@compute @workgroup_size(WG)
fn direction(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let s = wid.z;
    if (!slot_active(s, lid.x)) {
        return;
    }
    let v = linear(gid, lvl.groups_x);
    if (v < NV) {
        let f = s * NV + v;
        p[f] = mx[s * lvl.total + v] + state[s].beta * p[f];
    }
}

// The field takes x, clipped at 0 (the exact solution is non-negative).
@compute @workgroup_size(WG)
fn finish(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let s = wid.z;
    let v = linear(gid, lvl.groups_x);
    if (v < NV) {
        store(slots[s].field, v, max(x[s * NV + v], 0.0));
    }
}

// The sum of slot s's partials, in a fixed order (every invocation gets it).
fn total(s: u32, t: u32) -> vec4<f32> {
    var acc = vec4<f32>(0.0);
    for (var k = t; k < lvl.pg; k += WG) {
        acc += partials[s * lvl.pg + k];
    }
    return workgroup_sum(acc, t);
}

// After `start`: rr and bb; a slot whose warm start already meets the tolerance is done.
@compute @workgroup_size(WG)
fn scalars_start(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let s = wid.z;
    let sum = total(s, lid.x);
    if (lid.x == 0u) {
        var st = state[s];
        // A solve that ended without converging (out of the iterations encoded for it).
        if (st.solves > 0u && st.done == 0u) {
            st.unconverged += 1u;
        }
        st.rr = sum.x;
        st.bb = max(sum.y, RHS_FLOOR_SQ);
        st.rz = 0.0;
        st.beta = 0.0;
        st.iterations = 0u;
        st.solves += 1u;
        st.done = select(0u, 1u, st.rr <= slots[s].tol2 * st.bb);
        state[s] = st;
    }
}

// After `dot_rz`: beta = r.z / the previous r.z (0 on the first iteration).
@compute @workgroup_size(WG)
fn scalars_beta(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let s = wid.z;
    if (!slot_active(s, lid.x)) {
        return;
    }
    let sum = total(s, lid.x);
    if (lid.x == 0u) {
        let rz = state[s].rz;
        state[s].beta = select(sum.x / rz, 0.0, state[s].iterations == 0u);
        state[s].rz = sum.x;
    }
}

// After `matvec`: alpha = r.z / p.q.
@compute @workgroup_size(WG)
fn scalars_alpha(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let s = wid.z;
    if (!slot_active(s, lid.x)) {
        return;
    }
    let sum = total(s, lid.x);
    if (lid.x == 0u) {
        state[s].pq = sum.x;
        state[s].alpha = state[s].rz / sum.x;
    }
}

// After `update`: rr, the iteration count, and convergence.
@compute @workgroup_size(WG)
fn scalars_check(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let s = wid.z;
    if (!slot_active(s, lid.x)) {
        return;
    }
    let sum = total(s, lid.x);
    if (lid.x == 0u) {
        var st = state[s];
        st.rr = sum.x;
        st.iterations += 1u;
        st.total_iterations += 1u;
        if (st.rr <= slots[s].tol2 * st.bb) {
            st.done = 1u;
        } else if (st.iterations >= slots[s].max_iterations) {
            st.done = 2u;
        }
        state[s] = st;
    }
}

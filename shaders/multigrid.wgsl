// The geometric multigrid V-cycle that preconditions the implicit solves, for every slot
// of a batch at once (workgroup_id.z). `lvl` is the level a dispatch works on; the
// transfers and `coarsen` also read its coarser neighbour. Coarse operators by
// rediscretisation, linear transfers (restriction is the transpose of prolongation),
// red-black Gauss-Seidel. CPU mirror, same names: src/cpu/multigrid.rs.

// Fine children of coarse cell c along an axis of nf fine voxels: (first, count).
fn children(c: u32, nf: u32) -> vec2<u32> {
    return vec2<u32>(2u * c, min(nf - 2u * c, 2u));
}

fn centre(c: u32, nf: u32) -> f32 {
    let ch = children(c, nf);
    return f32(ch.x) + 0.5 * f32(ch.y);
}

// The two coarse cells interpolating fine cell i (lo, hi) and the weight of hi.
struct Interp {
    lo: u32,
    hi: u32,
    w: f32,
}

fn interp(i: u32, nf: u32, nc: u32) -> Interp {
    let xf = f32(i) + 0.5;
    let pc = i / 2u;
    let cp = centre(pc, nf);
    if (xf < cp && pc > 0u) {
        let lo = centre(pc - 1u, nf);
        return Interp(pc - 1u, pc, (xf - lo) / (cp - lo));
    }
    if (xf > cp && pc + 1u < nc) {
        let hi = centre(pc + 1u, nf);
        return Interp(pc, pc + 1u, (xf - cp) / (hi - cp));
    }
    return Interp(pc, pc, 0.0);
}

fn weight(i: u32, c: u32, nf: u32, nc: u32) -> f32 {
    let t = interp(i, nf, nc);
    var out = 0.0;
    if (t.lo == c) {
        out += 1.0 - t.w;
    }
    if (t.hi == c) {
        out += t.w;
    }
    return out;
}

// Sum over the faces of voxel v (coordinates c) of this level of k times mx.
fn neighbours_mx(base: u32, v: u32, c: vec3<u32>) -> f32 {
    let plane = lvl.nx * lvl.ny;
    let i = base + v;
    var s = 0.0;
    if (c.x + 1u < lvl.nx) {
        s += kx[i] * mx[i + 1u];
    }
    if (c.x > 0u) {
        s += kx[i - 1u] * mx[i - 1u];
    }
    if (c.y + 1u < lvl.ny) {
        s += ky[i] * mx[i + lvl.nx];
    }
    if (c.y > 0u) {
        s += ky[i - lvl.nx] * mx[i - lvl.nx];
    }
    if (c.z + 1u < lvl.nz) {
        s += kz[i] * mx[i + plane];
    }
    if (c.z > 0u) {
        s += kz[i - plane] * mx[i - plane];
    }
    return s;
}

// The coarse operator (level lvl + 1) from this level's, one invocation per coarse voxel.
@compute @workgroup_size(WG)
fn coarsen(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let s = wid.z;
    if (!slot_active(s, lid.x)) {
        return;
    }
    let v = linear(gid, lvl.cgroups_x);
    if (v >= lvl.cn) {
        return;
    }
    let fd = vec3<u32>(lvl.nx, lvl.ny, lvl.nz);
    let cd = vec3<u32>(lvl.cnx, lvl.cny, lvl.cnz);
    let c = coords_in(v, cd.x, cd.y);
    let fb = s * lvl.total + lvl.off;
    let cb = s * lvl.total + lvl.coff;
    let chx = children(c.x, fd.x);
    let chy = children(c.y, fd.y);
    let chz = children(c.z, fd.z);
    var sm = 0.0;
    var sb = 0.0;
    for (var l = chz.x; l < chz.x + chz.y; l++) {
        for (var j = chy.x; j < chy.x + chy.y; j++) {
            for (var i = chx.x; i < chx.x + chx.y; i++) {
                let w = fb + i + fd.x * (j + fd.y * l);
                sm += mass[w];
                sb += bnd[w];
            }
        }
    }
    mass[cb + v] = sm;
    bnd[cb + v] = 0.5 * sb;
    // Faces towards +axis: the fine faces between the last child of this cell and the
    // first of the next, over the children of the other two axes, divided by the distance
    // between the two coarse centres in fine voxels.
    var fx = 0.0;
    if (c.x + 1u < cd.x) {
        let i = chx.x + chx.y - 1u;
        for (var l = chz.x; l < chz.x + chz.y; l++) {
            for (var j = chy.x; j < chy.x + chy.y; j++) {
                fx += kx[fb + i + fd.x * (j + fd.y * l)];
            }
        }
        fx = fx * 2.0 / f32(chx.y + children(c.x + 1u, fd.x).y);
    }
    var fy = 0.0;
    if (c.y + 1u < cd.y) {
        let j = chy.x + chy.y - 1u;
        for (var l = chz.x; l < chz.x + chz.y; l++) {
            for (var i = chx.x; i < chx.x + chx.y; i++) {
                fy += ky[fb + i + fd.x * (j + fd.y * l)];
            }
        }
        fy = fy * 2.0 / f32(chy.y + children(c.y + 1u, fd.y).y);
    }
    var fz = 0.0;
    if (c.z + 1u < cd.z) {
        let l = chz.x + chz.y - 1u;
        for (var j = chy.x; j < chy.x + chy.y; j++) {
            for (var i = chx.x; i < chx.x + chx.y; i++) {
                fz += kz[fb + i + fd.x * (j + fd.y * l)];
            }
        }
        fz = fz * 2.0 / f32(chz.y + children(c.z + 1u, fd.z).y);
    }
    kx[cb + v] = fx;
    ky[cb + v] = fy;
    kz[cb + v] = fz;
}

// diag = mass + bnd + the six face conductances, on this level.
@compute @workgroup_size(WG)
fn diagonal(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let s = wid.z;
    if (!slot_active(s, lid.x)) {
        return;
    }
    let v = linear(gid, lvl.groups_x);
    if (v >= lvl.n) {
        return;
    }
    let c = coords_in(v, lvl.nx, lvl.ny);
    let i = s * lvl.total + lvl.off + v;
    var d = mass[i] + bnd[i] + kx[i] + ky[i] + kz[i];
    if (c.x > 0u) {
        d += kx[i - 1u];
    }
    if (c.y > 0u) {
        d += ky[i - lvl.nx];
    }
    if (c.z > 0u) {
        d += kz[i - lvl.nx * lvl.ny];
    }
    diag[i] = d;
}

// One colour of red-black Gauss-Seidel at voxel v of slot s (colour = (i + j + k) % 2).
fn relax(s: u32, v: u32, colour: u32) {
    let c = coords_in(v, lvl.nx, lvl.ny);
    if ((c.x + c.y + c.z) % 2u != colour) {
        return;
    }
    let base = s * lvl.total + lvl.off;
    let i = base + v;
    mx[i] = (mb[i] + neighbours_mx(base, v, c)) / diag[i];
}

// The first half sweep from a zero correction: red voxels b / diag, black voxels 0.
@compute @workgroup_size(WG)
fn presmooth(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let s = wid.z;
    if (!slot_active(s, lid.x)) {
        return;
    }
    let v = linear(gid, lvl.groups_x);
    if (v >= lvl.n) {
        return;
    }
    let c = coords_in(v, lvl.nx, lvl.ny);
    let i = s * lvl.total + lvl.off + v;
    mx[i] = select(0.0, mb[i] / diag[i], (c.x + c.y + c.z) % 2u == 0u);
}

@compute @workgroup_size(WG)
fn smooth_red(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let s = wid.z;
    if (!slot_active(s, lid.x)) {
        return;
    }
    let v = linear(gid, lvl.groups_x);
    if (v < lvl.n) {
        relax(s, v, 0u);
    }
}

@compute @workgroup_size(WG)
fn smooth_black(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let s = wid.z;
    if (!slot_active(s, lid.x)) {
        return;
    }
    let v = linear(gid, lvl.groups_x);
    if (v < lvl.n) {
        relax(s, v, 1u);
    }
}

// mr = mb - A mx on this level.
@compute @workgroup_size(WG)
fn residual(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let s = wid.z;
    if (!slot_active(s, lid.x)) {
        return;
    }
    let v = linear(gid, lvl.groups_x);
    if (v >= lvl.n) {
        return;
    }
    let c = coords_in(v, lvl.nx, lvl.ny);
    let base = s * lvl.total + lvl.off;
    let i = base + v;
    mr[i] = mb[i] - (diag[i] * mx[i] - neighbours_mx(base, v, c));
}

// The coarser level's right-hand side from this level's residual (transpose of prolong),
// one invocation per coarse voxel.
@compute @workgroup_size(WG)
fn restrict_residual(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let s = wid.z;
    if (!slot_active(s, lid.x)) {
        return;
    }
    let v = linear(gid, lvl.cgroups_x);
    if (v >= lvl.cn) {
        return;
    }
    let fd = vec3<u32>(lvl.nx, lvl.ny, lvl.nz);
    let cd = vec3<u32>(lvl.cnx, lvl.cny, lvl.cnz);
    let c = coords_in(v, cd.x, cd.y);
    let fb = s * lvl.total + lvl.off;
    // Fine cells 2c - 1 .. 2c + 2 carry weight of coarse cell c.
    let lo = max(2u * c, vec3<u32>(1u)) - vec3<u32>(1u);
    let hi = min(2u * c + vec3<u32>(3u), fd);
    var sum = 0.0;
    for (var l = lo.z; l < hi.z; l++) {
        let wl = weight(l, c.z, fd.z, cd.z);
        if (wl == 0.0) {
            continue;
        }
        for (var j = lo.y; j < hi.y; j++) {
            let wj = wl * weight(j, c.y, fd.y, cd.y);
            if (wj == 0.0) {
                continue;
            }
            for (var i = lo.x; i < hi.x; i++) {
                let w = weight(i, c.x, fd.x, cd.x);
                if (w != 0.0) {
                    sum += wj * w * mr[fb + i + fd.x * (j + fd.y * l)];
                }
            }
        }
    }
    mb[s * lvl.total + lvl.coff + v] = sum;
}

// mx += P (the coarser level's correction), one invocation per voxel of this level.
@compute @workgroup_size(WG)
fn prolong(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let s = wid.z;
    if (!slot_active(s, lid.x)) {
        return;
    }
    let v = linear(gid, lvl.groups_x);
    if (v >= lvl.n) {
        return;
    }
    let c = coords_in(v, lvl.nx, lvl.ny);
    let tx = interp(c.x, lvl.nx, lvl.cnx);
    let ty = interp(c.y, lvl.ny, lvl.cny);
    let tz = interp(c.z, lvl.nz, lvl.cnz);
    let cb = s * lvl.total + lvl.coff;
    let zs = array<u32, 2>(tz.lo, tz.hi);
    let zw = array<f32, 2>(1.0 - tz.w, tz.w);
    let ys = array<u32, 2>(ty.lo, ty.hi);
    let yw = array<f32, 2>(1.0 - ty.w, ty.w);
    let xs = array<u32, 2>(tx.lo, tx.hi);
    let xw = array<f32, 2>(1.0 - tx.w, tx.w);
    var sum = 0.0;
    for (var a = 0u; a < 2u; a++) {
        for (var b = 0u; b < 2u; b++) {
            for (var e = 0u; e < 2u; e++) {
                let w = zw[a] * yw[b] * xw[e];
                sum += w * mx[cb + xs[e] + lvl.cnx * (ys[b] + lvl.cny * zs[a])];
            }
        }
    }
    mx[s * lvl.total + lvl.off + v] += sum;
}

// COARSE_SWEEPS (sweep pairs of the coarsest solve) comes from the generated prelude
// (numerics.rs), as the CPU's multigrid uses it.

// The coarsest level solved by symmetric red-black sweeps from zero, one workgroup per
// slot (the level has at most 64 voxels, so WG invocations cover it).
@compute @workgroup_size(WG)
fn coarse_solve(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let s = wid.z;
    if (!slot_active(s, lid.x)) {
        return;
    }
    let v = lid.x;
    let on = v < lvl.n;
    let i = s * lvl.total + lvl.off + v;
    if (on) {
        mx[i] = 0.0;
    }
    storageBarrier();
    for (var sweep = 0u; sweep < 4u * COARSE_SWEEPS; sweep++) {
        // Red, black, red, black, ... then black, red, black, red, ...
        let half = sweep % 2u;
        let colour = select(half, 1u - half, sweep >= 2u * COARSE_SWEEPS);
        if (on) {
            relax(s, v, colour);
        }
        storageBarrier();
    }
}

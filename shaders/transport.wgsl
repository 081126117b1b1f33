// Implicit theta-scheme transport sweep along one axis: one tridiagonal (Thomas) solve per
// grid line, one line per invocation, solved in place in the field chunk. Lines of the y
// and z sweeps are laid out so that neighbouring invocations touch neighbouring addresses.
// Lines along x are not (each is contiguous, so neighbouring invocations are NX apart):
// `sweep_x_tiled` has the workgroup copy X_TILE whole x lines (one contiguous range) into
// workgroup memory with neighbouring invocations on neighbouring addresses, solves them
// there, and copies them back the same way.
// CPU mirror: src/cpu/transport/ (same arithmetic, line for line).

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> fields: array<FieldTransport>;
@group(0) @binding(2) var<storage, read> bone: array<f32>;
@group(0) @binding(3) var<storage, read_write> chunk: array<f32>;

fn harmonic(a: f32, b: f32) -> f32 {
    let s = a + b;
    return select(0.0, 2.0 * a * b / s, s > 0.0);
}

// X_TILE x lines (row pitch NX + 1, so the lines of one invocation row do not share a
// memory bank) of values and of bone fractions.
const X_PITCH: u32 = NX + 1u;
var<workgroup> x_values: array<f32, X_TILE_LEN>;
var<workgroup> x_bone: array<f32, X_TILE_LEN>;

fn local_factor(tiled: bool, v: u32, permeability: f32) -> f32 {
    if (BONE_FIELD >= NF) {
        return 1.0;
    }
    if (tiled) {
        return 1.0 - x_bone[v] * (1.0 - permeability);
    }
    return 1.0 - bone[v] * (1.0 - permeability);
}

// Point `v` of the line being solved: in the chunk at `off + v`, or in the tile at `v`.
fn load_value(tiled: bool, off: u32, v: u32) -> f32 {
    if (tiled) {
        return x_values[v];
    }
    return chunk[off + v];
}

fn store_value(tiled: bool, off: u32, v: u32, x: f32) {
    if (tiled) {
        x_values[v] = x;
    } else {
        chunk[off + v] = x;
    }
}

// Solves the line of n voxels starting at voxel `start` with voxel stride `stride`, for
// the chunk's field `fl` (`tiled`: the line is in workgroup memory, `start` and `stride`
// index the tile); on the step's last sweep (`last_sweep`) every value is then multiplied
// by the field's retention (its folded linear decay, or 1).
fn solve_line(
    fl: u32,
    start: u32,
    stride: u32,
    n: u32,
    axis: u32,
    last_sweep: bool,
    tiled: bool
) {
    let ft = fields[step.field_base + fl];
    if (ft.mobile == 0u) {
        return;
    }
    let kappa = step.dt_over_dx2 * ft.diffusion;
    let th = step.theta;
    let has_low = ((ft.dirichlet_mask >> (2u * axis)) & 1u) == 1u;
    let has_high = ((ft.dirichlet_mask >> (2u * axis + 1u)) & 1u) == 1u;
    let low_value = dirichlet_value(ft, 2u * axis);
    let high_value = dirichlet_value(ft, 2u * axis + 1u);
    let off = fl * NV;

    var cp: array<f32, MAX_LINE>;
    var dp: array<f32, MAX_LINE>;
    var prev_old = 0.0;
    var prev_cp = 0.0;
    var prev_k = 0.0;
    var u_next = load_value(tiled, off, start);
    var g_next = local_factor(tiled, start, ft.bone_permeability);
    for (var i = 0u; i < n; i++) {
        let v = start + i * stride;
        let last = i + 1u == n;
        let u = u_next;
        let gi = g_next;
        if (!last) {
            u_next = load_value(tiled, off, v + stride);
            g_next = local_factor(tiled, v + stride, ft.bone_permeability);
        }
        var k_lo = prev_k;
        var ghost_lo = prev_old;
        if (i == 0u) {
            k_lo = select(0.0, 2.0 * kappa * gi, has_low);
            ghost_lo = select(u, low_value, has_low);
        }
        var k_hi = 0.0;
        var ghost_hi = u;
        if (last) {
            k_hi = select(0.0, 2.0 * kappa * gi, has_high);
            ghost_hi = select(u, high_value, has_high);
        } else {
            k_hi = kappa * harmonic(gi, g_next);
            ghost_hi = u_next;
        }
        // Delta form: (I - theta dt A) (u' - u) = dt A u (see src/cpu/transport/lines.rs).
        let rhs = k_hi * (ghost_hi - u) - k_lo * (u - ghost_lo);
        let a = select(-th * k_lo, 0.0, i == 0u);
        let dp_before = select(dp[max(i, 1u) - 1u], 0.0, i == 0u);
        let c = select(-th * k_hi, 0.0, last);
        let b = 1.0 + th * (k_lo + k_hi);
        let inv = 1.0 / (b - a * prev_cp);
        let cpi = c * inv;
        cp[i] = cpi;
        prev_cp = cpi;
        prev_old = u;
        prev_k = k_hi;
        dp[i] = (rhs - a * dp_before) * inv;
    }
    // Back substitution for the change, added to the values.
    let retain = select(1.0, ft.retain, last_sweep);
    var delta_next = 0.0;
    for (var i = i32(n) - 1; i >= 0; i--) {
        let v = start + u32(i) * stride;
        let delta = dp[i] - cp[i] * delta_next;
        store_value(tiled, off, v, (load_value(tiled, off, v) + delta) * retain);
        delta_next = delta;
    }
}

// Lines along x: one per (y, z); gid.y is the field within the chunk. The `_last`
// variants are the step's last sweep (see `sweep_order`).
fn line_x(gid: vec3<u32>, last_sweep: bool) {
    if (gid.x >= NY * NZ || gid.y >= step.chunk_fields) {
        return;
    }
    solve_line(gid.y, gid.x * NX, 1u, NX, 0u, last_sweep, false);
}

// Lines along y: one per (x, z), x fastest.
fn line_y(gid: vec3<u32>, last_sweep: bool) {
    if (gid.x >= NX * NZ || gid.y >= step.chunk_fields) {
        return;
    }
    let x = gid.x % NX;
    let z = gid.x / NX;
    solve_line(gid.y, x + z * NX * NY, NX, NY, 1u, last_sweep, false);
}

// Lines along z: one per (x, y), x fastest.
fn line_z(gid: vec3<u32>, last_sweep: bool) {
    if (gid.x >= NX * NY || gid.y >= step.chunk_fields) {
        return;
    }
    solve_line(gid.y, gid.x, NX * NY, NZ, 2u, last_sweep, false);
}

// X_TILE consecutive x lines per workgroup (workgroup x), field wg.y of the chunk.
fn lines_x_tiled(wg: vec3<u32>, li: u32, last_sweep: bool) {
    if (wg.y >= step.chunk_fields || fields[step.field_base + wg.y].mobile == 0u) {
        return;
    }
    let first = wg.x * X_TILE;
    let lines = min(X_TILE, NY * NZ - first);
    let off = wg.y * NV + first * NX;
    for (var k = li; k < lines * NX; k += 64u) {
        let t = (k / NX) * X_PITCH + k % NX;
        x_values[t] = chunk[off + k];
        if (BONE_FIELD < NF) {
            x_bone[t] = bone[first * NX + k];
        }
    }
    workgroupBarrier();
    if (li < lines) {
        solve_line(wg.y, li * X_PITCH, 1u, NX, 0u, last_sweep, true);
    }
    workgroupBarrier();
    for (var k = li; k < lines * NX; k += 64u) {
        chunk[off + k] = x_values[(k / NX) * X_PITCH + k % NX];
    }
}

@compute @workgroup_size(WG)
fn sweep_x_tiled(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) li: u32
) {
    lines_x_tiled(wg, li, false);
}

@compute @workgroup_size(WG)
fn sweep_x_tiled_last(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) li: u32
) {
    lines_x_tiled(wg, li, true);
}

@compute @workgroup_size(WG)
fn sweep_x(@builtin(global_invocation_id) gid: vec3<u32>) {
    line_x(gid, false);
}

@compute @workgroup_size(WG)
fn sweep_x_last(@builtin(global_invocation_id) gid: vec3<u32>) {
    line_x(gid, true);
}

@compute @workgroup_size(WG)
fn sweep_y(@builtin(global_invocation_id) gid: vec3<u32>) {
    line_y(gid, false);
}

@compute @workgroup_size(WG)
fn sweep_y_last(@builtin(global_invocation_id) gid: vec3<u32>) {
    line_y(gid, true);
}

@compute @workgroup_size(WG)
fn sweep_z(@builtin(global_invocation_id) gid: vec3<u32>) {
    line_z(gid, false);
}

@compute @workgroup_size(WG)
fn sweep_z_last(@builtin(global_invocation_id) gid: vec3<u32>) {
    line_z(gid, true);
}

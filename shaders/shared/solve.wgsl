// Bindings and helpers shared by the implicit solve (shaders/implicit.wgsl: conjugate
// gradients) and its preconditioner (shaders/multigrid.wgsl: the V-cycle). Every implicit
// field of a batch is solved at once: workgroup_id.z is the field's slot in the batch, and
// every per-slot array holds the slots one after another. Level arrays hold every level
// of a slot one after another (`slot * lvl.total + lvl.off + v`), fine arrays one grid
// (`slot * NV + v`). Keep the structs in sync with src/gpu/implicit.rs (sizes asserted).

// One level of the hierarchy as a dispatch sees it (its coarser neighbour for the
// transfers), a uniform buffer per level.
struct Level {
    nx: u32,
    ny: u32,
    nz: u32,
    // Offset of this level in a slot's level arrays.
    off: u32,
    cnx: u32,
    cny: u32,
    cnz: u32,
    coff: u32,
    // Voxels on this level and on the next coarser one.
    n: u32,
    cn: u32,
    // Voxels of all levels of one slot.
    total: u32,
    // Workgroups along x of a dispatch over this level's voxels, and over the coarser's.
    groups_x: u32,
    cgroups_x: u32,
    // Workgroups of a dispatch over the fine grid (the partial sums per slot).
    pg: u32,
    _pad0: u32,
    _pad1: u32,
}

// What one slot solves.
struct SlotParams {
    field: u32,
    // 1 + the field's slot in `reaction`, or 0 when the react step gave it no rates.
    rate_slot: u32,
    decay: f32,
    d_dx2: f32,
    // Squared relative tolerance of the residual.
    tol2: f32,
    max_iterations: u32,
    _pad0: u32,
    _pad1: u32,
}

// The Krylov scalars and convergence of one slot, kept on the device.
struct SolveState {
    rz: f32,
    rr: f32,
    bb: f32,
    alpha: f32,
    beta: f32,
    pq: f32,
    // 0 while iterating, 1 converged, 2 out of iterations.
    done: u32,
    // Iterations of the current solve.
    iterations: u32,
    // Since the solver was built: iterations, solves, solves that ended unconverged.
    total_iterations: u32,
    solves: u32,
    unconverged: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
    _pad3: u32,
    _pad4: u32,
}

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<uniform> lvl: Level;
@group(0) @binding(2) var<storage, read> fields: array<FieldTransport>;
@group(0) @binding(3) var<storage, read> regions: array<SourceRegion>;
@group(0) @binding(4) var<storage, read> bone: array<f32>;
// Production and loss rates from the react step, two arrays per implicit slot.
@group(0) @binding(5) var<storage, read> reaction: array<f32>;
@group(0) @binding(6) var<storage, read> slots: array<SlotParams>;
@group(0) @binding(7) var<storage, read_write> state: array<SolveState>;
@group(0) @binding(8) var<storage, read_write> partials: array<vec4<f32>>;
// The operator of every level: dt times the conductance towards +x, +y, +z, the mass and
// fixed-face parts of the diagonal, the diagonal.
@group(0) @binding(9) var<storage, read_write> kx: array<f32>;
@group(0) @binding(10) var<storage, read_write> ky: array<f32>;
@group(0) @binding(11) var<storage, read_write> kz: array<f32>;
@group(0) @binding(12) var<storage, read_write> mass: array<f32>;
@group(0) @binding(13) var<storage, read_write> bnd: array<f32>;
@group(0) @binding(14) var<storage, read_write> diag: array<f32>;
// The V-cycle's correction, right-hand side and residual on every level. On level 0 the
// right-hand side is the CG residual r and the correction is z = B r.
@group(0) @binding(15) var<storage, read_write> mx: array<f32>;
@group(0) @binding(16) var<storage, read_write> mb: array<f32>;
@group(0) @binding(17) var<storage, read_write> mr: array<f32>;
// CG on the fine grid: the iterate, the direction, A p, the right-hand side.
@group(0) @binding(18) var<storage, read_write> x: array<f32>;
@group(0) @binding(19) var<storage, read_write> p: array<f32>;
@group(0) @binding(20) var<storage, read_write> q: array<f32>;
@group(0) @binding(21) var<storage, read_write> rhs: array<f32>;
// Bindings 22.. are the field chunks, declared with load()/store() in the generated prelude.

// WG (invocations per workgroup, numerics::DOT_BLOCK) comes from the generated prelude.
var<workgroup> red: array<vec4<f32>, WG>;
var<workgroup> wg_done: u32;

// Linear voxel of an invocation of a dispatch with `groups_x` workgroups along x.
fn linear(gid: vec3<u32>, groups_x: u32) -> u32 {
    return gid.x + gid.y * groups_x * WG;
}

// True (the same in the whole workgroup) while slot `s` is still iterating.
fn slot_active(s: u32, t: u32) -> bool {
    if (t == 0u) {
        wg_done = state[s].done;
    }
    return workgroupUniformLoad(&wg_done) == 0u;
}

fn coords_in(v: u32, nx: u32, ny: u32) -> vec3<u32> {
    return vec3<u32>(v % nx, (v / nx) % ny, v / (nx * ny));
}

// The sum of every invocation's `value` over the workgroup, in a fixed order.
fn workgroup_sum(value: vec4<f32>, t: u32) -> vec4<f32> {
    red[t] = value;
    workgroupBarrier();
    for (var width = WG / 2u; width > 0u; width /= 2u) {
        if (t < width) {
            red[t] += red[t + width];
        }
        workgroupBarrier();
    }
    return red[0];
}

// Adds `value` over the workgroup; thread 0 stores the partial of slot wid.z.
fn reduce_store(value: vec4<f32>, t: u32, wid: vec3<u32>, groups_x: u32) {
    let sum = workgroup_sum(value, t);
    if (t == 0u) {
        partials[wid.z * lvl.pg + wid.x + wid.y * groups_x] = sum;
    }
}

// Per-field statistics of one chunk: each workgroup reduces REDUCE_BLOCK voxels of one
// field to a partial (sum, min, max, non-finite and negative counts); the host adds the
// partials in a fixed order. CPU mirror: src/cpu/reduce.rs.

struct Partial {
    sum: f32,
    min_value: f32,
    max_value: f32,
    nonfinite: u32,
    negative: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> chunk: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<Partial>;
// The fields of the chunk to reduce (indices within the chunk), one per workgroup row.
@group(0) @binding(3) var<storage, read> list: array<u32>;

// REDUCE_THREADS and REDUCE_BLOCK come from the generated prelude (numerics.rs).
const BIG: f32 = 3.0e38;

var<workgroup> w_sum: array<f32, REDUCE_THREADS>;
var<workgroup> w_min: array<f32, REDUCE_THREADS>;
var<workgroup> w_max: array<f32, REDUCE_THREADS>;
var<workgroup> w_nonfinite: array<u32, REDUCE_THREADS>;
var<workgroup> w_negative: array<u32, REDUCE_THREADS>;

fn is_finite_value(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

// One workgroup per (block, listed field of the chunk): block = x + MAX_GROUPS z, field =
// list[y].
@compute @workgroup_size(WG)
fn reduce(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let fl = list[wg.y];
    let block = wg.x + wg.z * MAX_GROUPS;
    let blocks = (NV + REDUCE_BLOCK - 1u) / REDUCE_BLOCK;
    if (block >= blocks) {
        return;
    }
    let t = lid.x;
    var s = 0.0;
    var lo = BIG;
    var hi = -BIG;
    var nonfinite = 0u;
    var negative = 0u;
    for (var k = 0u; k < REDUCE_BLOCK / REDUCE_THREADS; k++) {
        let v = block * REDUCE_BLOCK + k * REDUCE_THREADS + t;
        if (v < NV) {
            let x = chunk[fl * NV + v];
            if (is_finite_value(x)) {
                s += x;
                lo = min(lo, x);
                hi = max(hi, x);
                negative += select(0u, 1u, x < 0.0);
            } else {
                nonfinite += 1u;
            }
        }
    }
    w_sum[t] = s;
    w_min[t] = lo;
    w_max[t] = hi;
    w_nonfinite[t] = nonfinite;
    w_negative[t] = negative;
    workgroupBarrier();
    for (var width = REDUCE_THREADS / 2u; width > 0u; width /= 2u) {
        if (t < width) {
            w_sum[t] += w_sum[t + width];
            w_min[t] = min(w_min[t], w_min[t + width]);
            w_max[t] = max(w_max[t], w_max[t + width]);
            w_nonfinite[t] += w_nonfinite[t + width];
            w_negative[t] += w_negative[t + width];
        }
        workgroupBarrier();
    }
    if (t == 0u) {
        partials[(step.field_base + fl) * blocks + block] = Partial(
            w_sum[0], w_min[0], w_max[0], w_nonfinite[0], w_negative[0], 0u, 0u, 0u);
    }
}

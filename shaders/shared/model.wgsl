// Per-voxel reaction terms as production P >= 0 and loss rate L >= 0:
// du/dt = P(u) - L(u) u. Mirror of src/model/reactions.rs.

// Production and loss rate of field f given the voxel's values u.
fn rates(f: u32, u: ptr<function, array<f32, NF>>, p: SpeciesRates) -> vec2<f32> {
    let uf = (*u)[f];
    // Logistic growth r u (1 - u/K) split into production r u and loss r u / K.
    let production = p.growth * uf;
    let loss = p.decay + p.growth * uf / p.capacity;
    return vec2<f32>(production, loss);
}

// Exponential step of du/dt = P - L u over dt, rates frozen: exact for constant rates,
// non-negative whatever L dt.
fn exp_update(u: f32, production: f32, loss: f32, dt: f32) -> f32 {
    let x = loss * dt;
    if (x == 0.0) {
        return u + production * dt;
    }
    let e = exp(-x);
    let phi = select(1.0 - 0.5 * x, (1.0 - e) / x, x > 1e-4);
    return u * e + production * dt * phi;
}

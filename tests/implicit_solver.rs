//! The implicit solve (multigrid-preconditioned CG) against an independent reference: the
//! same backward-Euler operator assembled here from its definition (harmonic face
//! diffusivities through bone, Dirichlet faces, decay and a sink on the diagonal, a
//! source on the right) and solved in f64 by unpreconditioned CG to 1e-13; the iteration
//! count on the default preset at two grid sizes; the host round trips of a GPU model
//! step.

mod common;

use std::path::Path;

use common::{cpu_sim, gpu_context, gpu_sim};
use osteoniche::cpu::implicit::{Work, solve};
use osteoniche::grid::Grid;
use osteoniche::preset::{Preset, Scenario};
use osteoniche::sim::params::{FieldTransport, StepUniform};

/// A small problem: field 0 is solved, field 1 is bone.
struct Problem {
    grid: Grid,
    step: StepUniform,
    ft: FieldTransport,
    decay: f32,
    fields: Vec<f32>,
    prod: Vec<f32>,
    loss: Vec<f32>,
}

fn problem(dims: [usize; 3], diffusion: f32, bone_permeability: f32) -> Problem {
    let grid = Grid::new(dims[0], dims[1], dims[2], 40.0);
    let n = grid.len();
    let dt = 60.0f32;
    let step = StepUniform {
        nx: dims[0] as u32,
        ny: dims[1] as u32,
        nz: dims[2] as u32,
        nf: 2,
        n_vox: n as u32,
        field_base: 0,
        n_regions: 0,
        chunk_fields: 0,
        dt,
        dt_over_dx2: dt / (40.0 * 40.0),
        theta: 1.0,
        dx: 40.0,
    };
    // Fixed values on the -x face (1.0) and the +z face (0.25); the rest no-flux.
    let mut dirichlet = [0f32; 6];
    dirichlet[0] = 1.0;
    dirichlet[5] = 0.25;
    let ft = FieldTransport {
        diffusion,
        bone_permeability,
        dirichlet_mask: 1 | 1 << 5,
        mobile: 0,
        dirichlet,
        retain: 1.0,
        _pad: 0.0,
    };
    let mut fields = vec![0f32; 2 * n];
    let mut prod = vec![0f32; n];
    let mut loss = vec![0f32; n];
    for v in 0..n {
        let [i, j, k] = grid.coords(v);
        // A plate of solid bone across y in the middle of x, with a hole; partial volumes
        // beside it.
        let bone = if i == dims[0] / 2 && !(j == 1 && k == 1) {
            1.0
        } else if i == dims[0] / 2 + 1 {
            0.5
        } else {
            0.0
        };
        fields[n + v] = bone;
        fields[v] = 0.1 + 0.05 * ((v * 7) % 5) as f32;
        // A strong sink in one corner block, a source in another.
        if i >= dims[0] - 3 && j < 3 {
            loss[v] = 0.5;
        }
        if i < 3 && j >= dims[1] - 3 && k < 3 {
            prod[v] = 0.02;
        }
    }
    Problem {
        grid,
        step,
        ft,
        decay: 0.01,
        fields,
        prod,
        loss,
    }
}

fn harmonic(a: f64, b: f64) -> f64 {
    if a + b > 0.0 {
        2.0 * a * b / (a + b)
    } else {
        0.0
    }
}

/// Off-diagonal entries of each row: (column, coefficient).
type Rows = Vec<Vec<(usize, f64)>>;

/// The operator as its diagonal and the off-diagonal rows, and the right-hand side,
/// assembled from the definition in f64.
fn assemble(p: &Problem) -> (Vec<f64>, Rows, Vec<f64>) {
    let g = &p.grid;
    let n = g.len();
    let dt = p.step.dt as f64;
    let k = p.ft.diffusion as f64 / (40.0 * 40.0);
    let gf = |v: usize| 1.0 - p.fields[n + v] as f64 * (1.0 - p.ft.bone_permeability as f64);
    let dims = [g.nx, g.ny, g.nz];
    let stride = [1, g.nx, g.nx * g.ny];
    let mut diag = vec![0f64; n];
    let mut off = vec![Vec::new(); n];
    let mut rhs = vec![0f64; n];
    for v in 0..n {
        let c = g.coords(v);
        let mut d = 1.0 + dt * (p.decay as f64 + p.loss[v] as f64);
        let mut b = p.fields[v] as f64 + dt * p.prod[v] as f64;
        for a in 0..3 {
            for side in 0..2 {
                let inside = if side == 0 {
                    c[a] > 0
                } else {
                    c[a] + 1 < dims[a]
                };
                if inside {
                    let w = if side == 0 {
                        v - stride[a]
                    } else {
                        v + stride[a]
                    };
                    let kf = dt * k * harmonic(gf(v), gf(w));
                    d += kf;
                    off[v].push((w, -kf));
                } else if p.ft.dirichlet_mask >> (2 * a + side) & 1 == 1 {
                    let kb = 2.0 * dt * k * gf(v);
                    d += kb;
                    b += kb * p.ft.dirichlet[2 * a + side] as f64;
                }
            }
        }
        diag[v] = d;
        rhs[v] = b;
    }
    (diag, off, rhs)
}

fn apply(diag: &[f64], off: &[Vec<(usize, f64)>], x: &[f64]) -> Vec<f64> {
    (0..x.len())
        .map(|v| diag[v] * x[v] + off[v].iter().map(|&(w, a)| a * x[w]).sum::<f64>())
        .collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Plain CG in f64 to a relative residual of 1e-13.
fn reference(diag: &[f64], off: &[Vec<(usize, f64)>], b: &[f64]) -> Vec<f64> {
    let n = b.len();
    let mut x = vec![0f64; n];
    let mut r = b.to_vec();
    let mut p = r.clone();
    let mut rr = dot(&r, &r);
    let bb = rr;
    for _ in 0..20 * n {
        if rr <= 1e-26 * bb {
            return x;
        }
        let q = apply(diag, off, &p);
        let alpha = rr / dot(&p, &q);
        for v in 0..n {
            x[v] += alpha * p[v];
            r[v] -= alpha * q[v];
        }
        let rr_new = dot(&r, &r);
        for v in 0..n {
            p[v] = r[v] + rr_new / rr * p[v];
        }
        rr = rr_new;
    }
    panic!("the f64 reference did not converge");
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// Solves with the library at `tolerance`; returns the solution, iterations and the
/// f64 relative residual of the solution.
fn library_solve(p: &Problem, tolerance: f64) -> (Vec<f64>, usize) {
    let mut fields = p.fields.clone();
    let mut work = Work::default();
    let it = solve(
        &mut fields,
        0,
        Some(1),
        &p.grid,
        &p.step,
        &p.ft,
        p.decay,
        &[],
        Some((&p.prod, &p.loss)),
        tolerance,
        &mut work,
    )
    .expect("solve");
    let n = p.grid.len();
    (fields[..n].iter().map(|&x| x as f64).collect(), it)
}

#[test]
fn multigrid_cg_lands_within_tolerance_of_the_exact_discrete_solution() {
    // Odd, unequal axes (coarse cells with one child), three levels or more; bone that
    // slows diffusion tenfold, and bone that blocks it (voxels cut off from their
    // neighbours).
    for (dims, diffusion, permeability) in [
        ([21, 14, 11], 3000.0f32, 0.1f32),
        ([17, 17, 9], 24000.0, 0.1),
        ([13, 11, 9], 5000.0, 0.0),
    ] {
        let p = problem(dims, diffusion, permeability);
        let (diag, off, b) = assemble(&p);
        let exact = reference(&diag, &off, &b);
        for tolerance in [1e-3, 1e-5] {
            let (x, it) = library_solve(&p, tolerance);
            let ax = apply(&diag, &off, &x);
            let res: Vec<f64> = b.iter().zip(&ax).map(|(b, a)| b - a).collect();
            let rel_res = norm(&res) / norm(&b);
            let err: Vec<f64> = x.iter().zip(&exact).map(|(x, e)| x - e).collect();
            let rel_err = norm(&err) / norm(&exact);
            println!(
                "{dims:?} D {diffusion} bone permeability {permeability}: tolerance {tolerance:e}: {it} iterations, residual {rel_res:.2e}, error {rel_err:.2e}"
            );
            // The residual the solver stops at, measured independently (f32 rounding aside).
            assert!(
                rel_res <= 1.05 * tolerance + 2e-6,
                "{dims:?}: residual {rel_res:e} above tolerance {tolerance:e}"
            );
            // And the solution itself: well inside the tolerance for this conditioning.
            assert!(
                rel_err <= 2.0 * tolerance + 2e-6,
                "{dims:?}: error {rel_err:e} against the exact solution at tolerance {tolerance:e}"
            );
            assert!(it >= 1, "the warm start alone is not converged here");
            assert!(
                it <= 10,
                "{dims:?}: {it} iterations at tolerance {tolerance:e}"
            );
        }
    }
}

#[test]
fn a_field_decayed_to_almost_nothing_is_solved_not_refused() {
    // Tumour-free bone whose osteoclasts zoledronic acid removed: TGF-beta, made by the
    // first days' remodelling, decays to ~1e-20 nM and below, where its right-hand side
    // squares to f32 subnormals; with a purely relative residual (the CPU's floor on |b|
    // was 1e-30) the solve could not converge and this run stopped after day 7. Both
    // backends now stop at the absolute floor `numerics::RHS_FLOOR_SQ`.
    let preset = Preset::load(Path::new(
        "presets/published/mda231-nude-zoledronate-no-tumour.toml",
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let sc = preset
        .scenario(Some(24), Some(2))
        .unwrap_or_else(|e| panic!("{e}"));
    let steps = (10.0 * 1440.0 / sc.dt_min).round() as u64;
    let mut sim = cpu_sim(&sc);
    sim.advance(steps).unwrap_or_else(|e| panic!("{e}"));
    let tgf = sim.setup().species.index("tgf_beta").expect("tgf_beta");
    let s = &sim.stats().unwrap()[tgf];
    assert_eq!((s.nonfinite, s.negative), (0, 0));
    assert!(s.max < 1e-15, "TGF-beta {:e}: not the decayed field", s.max);
}

/// The default preset at `n`^3 (its lattice regenerated at that size).
fn default_preset(n: usize) -> Scenario {
    Preset::load(Path::new("presets/breast-osteolytic.toml"))
        .expect("default preset")
        .scenario(Some(n), None)
        .expect("scenario")
}

#[test]
fn iterations_per_solve_do_not_grow_with_the_grid() {
    // Two simulated days of the default preset (tolerance 1e-3) at 16^3 and 32^3: the mean
    // CG iterations per implicit field per step stay at most 8 and within 2 of each other
    // (Jacobi-preconditioned CG needed 25-80 here, growing with the grid).
    let mean = |n: usize| {
        let mut sim = cpu_sim(&default_preset(n));
        let before = sim.backend_mut().counters().expect("counters");
        sim.advance(48).expect("advance");
        let work = sim
            .backend_mut()
            .counters()
            .expect("counters")
            .since(&before);
        assert_eq!(
            work.implicit_solves,
            48 * 11,
            "{n}^3: one solve per implicit field per step"
        );
        work.mean_iterations()
    };
    let (coarse, fine) = (mean(16), mean(32));
    println!("mean iterations per solve: 16^3 {coarse:.2}, 32^3 {fine:.2}");
    assert!(
        coarse <= 8.0 && fine <= 8.0,
        "{coarse} and {fine} iterations per solve"
    );
    assert!((fine - coarse).abs() <= 2.0, "16^3 {coarse} vs 32^3 {fine}");
}

#[test]
fn a_gpu_model_step_waits_for_the_host_at_most_twice() {
    let Some(ctx) = gpu_context("a_gpu_model_step_waits_for_the_host_at_most_twice") else {
        return;
    };
    let mut sim = gpu_sim(&ctx, &default_preset(12));
    // The first step learns the iteration budget; count each step after it.
    sim.advance(1).expect("advance");
    let start = sim.backend_mut().counters().expect("counters");
    let steps = 6;
    let mut before = start;
    for step in 0..steps {
        sim.advance(1).expect("advance");
        let now = sim.backend_mut().counters().expect("counters");
        let work = now.since(&before);
        assert!(
            work.host_waits <= 2,
            "step {step}: {} blocking waits ({work:?})",
            work.host_waits
        );
        before = now;
    }
    let work = before.since(&start);
    println!(
        "{steps} GPU model steps: {} waits, {} submits, {} dispatches, {:.2} iterations per solve",
        work.host_waits,
        work.submits,
        work.dispatches,
        work.mean_iterations()
    );
    assert_eq!(work.implicit_solves, steps * 11, "{work:?}");
    assert!(
        work.implicit_iterations > 0,
        "the solves iterated: {work:?}"
    );
}

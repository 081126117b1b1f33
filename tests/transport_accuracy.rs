//! The transport solver against theory: BioFVM's convergence tests (docs/model.md, Checks),
//! the 3-D heat kernel, stability at large D dt/dx^2, mass conservation, bone barriers and
//! fixed-value faces. All on the CPU backend (the GPU is compared to it in gpu_vs_cpu.rs).

mod common;
use common::*;

const L: f64 = 500.0; // µm
const D: f64 = 1e5; // µm^2/min

/// Max error of the 1-D cosine test (BioFVM convergence test 1) at t = 0.5 min.
fn cosine_error(cells: usize, dt_min: f64, scheme: &str) -> f64 {
    let dx = L / cells as f64;
    let sc = preset_scenario(
        "cosine-1d",
        &[
            ("name", &"cosine"),
            ("cells", &cells),
            ("dx", &dx),
            ("dt", &dt_min),
            ("scheme", &scheme),
            ("diffusion", &D),
        ],
    );
    let mut sim = cpu_sim(&sc);
    sim.advance(sc.steps).unwrap();
    let t = sim.time_min();
    assert!((t - 0.5).abs() < 1e-9, "ran to {t}");
    let rho = sim.field("rho").unwrap();
    let decay = (-D * std::f64::consts::PI.powi(2) * t / (L * L)).exp();
    rho.iter()
        .enumerate()
        .map(|(i, &v)| {
            let x = (i as f64 + 0.5) * dx;
            (v as f64 - (1.0 + (std::f64::consts::PI * x / L).cos() * decay)).abs()
        })
        .fold(0.0, f64::max)
}

fn order(e_coarse: f64, e_fine: f64, ratio: f64) -> f64 {
    (e_coarse / e_fine).ln() / ratio.ln()
}

#[test]
fn cosine_1d_matches_biofvm_case_and_beats_it_with_crank_nicolson() {
    // BioFVM's reference case: dx 20 µm, dt 0.01 min, t 0.5 min; its max error is 5.7e-3.
    let be = cosine_error(25, 0.01, "backward-euler");
    let cn = cosine_error(25, 0.01, "crank-nicolson");
    println!(
        "1-D cosine, dx 20 µm, dt 0.01 min, t 0.5 min: backward Euler max error {be:.3e}, Crank-Nicolson {cn:.3e} (BioFVM: 5.7e-3)"
    );
    assert!(be < 8e-3, "backward Euler error {be}");
    assert!(
        be > 3e-3,
        "backward Euler is first order in time: error {be} is implausibly small"
    );
    assert!(
        cn < be / 10.0,
        "Crank-Nicolson {cn} should beat backward Euler {be} tenfold"
    );
}

#[test]
fn cosine_1d_is_second_order_in_space() {
    // Crank-Nicolson with a tiny step, so the spatial error dominates.
    let e: Vec<f64> = [10, 20, 40]
        .iter()
        .map(|&n| cosine_error(n, 2.5e-4, "crank-nicolson"))
        .collect();
    let p1 = order(e[0], e[1], 2.0);
    let p2 = order(e[1], e[2], 2.0);
    println!("space: errors {e:?} at 10, 20, 40 cells; observed orders {p1:.2}, {p2:.2}");
    assert!(
        p1 > 1.8 && p1 < 2.3 && p2 > 1.8 && p2 < 2.3,
        "orders {p1}, {p2}"
    );
}

/// Max difference between runs at `dt` and at `dt/32` on the same grid: the time error.
fn time_error(scheme: &str, dt: f64) -> f64 {
    let run = |dt: f64| {
        let sc = preset_scenario(
            "cosine-1d",
            &[
                ("name", &"cosine-t"),
                ("cells", &50),
                ("dx", &10.0),
                ("dt", &dt),
                ("scheme", &scheme),
                ("diffusion", &D),
            ],
        );
        let mut sim = cpu_sim(&sc);
        sim.advance(sc.steps).unwrap();
        sim.field("rho").unwrap()
    };
    max_diff(&run(dt), &run(dt / 32.0)).0
}

#[test]
fn time_orders_are_one_and_two() {
    let be: Vec<f64> = [0.05, 0.025, 0.0125]
        .iter()
        .map(|&dt| time_error("backward-euler", dt))
        .collect();
    let cn: Vec<f64> = [0.05, 0.025, 0.0125]
        .iter()
        .map(|&dt| time_error("crank-nicolson", dt))
        .collect();
    let (b1, b2) = (order(be[0], be[1], 2.0), order(be[1], be[2], 2.0));
    let (c1, c2) = (order(cn[0], cn[1], 2.0), order(cn[1], cn[2], 2.0));
    println!(
        "time: backward Euler errors {be:?}, orders {b1:.2} {b2:.2}; Crank-Nicolson errors {cn:?}, orders {c1:.2} {c2:.2}"
    );
    assert!(b1 > 0.85 && b2 > 0.85, "backward Euler orders {b1} {b2}");
    assert!(c1 > 1.8 && c2 > 1.8, "Crank-Nicolson orders {c1} {c2}");
}

/// Steady state of `D lap u - k u + S (38 - u) - U u = 0` with no-flux walls on the grid of
/// `n^3` voxels of `dx`, solved by SOR in f64 (independent of the solver under test).
fn box_steady_state(n: usize, dx: f64, s_rate: &[f64], up: &[f64]) -> Vec<f64> {
    let (dd, k) = (1e5 / (dx * dx), 0.1);
    let idx = |i: usize, j: usize, l: usize| i + n * (j + n * l);
    let mut r = vec![38.0f64; n * n * n];
    for _sweep in 0..5000 {
        let mut change: f64 = 0.0;
        for l in 0..n {
            for j in 0..n {
                for i in 0..n {
                    let v = idx(i, j, l);
                    let mut nb = 0.0;
                    let mut cnt = 0.0;
                    for (ok, w) in [
                        (i > 0, v.wrapping_sub(1)),
                        (i + 1 < n, v + 1),
                        (j > 0, v.wrapping_sub(n)),
                        (j + 1 < n, v + n),
                        (l > 0, v.wrapping_sub(n * n)),
                        (l + 1 < n, v + n * n),
                    ] {
                        if ok {
                            nb += r[w];
                            cnt += 1.0;
                        }
                    }
                    let gs = (dd * nb + s_rate[v] * 38.0) / (dd * cnt + k + s_rate[v] + up[v]);
                    let new = r[v] + 1.9 * (gs - r[v]);
                    change = change.max((new - r[v]).abs());
                    r[v] = new;
                }
            }
        }
        if change < 1e-10 {
            break;
        }
    }
    r
}

/// Supply rate (38/min in 40 µm strips along every face) and uptake rate (10/min in a
/// central sphere of radius 400 µm) of the BioFVM box, voxel by voxel.
fn box_rates(n: usize, dx: f64) -> (Vec<f64>, Vec<f64>) {
    let mut s_rate = vec![0.0; n * n * n];
    let mut up = vec![0.0; n * n * n];
    for v in 0..n * n * n {
        let p = [v % n, (v / n) % n, v / (n * n)].map(|c| (c as f64 + 0.5) * dx);
        if p.iter().any(|&c| c < 40.0 || 1000.0 - c < 40.0) {
            s_rate[v] = 38.0;
        }
        if p.iter().map(|c| (c - 500.0).powi(2)).sum::<f64>() <= 400.0f64.powi(2) {
            up[v] = 10.0;
        }
    }
    (s_rate, up)
}

/// BioFVM convergence tests 2-3: a 1 mm box, D 1e5 µm^2/min, decay 0.1/min, supply 38/min
/// in 40 µm strips along every face (target 38), and a central sink sphere of radius
/// 400 µm with uptake 10/min. The time-stepped solution must approach the steady state of
/// the same discrete equations (solved independently by SOR): the locally-one-dimensional
/// splitting (BioFVM's scheme) biases the steady state by O(dt), so the test checks the
/// difference and that it falls in proportion to dt.
#[test]
fn source_sink_box_reaches_its_steady_state() {
    let (n, dx) = (25usize, 40.0f64);
    let run = |dt: f64| {
        let sc = preset_scenario(
            "source-sink-box",
            &[
                ("name", &"box"),
                ("n", &n),
                ("dx", &dx),
                ("dt", &format!("{dt} min")),
                ("duration", &"40 min"),
                ("solver", &"split"),
            ],
        );
        let mut sim = cpu_sim(&sc);
        sim.advance(sc.steps).unwrap();
        sim.field("s").unwrap()
    };
    let idx = |i: usize, j: usize, l: usize| i + n * (j + n * l);
    let (s_rate, up) = box_rates(n, dx);
    let r = box_steady_state(n, dx, &s_rate, &up);
    let centre = idx(n / 2, n / 2, n / 2);
    let rel = |u: &[f32]| {
        u.iter()
            .zip(&r)
            .map(|(&a, &b)| (a as f64 - b).abs() / b.abs().max(1e-3))
            .fold(0.0, f64::max)
    };
    let errs: Vec<f64> = [0.04, 0.02, 0.01]
        .iter()
        .map(|&dt| {
            let u = run(dt);
            println!(
                "source/sink box, dt {dt} min: centre {:.4} (steady state {:.4}), corner {:.4} ({:.4}), max relative difference {:.2e}",
                u[centre],
                r[centre],
                u[0],
                r[0],
                rel(&u)
            );
            rel(&u)
        })
        .collect();
    let p = order(errs[1], errs[2], 2.0);
    println!("steady-state bias falls with order {p:.2} in dt");
    assert!(
        r[centre] < 0.5 * r[0],
        "the sink really depletes the centre"
    );
    assert!(
        errs[2] < 0.07,
        "relative difference {} at dt 0.01 min",
        errs[2]
    );
    assert!(p > 0.8, "the bias must vanish with dt (observed order {p})");
}

/// The same box with the implicit solver at steps 100 to 1,000 times longer: the exact
/// steady state, whatever dt.
#[test]
fn implicit_solver_reaches_the_exact_steady_state_at_long_steps() {
    let (n, dx) = (25usize, 40.0f64);
    let (s_rate, up) = box_rates(n, dx);
    let r = box_steady_state(n, dx, &s_rate, &up);
    for dt in ["1 min", "10 min"] {
        let sc = preset_scenario(
            "source-sink-box",
            &[
                ("name", &"box-implicit"),
                ("n", &n),
                ("dx", &dx),
                ("dt", &dt),
                ("duration", &"60 min"),
                ("solver", &"implicit"),
            ],
        );
        let mut sim = cpu_sim(&sc);
        sim.advance(sc.steps).unwrap();
        let u = sim.field("s").unwrap();
        let rel = u
            .iter()
            .zip(&r)
            .map(|(&a, &b)| (a as f64 - b).abs() / b.abs().max(1e-3))
            .fold(0.0, f64::max);
        println!("implicit solver, dt {dt}: max relative difference to the steady state {rel:.2e}");
        assert!(rel < 2e-3, "dt {dt}: {rel}");
    }
}

/// A 3-D Gaussian pulse spreads as the heat kernel: sigma^2(t) = sigma0^2 + 2 D t.
#[test]
fn gaussian_pulse_follows_the_heat_kernel() {
    let (n, dx, d, sigma0, t) = (48usize, 10.0f64, 500.0f64, 30.0f64, 4.0f64);
    let c = n as f64 * dx / 2.0;
    let sc = preset_scenario(
        "gaussian-pulse",
        &[
            ("n", &n),
            ("dx", &dx),
            ("t", &t),
            ("diffusion", &d),
            ("c", &c),
            ("sigma0", &sigma0),
        ],
    );
    let mut sim = cpu_sim(&sc);
    let before = total(&sim.field("g").unwrap());
    sim.advance(sc.steps).unwrap();
    let g = sim.field("g").unwrap();
    let s2 = sigma0 * sigma0 + 2.0 * d * t;
    let peak = (sigma0 * sigma0 / s2).powf(1.5);
    let mut max_err: f64 = 0.0;
    for (v, &val) in g.iter().enumerate() {
        let p = sc.grid.center(v % n, (v / n) % n, v / (n * n));
        let r2: f64 = p.iter().map(|x| (x - c).powi(2)).sum();
        let exact = peak * (-r2 / (2.0 * s2)).exp();
        max_err = max_err.max((val as f64 - exact).abs());
    }
    println!(
        "Gaussian pulse: peak {peak:.4}, max abs error {max_err:.2e} ({:.2}% of peak)",
        100.0 * max_err / peak
    );
    assert!(max_err < 0.01 * peak, "max error {max_err} vs peak {peak}");
    assert!(((total(&g) - before) / before).abs() < 1e-5, "mass kept");
}

/// Unconditional stability: D dt/dx^2 = 50 on a sharp box.
#[test]
fn stable_and_non_negative_at_large_steps() {
    for scheme in ["backward-euler", "crank-nicolson"] {
        let sc = preset_scenario("stiff-box", &[("scheme", &scheme)]);
        let lambda = 1e5 * 0.2 / 400.0;
        assert!(lambda >= 10.0);
        let mut sim = cpu_sim(&sc);
        let norm = |v: &[f32]| v.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt();
        let mut last = norm(&sim.field("u").unwrap());
        for _ in 0..sc.steps {
            sim.advance(1).unwrap();
            let u = sim.field("u").unwrap();
            assert!(
                u.iter().all(|v| v.is_finite()),
                "{scheme}: non-finite value"
            );
            let now = norm(&u);
            assert!(
                now <= last * (1.0 + 1e-5),
                "{scheme}: L2 norm grew from {last} to {now}"
            );
            last = now;
            if scheme == "backward-euler" {
                let min = u.iter().cloned().fold(f32::INFINITY, f32::min);
                let max = u.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
                assert!(min >= 0.0, "backward Euler went negative: {min}");
                assert!(
                    max <= 1.0 + 1e-6,
                    "backward Euler broke the maximum principle: {max}"
                );
            }
        }
        println!(
            "{scheme} at D dt/dx^2 = {lambda}: stable over {} steps",
            sc.steps
        );
    }
}

/// Smooth data stays non-negative with Crank-Nicolson at D dt/dx^2 = 25.
#[test]
fn crank_nicolson_keeps_smooth_data_non_negative_at_large_steps() {
    let text = r#"
name = "cn-smooth"
grid = { size = [40, 40, 1], voxel_um = 20.0 }
time = { dt = "0.1 min", duration = "10 min", scheme = "crank-nicolson" }
[[species]]
name = "u"
diffusion = 1e5
initial = { kind = "cosine", axis = "y", mean = 1.0, amplitude = 1.0 }
"#;
    let sc = scenario(text);
    let mut sim = cpu_sim(&sc);
    sim.advance(sc.steps).unwrap();
    let stats = sim.stats().unwrap();
    assert_eq!(stats[0].negative, 0, "min {}", stats[0].min);
}

/// Total mass with no-flux walls and no decay, over 1,000 steps, through a bone lattice
/// (variable coefficients), for both schemes.
#[test]
fn mass_is_conserved_over_1000_steps() {
    for scheme in ["backward-euler", "crank-nicolson"] {
        let sc = preset_scenario("mass-on-lattice", &[("scheme", &scheme)]);
        assert_eq!(sc.steps, 1000);
        let mut sim = cpu_sim(&sc);
        let m0 = total(&sim.field("u").unwrap());
        sim.advance(sc.steps).unwrap();
        let m1 = total(&sim.field("u").unwrap());
        let rel = ((m1 - m0) / m0).abs();
        println!("{scheme}: mass {m0} -> {m1}, relative change {rel:.2e} over 1000 steps");
        assert!(rel < 1e-5, "{scheme}: relative mass change {rel}");
    }
}

/// A bone wall with permeability 0 stops transport completely; partial permeability
/// slows it in proportion.
#[test]
fn bone_slows_diffusion_as_configured() {
    let run = |perm: f64| {
        let sc = preset_scenario("bone-wall", &[("permeability", &perm)]);
        let mut sim = cpu_sim(&sc);
        sim.advance(sc.steps).unwrap();
        let u = sim.field("u").unwrap();
        // Amount beyond the wall (x > 320 µm, i >= 16).
        u.iter()
            .enumerate()
            .filter(|(v, _)| v % 30 >= 16)
            .map(|(_, &x)| x as f64)
            .sum::<f64>()
    };
    let (closed, partial, open) = (run(0.0), run(0.1), run(1.0));
    println!(
        "beyond the wall: permeability 0 -> {closed:.3e}, 0.1 -> {partial:.3e}, 1 -> {open:.3e}"
    );
    assert_eq!(closed, 0.0, "an impermeable wall lets nothing through");
    assert!(
        partial > 0.0 && partial < 0.5 * open,
        "partial {partial} vs open {open}"
    );
}

/// Fixed values on two faces give the exact linear steady profile.
#[test]
fn dirichlet_faces_give_the_linear_steady_state() {
    let text = r#"
name = "dirichlet"
grid = { size = [20, 3, 2], voxel_um = 10.0 }
time = { dt = "1 min", duration = "200 min" }
[[species]]
name = "u"
diffusion = 1000.0
initial = { kind = "uniform", value = 0.0 }
dirichlet = { x_min = 2.0, x_max = 1.0 }
"#;
    let sc = scenario(text);
    let mut sim = cpu_sim(&sc);
    sim.advance(sc.steps).unwrap();
    let u = sim.field("u").unwrap();
    for (v, &val) in u.iter().enumerate() {
        let x = ((v % 20) as f64 + 0.5) * 10.0;
        let exact = 2.0 - x / 200.0;
        assert!((val as f64 - exact).abs() < 1e-4, "x {x}: {val} vs {exact}");
    }
}

//! Chemotaxis (`cpu::motility`, mirror of `shaders/motility.wgsl`): drift at the expected
//! speed, mass conserved, never negative, and bone is not crossed.

use osteoniche::cpu::motility::motility;
use osteoniche::grid::Grid;
use osteoniche::sim::params::Chemotaxis;

/// Fields [cells, attractant, bone] on `grid`.
fn fields(
    grid: &Grid,
    cells: impl Fn(usize) -> f32,
    slope: f32,
    bone: impl Fn(usize) -> f32,
) -> Vec<f32> {
    let n = grid.len();
    let mut f = vec![0f32; 3 * n];
    for v in 0..n {
        let x = v % grid.nx;
        f[v] = cells(x);
        f[n + v] = slope * x as f32;
        f[2 * n + v] = bone(x);
    }
    f
}

fn pair(chi: f32, vmax: f32, dt_sub: f32, substeps: u32) -> Chemotaxis {
    Chemotaxis {
        cell: 0,
        attractant: 1,
        substeps,
        _pad: 0,
        chi,
        vmax,
        dt_sub,
        dx: 20.0,
    }
}

#[test]
fn cells_drift_up_the_gradient_at_the_saturating_speed() {
    let grid = Grid::new(64, 4, 4, 20.0);
    let n = grid.len();
    // A block of cells in the middle; attractant rises 0.1 nM per voxel.
    let mut f = fields(
        &grid,
        |x| if (20..28).contains(&x) { 0.5 } else { 0.0 },
        0.1,
        |_| 0.0,
    );
    let centre = |f: &[f32]| {
        let (mut m, mut s) = (0f64, 0f64);
        for (v, &c) in f[..n].iter().enumerate() {
            m += c as f64;
            s += c as f64 * (v % grid.nx) as f64;
        }
        (m, s / m)
    };
    let (m0, c0) = centre(&f);
    // chi 100 um^2/min/nM: g = 100 * 0.1 / 20 = 0.5 um/min; vmax 1 -> v = 1 * 0.5 / 1.5.
    let p = pair(100.0, 1.0, 2.0, 200);
    let mut scratch = Vec::new();
    motility(&mut f, &grid, 2, &p, &mut scratch);
    let (m1, c1) = centre(&f);
    let expected = (0.5f64 / 1.5) * 400.0 / 20.0; // voxels over 400 min
    println!(
        "mass {m0} -> {m1}; centre moved {:.3} voxels, expected {expected:.3}",
        c1 - c0
    );
    assert!(((m1 - m0) / m0).abs() < 1e-5, "mass conserved");
    assert!(f[..n].iter().all(|&c| c >= 0.0), "never negative");
    assert!(((c1 - c0) / expected - 1.0).abs() < 0.05, "drift speed");
}

#[test]
fn bone_is_not_crossed_and_nothing_goes_negative_at_the_largest_step() {
    let grid = Grid::new(32, 3, 3, 20.0);
    let n = grid.len();
    // Cells left of a bone wall at x = 16..18, attractant rising to the right, steep.
    let mut f = fields(
        &grid,
        |x| if x < 16 { 0.3 } else { 0.0 },
        5.0,
        |x| if (16..18).contains(&x) { 1.0 } else { 0.0 },
    );
    let m0: f64 = f[..n].iter().map(|&c| c as f64).sum();
    // The largest sub-step the host allows: 6 vmax dt / dx = 1.
    let p = pair(1000.0, 2.0, 20.0 / (6.0 * 2.0), 500);
    let mut scratch = Vec::new();
    motility(&mut f, &grid, 2, &p, &mut scratch);
    let m1: f64 = f[..n].iter().map(|&c| c as f64).sum();
    let beyond: f64 = (0..n)
        .filter(|v| v % grid.nx >= 16)
        .map(|v| f[v] as f64)
        .sum();
    let at_wall: f64 = (0..n)
        .filter(|v| v % grid.nx == 15)
        .map(|v| f[v] as f64)
        .sum();
    println!("mass {m0} -> {m1}; in or beyond the bone {beyond:e}; piled at the wall {at_wall:.3}");
    assert!(((m1 - m0) / m0).abs() < 1e-5);
    assert!(f[..n].iter().all(|&c| c >= 0.0));
    assert_eq!(beyond, 0.0, "no cell enters or crosses bone");
    assert!(at_wall > 0.3 * 9.0 * 2.0, "cells gather at the wall");
}

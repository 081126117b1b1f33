//! The simulation grid: a box of cubic voxels, cell-centred, x fastest in memory.

use serde::{Deserialize, Serialize};

/// A regular grid of `nx * ny * nz` cubic voxels of edge `dx_um`.
///
/// Voxel `(i, j, k)` has its centre at `((i + 0.5) dx, (j + 0.5) dx, (k + 0.5) dx)` µm and
/// linear index `i + nx * (j + ny * k)`; field `f` of a field set starts at `f * len()`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Grid {
    /// Voxels along x.
    pub nx: usize,
    /// Voxels along y.
    pub ny: usize,
    /// Voxels along z.
    pub nz: usize,
    /// Voxel edge, µm.
    pub dx_um: f64,
}

impl Grid {
    /// A grid of the given shape and voxel edge (µm).
    pub fn new(nx: usize, ny: usize, nz: usize, dx_um: f64) -> Self {
        Grid { nx, ny, nz, dx_um }
    }

    /// A cube of `n^3` voxels.
    pub fn cube(n: usize, dx_um: f64) -> Self {
        Self::new(n, n, n, dx_um)
    }

    /// Number of voxels.
    pub fn len(&self) -> usize {
        self.nx * self.ny * self.nz
    }

    /// True for a grid without voxels (never produced by a validated preset).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Shape as `[nx, ny, nz]`.
    pub fn dims(&self) -> [usize; 3] {
        [self.nx, self.ny, self.nz]
    }

    /// Linear index of voxel `(i, j, k)`.
    #[inline]
    pub fn index(&self, i: usize, j: usize, k: usize) -> usize {
        i + self.nx * (j + self.ny * k)
    }

    /// Voxel `(i, j, k)` of linear index `v`.
    #[inline]
    pub fn coords(&self, v: usize) -> [usize; 3] {
        [
            v % self.nx,
            (v / self.nx) % self.ny,
            v / (self.nx * self.ny),
        ]
    }

    /// Centre of the voxel of linear index `v` in µm.
    #[inline]
    pub fn center_of(&self, v: usize) -> [f64; 3] {
        let [i, j, k] = self.coords(v);
        self.center(i, j, k)
    }

    /// Centre of voxel `(i, j, k)` in µm.
    #[inline]
    pub fn center(&self, i: usize, j: usize, k: usize) -> [f64; 3] {
        [
            (i as f64 + 0.5) * self.dx_um,
            (j as f64 + 0.5) * self.dx_um,
            (k as f64 + 0.5) * self.dx_um,
        ]
    }

    /// Physical extent along each axis, µm.
    pub fn extent_um(&self) -> [f64; 3] {
        [
            self.nx as f64 * self.dx_um,
            self.ny as f64 * self.dx_um,
            self.nz as f64 * self.dx_um,
        ]
    }

    /// Voxel volume, µm^3.
    pub fn voxel_volume_um3(&self) -> f64 {
        self.dx_um.powi(3)
    }

    /// Longest line of the grid (the tridiagonal system size bound).
    pub fn max_line(&self) -> usize {
        self.nx.max(self.ny).max(self.nz)
    }
}

/// An axis of the grid (a lattice's preferred axis, a cosine initial condition's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Axis {
    /// x
    X,
    /// y
    Y,
    /// z
    Z,
}

impl Axis {
    /// 0, 1 or 2.
    pub fn index(self) -> usize {
        match self {
            Axis::X => 0,
            Axis::Y => 1,
            Axis::Z => 2,
        }
    }
}

//! Bone geometry on the grid: a bone fraction per voxel (0..1, partial volume at edges),
//! procedural (`generate`) or imported from a scan (`import`, `nrrd`), with its
//! morphometrics (`morphometry`).

pub mod coarsen;
pub mod generate;
pub mod import;
pub mod morphometry;
pub mod nrrd;
pub mod spec;
pub mod surface;

use std::path::Path;

use crate::error::{Error, Result};
use crate::grid::Grid;
use spec::LatticeSpec;

/// Bone fraction per voxel, in grid order, and optionally a vessel density.
#[derive(Debug, Clone, PartialEq)]
pub struct Lattice {
    /// The grid it lives on.
    pub grid: Grid,
    /// Mineralised fraction of each voxel, 0..=1.
    pub bone: Vec<f32>,
    /// Sinusoid (vessel) volume fraction of each voxel, 0..=1, inside the marrow only.
    pub vessels: Option<Vec<f32>>,
}

/// Resolved procedural parameters: the two given morphometric targets turned into BV/TV and
/// Tb.Th with the parallel-plate model (Parfitt 1983: BV/TV = Tb.Th / (Tb.Th + Tb.Sp)).
pub fn procedural_targets(
    bv_tv: Option<f64>,
    tb_th: Option<f64>,
    tb_sp: Option<f64>,
) -> Result<(f64, f64)> {
    match (bv_tv, tb_th, tb_sp) {
        (None, None, None) => Ok((0.15, 45.0)),
        (Some(b), Some(t), None) => Ok((b, t)),
        (Some(b), None, Some(s)) => Ok((b, s * b / (1.0 - b))),
        (None, Some(t), Some(s)) => Ok((t / (t + s), t)),
        _ => Err(Error::Invalid(
            "lattice: give exactly two of bv_tv, tb_th_um, tb_sp_um (or none for the mouse defaults)".into(),
        )),
    }
}

/// Builds the lattice a preset asks for on `grid`; file paths are relative to `base_dir`.
/// Refuses a grid on which less than a tenth of the asked bone volume (the procedural
/// BV/TV, or the scan's after segmentation) is left: nothing meaningful remains.
pub fn build(spec: &LatticeSpec, grid: Grid, seed: u64, base_dir: &Path) -> Result<Lattice> {
    let (bone, vessels, asked_bv_tv) = match spec {
        LatticeSpec::Procedural {
            bv_tv,
            tb_th_um,
            tb_sp_um,
            anisotropy,
            axis,
            plate_fraction,
            cortical,
            vessels,
        } => {
            let (b, t) = procedural_targets(*bv_tv, *tb_th_um, *tb_sp_um)?;
            let params = generate::TrabecularParams {
                bv_tv: b,
                tb_th_um: t,
                anisotropy: *anisotropy,
                axis: axis.index(),
                plate_fraction: *plate_fraction,
                cortical: cortical
                    .as_ref()
                    .map(|c| c.faces.iter().map(|&f| (f, c.thickness_um)).collect())
                    .unwrap_or_default(),
            };
            (generate::trabecular(grid, &params, seed), vessels, b)
        }
        LatticeSpec::File {
            path,
            raw,
            segmentation,
            roi,
            vessels,
        } => {
            let file = base_dir.join(path);
            let volume = match raw {
                Some(spec) => import::read_raw(&file, spec)?,
                None => nrrd::read_nrrd(&file)?,
            };
            let volume = import::segment(&volume, *segmentation)?;
            let volume = match roi {
                Some(r) => import::crop(&volume, r.origin_um, r.size_um)?,
                None => volume,
            };
            let scan_bv_tv = mean_fraction(&volume.data);
            (import::resample(&volume, &grid)?, vessels, scan_bv_tv)
        }
    };
    let got = mean_fraction(&bone);
    if asked_bv_tv > 0.0 && got < 0.1 * asked_bv_tv {
        let t = asked(spec).map(|(t, _)| t);
        return Err(Error::Invalid(format!(
            "lattice: a {}x{}x{} grid at {} µm keeps BV/TV {got:.3} of the {asked_bv_tv:.3} asked: \
             nothing meaningful of the bone remains{}",
            grid.nx,
            grid.ny,
            grid.nz,
            crate::numerics::plain(grid.dx_um, 4),
            t.map(|t| format!(
                " (trabeculae {} µm thick are {:.2} voxels across); use --resolution {} or finer",
                crate::numerics::plain(t, 4),
                t / grid.dx_um,
                voxels_across(&grid, t, RESOLVED_VOXELS_ACROSS)
            ))
            .unwrap_or_default()
        )));
    }
    let vessels = vessels.as_ref().map(|v| {
        let params = generate::TrabecularParams {
            bv_tv: v.density,
            tb_th_um: v.calibre_um,
            anisotropy: 1.0,
            axis: 2,
            plate_fraction: 0.0,
            cortical: vec![],
        };
        let tubes = generate::trabecular(grid, &params, seed ^ 0x5eed_0f7e_55e1);
        tubes
            .iter()
            .zip(&bone)
            .map(|(&t, &b)| t * (1.0 - b))
            .collect()
    });
    Ok(Lattice {
        grid,
        bone,
        vessels,
    })
}

/// Mean of fractions (BV/TV of bone fractions), 0 for none.
fn mean_fraction(values: &[f32]) -> f64 {
    values.iter().map(|&b| b as f64).sum::<f64>() / values.len().max(1) as f64
}

/// The trabecular thickness (µm) and BV/TV a procedural lattice asks for (`None` for a
/// scan, whose thickness is what it measures).
fn asked(spec: &LatticeSpec) -> Option<(f64, f64)> {
    match spec {
        LatticeSpec::Procedural {
            bv_tv,
            tb_th_um,
            tb_sp_um,
            ..
        } => procedural_targets(*bv_tv, *tb_th_um, *tb_sp_um)
            .ok()
            .map(|(b, t)| (t, b)),
        LatticeSpec::File { .. } => None,
    }
}

/// The `--resolution` (voxels on the longest axis of the same box) that puts `voxels`
/// voxels across a trabecula `t` µm thick.
fn voxels_across(grid: &Grid, t: f64, voxels: f64) -> usize {
    let longest = grid.extent_um().into_iter().fold(0.0, f64::max);
    (longest * voxels / t).ceil() as usize
}

/// Voxels across a trabecula from which the grid counts its surface to within about 5 %:
/// on the default lattice coarsened from 96^3 (docs/studies.md) the summed area density is
/// 47 %, 70 % and 82 % of the 96^3 value at 1, 1.5 and 2 voxels across.
pub const RESOLVED_VOXELS_ACROSS: f64 = 3.0;

/// What the grid makes of a procedural lattice whose trabeculae are under
/// [`RESOLVED_VOXELS_ACROSS`] voxels across: the asked and measured figures, what it does
/// to the bone surface, and the `--resolution` that resolves them (the surface, and every
/// surface-bound quantity with it, follows the measured figures). `None` when the grid
/// resolves the lattice, or for a scan.
pub fn resolution_warning(
    spec: &LatticeSpec,
    grid: &Grid,
    measured: &morphometry::Morphometrics,
) -> Option<String> {
    let (t, b) = asked(spec)?;
    let across = t / grid.dx_um;
    if across >= RESOLVED_VOXELS_ACROSS {
        return None;
    }
    let p = |x: f64| crate::numerics::plain(x, 3);
    Some(format!(
        "the grid does not resolve the lattice: trabeculae {} µm thick are {across:.2} voxels across at {} µm, \
         so it measures Tb.Th {} µm, BV/TV {} and BS/TV {}/mm (asked: Tb.Th {} µm, BV/TV {}); \
         the bone surface is undercounted (by about 50 % at one voxel across, 30 % at 1.5, 20 % at 2) and every \
         bone-surface quantity with it. --resolution {} or finer gives three voxels across",
        p(t),
        p(grid.dx_um),
        p(measured.tb_th_um),
        p(measured.bv_tv),
        p(measured.bs_tv_per_mm),
        p(t),
        p(b),
        voxels_across(grid, t, RESOLVED_VOXELS_ACROSS)
    ))
}

/// Small deterministic generator (SplitMix64): the same seed gives the same lattice on
/// every platform.
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl Lattice {
    /// A procedural trabecular lattice (see [`generate`]).
    pub fn trabecular(grid: Grid, params: &generate::TrabecularParams, seed: u64) -> Lattice {
        Lattice {
            grid,
            bone: generate::trabecular(grid, params, seed),
            vessels: None,
        }
    }

    /// Mean vessel volume fraction, when the lattice has vessels.
    pub fn vessel_fraction(&self) -> Option<f64> {
        self.vessels
            .as_ref()
            .map(|v| v.iter().map(|&x| x as f64).sum::<f64>() / v.len().max(1) as f64)
    }

    /// Bone volume fraction BV/TV of the whole grid.
    pub fn bv_tv(&self) -> f64 {
        mean_fraction(&self.bone)
    }

    /// Its morphometrics on its grid, and the [`resolution_warning`] of `spec` (what it
    /// was built from, when known) on that grid.
    pub fn assess(
        &self,
        spec: Option<&LatticeSpec>,
    ) -> (morphometry::Morphometrics, Option<String>) {
        let m = morphometry::measure(&self.grid, &self.bone);
        let warning = spec.and_then(|s| resolution_warning(s, &self.grid, &m));
        (m, warning)
    }

    /// Bone-surface area density of every voxel, 1/µm ([`surface::area_density`]): zero
    /// inside solid bone and in open marrow; its volume integral is the bone surface area.
    pub fn area_density(&self) -> Vec<f32> {
        surface::area_densities(&self.bone, &self.grid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small isotropic lattice's parameters (BV/TV 0.2, Tb.Th 60 µm), shared by the
    /// lattice module's tests.
    pub(super) fn params() -> generate::TrabecularParams {
        generate::TrabecularParams {
            bv_tv: 0.2,
            tb_th_um: 60.0,
            anisotropy: 1.0,
            axis: 2,
            plate_fraction: 0.5,
            cortical: vec![],
        }
    }

    #[test]
    fn generator_hits_bv_tv_and_is_deterministic() {
        let grid = Grid::cube(32, 15.0);
        let a = Lattice::trabecular(grid, &params(), 7);
        let b = Lattice::trabecular(grid, &params(), 7);
        let c = Lattice::trabecular(grid, &params(), 8);
        assert_eq!(a, b);
        assert_ne!(a.bone, c.bone);
        assert!((a.bv_tv() - 0.2).abs() < 0.03, "BV/TV {}", a.bv_tv());
        assert!(a.bone.iter().all(|&b| (0.0..=1.0).contains(&b)));
        let partial = a.bone.iter().filter(|&&b| b > 0.0 && b < 1.0).count();
        assert!(partial > 0, "edges carry partial volumes");
        assert!(a.area_density().iter().any(|&s| s > 0.0));
    }

    #[test]
    fn grids_too_coarse_for_the_lattice_warn_or_are_refused() {
        let spec: LatticeSpec =
            toml::from_str("kind = \"procedural\"\nbv_tv = 0.15\ntb_th_um = 80.0").unwrap();
        let box_um = 2560.0;
        let on = |n: usize| Grid::cube(n, box_um / n as f64);
        let warned = |n: usize| {
            let l = build(&spec, on(n), 1, Path::new("")).unwrap();
            let m = morphometry::measure(&l.grid, &l.bone);
            (resolution_warning(&spec, &l.grid, &m), m)
        };
        // Three voxels across a trabecula of 80 µm: 26.7 µm voxels, 96 on the axis.
        assert_eq!(warned(96).0, None);
        // Two voxels across (the default grid) and one: warned, with the asked and measured
        // figures, the undercount and the grid to use.
        let (w, _) = warned(64);
        assert!(
            w.expect("a warning at 64^3")
                .contains("2.00 voxels across at 40 µm")
        );
        let (w, m) = warned(32);
        let w = w.expect("a warning at 32^3");
        for words in [
            "1.00 voxels across at 80 µm",
            "asked: Tb.Th 80 µm",
            "undercounted",
            "--resolution 96",
        ] {
            assert!(w.contains(words), "{words:?} not in {w}");
        }
        assert!(w.contains(&format!(
            "Tb.Th {} µm",
            crate::numerics::plain(m.tb_th_um, 3)
        )));
        // One voxel for the whole box: nothing of the bone is left, refused.
        let e = build(&spec, on(1), 1, Path::new(""))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("1x1x1 grid")
                && e.contains("nothing meaningful")
                && e.contains("--resolution 96"),
            "{e}"
        );
    }
}

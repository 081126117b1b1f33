//! Lattices from scans: raw volumes, segmentation to a bone fraction, region of interest,
//! and resampling to the simulation grid.

use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::nrrd::{MAX_SAMPLES, SampleType, Volume, decode};
use crate::error::{Error, Result};
use crate::grid::Grid;

/// Layout of a headerless volume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpec {
    /// Samples along x, y, z.
    pub size: [usize; 3],
    /// Sample type.
    #[serde(rename = "type")]
    pub sample_type: SampleType,
    /// Sample spacing along x, y, z, µm.
    pub spacing_um: [f64; 3],
    /// Byte order of multi-byte samples. Default false (little-endian).
    #[serde(default)]
    pub big_endian: bool,
    /// Bytes to skip before the data. Default 0.
    #[serde(default)]
    pub header_bytes: usize,
}

/// How scan values become a bone fraction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Segmentation {
    /// Bone (1) at or above the threshold, marrow (0) below.
    Threshold {
        /// Threshold, in scan units.
        threshold: f64,
    },
    /// Linear calibration: `marrow` maps to 0, `bone` to 1, values between to partial
    /// volumes, clamped to 0..1.
    Calibrated {
        /// Scan value of pure marrow.
        marrow: f64,
        /// Scan value of fully mineralised bone.
        bone: f64,
    },
}

/// Reads a headerless volume.
pub fn read_raw(path: &Path, spec: &RawSpec) -> Result<Volume> {
    let count: u64 = spec.size.iter().map(|&s| s as u64).product();
    if spec.size.contains(&0) || count > MAX_SAMPLES {
        return Err(Error::Invalid(format!(
            "{}: size {:?} must be positive and at most {MAX_SAMPLES} samples",
            path.display(),
            spec.size
        )));
    }
    if spec.spacing_um.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
        return Err(Error::Invalid(format!(
            "{}: spacing_um {:?} must be positive",
            path.display(),
            spec.spacing_um
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let need = spec.header_bytes + count as usize * spec.sample_type.size();
    if bytes.len() != need {
        return Err(Error::Invalid(format!(
            "{}: file holds {} bytes; size {:?} of {:?} after {} header bytes needs {need}",
            path.display(),
            bytes.len(),
            spec.size,
            spec.sample_type,
            spec.header_bytes
        )));
    }
    Ok(Volume {
        size: spec.size,
        spacing_um: spec.spacing_um,
        data: decode(
            &bytes[spec.header_bytes..],
            spec.sample_type,
            spec.big_endian,
        ),
    })
}

/// Maps scan values to bone fractions.
pub fn segment(v: &Volume, seg: Segmentation) -> Result<Volume> {
    let data = match seg {
        Segmentation::Threshold { threshold } => v
            .data
            .iter()
            .map(|&x| f32::from(x as f64 >= threshold))
            .collect(),
        Segmentation::Calibrated { marrow, bone } => {
            if !(bone - marrow).is_normal() {
                return Err(Error::Invalid(format!(
                    "calibration: bone ({bone}) and marrow ({marrow}) values must differ"
                )));
            }
            v.data
                .iter()
                .map(|&x| (((x as f64 - marrow) / (bone - marrow)).clamp(0.0, 1.0)) as f32)
                .collect()
        }
    };
    Ok(Volume { data, ..v.clone() })
}

/// The part of `v` starting at `origin_um` with extent `size_um`.
pub fn crop(v: &Volume, origin_um: [f64; 3], size_um: [f64; 3]) -> Result<Volume> {
    let mut lo = [0usize; 3];
    let mut n = [0usize; 3];
    for a in 0..3 {
        let ext = v.size[a] as f64 * v.spacing_um[a];
        if !(origin_um[a] >= 0.0 && size_um[a] > 0.0 && origin_um[a] + size_um[a] <= ext + 1e-9) {
            return Err(Error::Invalid(format!(
                "region of interest {:?} + {:?} µm leaves the scan ({:.1} x {:.1} x {:.1} µm) along {}",
                origin_um,
                size_um,
                v.size[0] as f64 * v.spacing_um[0],
                v.size[1] as f64 * v.spacing_um[1],
                v.size[2] as f64 * v.spacing_um[2],
                ["x", "y", "z"][a]
            )));
        }
        lo[a] = (origin_um[a] / v.spacing_um[a]).floor() as usize;
        n[a] = ((size_um[a] / v.spacing_um[a]).round() as usize).clamp(1, v.size[a] - lo[a]);
    }
    let mut data = Vec::with_capacity(n[0] * n[1] * n[2]);
    for k in 0..n[2] {
        for j in 0..n[1] {
            let start = lo[0] + v.size[0] * ((lo[1] + j) + v.size[1] * (lo[2] + k));
            data.extend_from_slice(&v.data[start..start + n[0]]);
        }
    }
    Ok(Volume {
        size: n,
        spacing_um: v.spacing_um,
        data,
    })
}

/// Resamples a fraction volume onto `grid` (placed at the volume's origin): each grid voxel
/// averages 3^3 trilinear samples, so partial volumes survive coarsening.
pub fn resample(v: &Volume, grid: &Grid) -> Result<Vec<f32>> {
    let ext = grid.extent_um();
    for a in 0..3 {
        let have = v.size[a] as f64 * v.spacing_um[a];
        if ext[a] > have * (1.0 + 1e-6) {
            return Err(Error::Invalid(format!(
                "the grid is {:.0} µm along {} but the scan covers {:.0} µm: use fewer voxels or a smaller voxel_um",
                ext[a],
                ["x", "y", "z"][a],
                have
            )));
        }
    }
    let sample = |p: [f64; 3]| -> f64 {
        let mut idx = [0usize; 3];
        let mut frac = [0f64; 3];
        for a in 0..3 {
            let x = (p[a] / v.spacing_um[a] - 0.5).clamp(0.0, (v.size[a] - 1) as f64);
            idx[a] = (x.floor() as usize).min(v.size[a].saturating_sub(2));
            frac[a] = if v.size[a] > 1 {
                x - idx[a] as f64
            } else {
                0.0
            };
        }
        let at = |i: usize, j: usize, k: usize| {
            let (i, j, k) = (
                i.min(v.size[0] - 1),
                j.min(v.size[1] - 1),
                k.min(v.size[2] - 1),
            );
            v.data[i + v.size[0] * (j + v.size[1] * k)] as f64
        };
        let mut s = 0.0;
        for dk in 0..2 {
            for dj in 0..2 {
                for di in 0..2 {
                    let w = (if di == 1 { frac[0] } else { 1.0 - frac[0] })
                        * (if dj == 1 { frac[1] } else { 1.0 - frac[1] })
                        * (if dk == 1 { frac[2] } else { 1.0 - frac[2] });
                    s += w * at(idx[0] + di, idx[1] + dj, idx[2] + dk);
                }
            }
        }
        s
    };
    let dx = grid.dx_um;
    Ok((0..grid.len())
        .into_par_iter()
        .map(|vox| {
            let [i, j, k] = grid.coords(vox);
            let mut s = 0.0;
            for sub in 0..27 {
                let o = [sub % 3, (sub / 3) % 3, sub / 9];
                let p = [
                    (i as f64 + (o[0] as f64 + 0.5) / 3.0) * dx,
                    (j as f64 + (o[1] as f64 + 0.5) / 3.0) * dx,
                    (k as f64 + (o[2] as f64 + 0.5) / 3.0) * dx,
                ];
                s += sample(p);
            }
            (s / 27.0).clamp(0.0, 1.0) as f32
        })
        .collect())
}

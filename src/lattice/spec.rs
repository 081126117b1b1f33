//! The `[lattice]` section of a preset as the lattice owns it: procedural morphometric
//! targets or a scan file, with the cortical shell, marrow sinusoids and region of
//! interest (`preset` assembles it into the preset file).

use serde::{Deserialize, Serialize};

use crate::grid::Axis;

/// `[lattice]`: the bone geometry, procedural or from a scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum LatticeSpec {
    /// Generated from morphometric targets (see `lattice::generate`). Give two of
    /// `bv_tv`, `tb_th_um`, `tb_sp_um` (the third follows from the parallel-plate model
    /// BV/TV = Tb.Th / (Tb.Th + Tb.Sp)); none gives the mouse defaults 0.15 and 45 µm.
    Procedural {
        /// Bone volume fraction, 0.01..=0.6.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bv_tv: Option<f64>,
        /// Trabecular thickness, µm; > 0.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tb_th_um: Option<f64>,
        /// Trabecular separation, µm; > 0.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tb_sp_um: Option<f64>,
        /// Degree of anisotropy, >= 1. Default 1.
        #[serde(default = "one")]
        anisotropy: f64,
        /// Preferred axis. Default z.
        #[serde(default = "axis_z")]
        axis: Axis,
        /// Share of plates (the rest rods), 0..=1. Default 0.5.
        #[serde(default = "half")]
        plate_fraction: f64,
        /// Cortical shell. Default none.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cortical: Option<CorticalSpec>,
        /// Marrow sinusoids. Default none.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        vessels: Option<VesselSpec>,
    },
    /// Read from a NRRD file, or a raw volume described by `raw`, segmented and resampled
    /// onto the grid (placed at the scan's or the region of interest's origin).
    File {
        /// Path, relative to the preset file.
        path: String,
        /// Layout of a headerless volume; absent for NRRD.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        raw: Option<super::import::RawSpec>,
        /// How scan values become bone fractions.
        segmentation: super::import::Segmentation,
        /// Part of the scan to use. Default: all of it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        roi: Option<RoiSpec>,
        /// Marrow sinusoids. Default none.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        vessels: Option<VesselSpec>,
    },
}

fn axis_z() -> Axis {
    Axis::Z
}
fn half() -> f64 {
    0.5
}

/// `cortical = { faces = [...], thickness_um = ... }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorticalSpec {
    /// Faces with a shell: x_min, x_max, y_min, y_max, z_min, z_max.
    pub faces: Vec<super::generate::Face>,
    /// Shell thickness, µm; > 0.
    pub thickness_um: f64,
}

/// `vessels = { density = ..., calibre_um = ... }`: sinusoids as a network of tubes in
/// the marrow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VesselSpec {
    /// Vessel volume fraction before masking by bone, 0 < density <= 0.5.
    pub density: f64,
    /// Vessel diameter, µm; > 0.
    pub calibre_um: f64,
}

/// `roi = { origin_um = [...], size_um = [...] }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoiSpec {
    /// Corner of the region in the scan, µm.
    pub origin_um: [f64; 3],
    /// Extent, µm.
    pub size_um: [f64; 3],
}

fn one() -> f64 {
    1.0
}

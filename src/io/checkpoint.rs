//! Checkpoints: the whole state of a run in one versioned, checksummed file, written
//! atomically, from which `osteoniche resume` continues exactly where the run stood.
//!
//! Layout (little-endian): magic `OSTNCKPT`, format version (u32), header length (u64),
//! header (JSON: preset, seed, step, grid, field names, metrics so far), field data length
//! (u64), field data (f32), then the CRC-32 (IEEE, `crc32fast`: several GB/s) of everything
//! before it, as a u32. Format 1 (osteoniche before 2026-12-01) ended in a byte-at-a-time FNV-1a
//! 64-bit checksum (about 1 GB/s); it is refused with both versions named.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic_with;
use crate::error::{Error, Result};

const MAGIC: &[u8; 8] = b"OSTNCKPT";
/// Format version this build writes and reads.
pub const VERSION: u32 = 2;

/// Everything but the fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointHeader {
    /// osteoniche version that wrote it.
    pub writer: String,
    /// The resolved preset (TOML) the run used, overrides applied.
    pub preset_toml: String,
    /// Where the preset came from (relative lattice paths resolve against its folder).
    pub preset_origin: String,
    /// `--resolution` in force, if any.
    pub resolution: Option<usize>,
    /// Seed in force.
    pub seed: u64,
    /// Steps taken.
    pub step: u64,
    /// Grid shape.
    pub grid: [usize; 3],
    /// Field names in memory order.
    pub fields: Vec<String>,
    /// Backend the run used (`cpu` or `gpu`).
    pub backend: String,
    /// metrics.csv as written so far.
    pub metrics_csv: String,
    /// The model file the run used, as `(text, origin)`, when the preset has a model.
    #[serde(default)]
    pub model: Option<(String, String)>,
    /// The systemic pools at `step`, when the preset has a model.
    #[serde(default)]
    pub systemic: Option<crate::model::systemic::Systemic>,
    /// The drug library the run used, as `(text, origin)`, when the preset has drugs.
    #[serde(default)]
    pub library: Option<(String, String)>,
    /// The drugs' systemic state, schedule and dosing log at `step`.
    #[serde(default)]
    pub pharma: Option<crate::pharma::dosing::PharmaState>,
}

/// A checkpoint: header and field data (field-major).
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// Everything but the fields.
    pub header: CheckpointHeader,
    /// Field values, field-major.
    pub data: Vec<f32>,
}

/// Hashes and forwards everything written through it.
struct Hashing<W: Write> {
    inner: W,
    hash: crc32fast::Hasher,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl Checkpoint {
    /// Writes the checkpoint atomically (a crash mid-write leaves the previous one).
    pub fn write(&self, path: &Path) -> Result<()> {
        let header = serde_json::to_vec(&self.header).map_err(|e| Error::Invalid(e.to_string()))?;
        write_atomic_with(path, |w| {
            let mut h = Hashing {
                inner: w,
                hash: crc32fast::Hasher::new(),
            };
            h.write_all(MAGIC)?;
            h.write_all(&VERSION.to_le_bytes())?;
            h.write_all(&(header.len() as u64).to_le_bytes())?;
            h.write_all(&header)?;
            h.write_all(&(4 * self.data.len() as u64).to_le_bytes())?;
            #[cfg(target_endian = "little")]
            h.write_all(bytemuck::cast_slice(&self.data))?;
            #[cfg(not(target_endian = "little"))]
            for v in &self.data {
                h.write_all(&v.to_le_bytes())?;
            }
            let sum = h.hash.finalize();
            h.inner.write_all(&sum.to_le_bytes())
        })
    }

    /// Reads and verifies a checkpoint.
    pub fn read(path: &Path) -> Result<Checkpoint> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let bad = |message: String| Error::Checkpoint {
            path: path.to_path_buf(),
            message,
        };
        if bytes.len() < 8 + 4 + 8 + 8 + 4 || &bytes[..8] != MAGIC {
            return Err(bad("not an osteoniche checkpoint".into()));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != VERSION {
            let whose = if version < VERSION {
                "an older osteoniche wrote it; resume it with that version"
            } else {
                "a newer osteoniche wrote it"
            };
            return Err(bad(format!(
                "checkpoint format version {version}; this osteoniche reads version {VERSION} \
                 ({whose})"
            )));
        }
        let (body, tail) = bytes.split_at(bytes.len() - 4);
        let stored = u32::from_le_bytes(tail.try_into().expect("4 bytes"));
        if crc32fast::hash(body) != stored {
            return Err(bad(
                "checksum mismatch: the file is corrupt or truncated".into()
            ));
        }
        let hlen = u64::from_le_bytes(body[12..20].try_into().expect("8 bytes")) as usize;
        let hend = 20usize
            .checked_add(hlen)
            .filter(|&e| e + 8 <= body.len())
            .ok_or_else(|| bad("header length runs past the end".into()))?;
        let header: CheckpointHeader = serde_json::from_slice(&body[20..hend])
            .map_err(|e| bad(format!("header is not valid: {e}")))?;
        let dlen = u64::from_le_bytes(body[hend..hend + 8].try_into().expect("8 bytes")) as usize;
        let data_bytes = &body[hend + 8..];
        if data_bytes.len() != dlen || !dlen.is_multiple_of(4) {
            return Err(bad(format!(
                "field data holds {} bytes, header says {dlen}",
                data_bytes.len()
            )));
        }
        let expected = header
            .grid
            .iter()
            .try_fold(1usize, |a, &b| a.checked_mul(b))
            .and_then(|n| n.checked_mul(header.fields.len()));
        if Some(dlen / 4) != expected {
            let expected = expected.map_or("more than fits in memory".into(), |e| e.to_string());
            return Err(bad(format!(
                "{} values for a {:?} grid with {} fields (needs {expected})",
                dlen / 4,
                header.grid,
                header.fields.len()
            )));
        }
        #[cfg(target_endian = "little")]
        let data = bytemuck::pod_collect_to_vec(data_bytes);
        #[cfg(not(target_endian = "little"))]
        let data = data_bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        Ok(Checkpoint { header, data })
    }
}

//! NRRD volumes (the common micro-CT exchange format): reader for raw and gzip encodings
//! with attached or detached data, and a writer. Every malformed input gives an error that
//! names the file, the field or the byte count at fault.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Sample type of a volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SampleType {
    /// unsigned 8-bit
    U8,
    /// signed 8-bit
    I8,
    /// unsigned 16-bit
    U16,
    /// signed 16-bit
    I16,
    /// unsigned 32-bit
    U32,
    /// signed 32-bit
    I32,
    /// 32-bit float
    F32,
    /// 64-bit float
    F64,
}

impl SampleType {
    /// Bytes per sample.
    pub fn size(self) -> usize {
        match self {
            SampleType::U8 | SampleType::I8 => 1,
            SampleType::U16 | SampleType::I16 => 2,
            SampleType::U32 | SampleType::I32 | SampleType::F32 => 4,
            SampleType::F64 => 8,
        }
    }

    /// The NRRD spelling of a type, or `None` if unsupported.
    fn from_nrrd(s: &str) -> Option<SampleType> {
        Some(match s {
            "uchar" | "unsigned char" | "uint8" | "uint8_t" => SampleType::U8,
            "signed char" | "int8" | "int8_t" => SampleType::I8,
            "ushort" | "unsigned short" | "unsigned short int" | "uint16" | "uint16_t" => {
                SampleType::U16
            }
            "short" | "short int" | "signed short" | "signed short int" | "int16" | "int16_t" => {
                SampleType::I16
            }
            "uint" | "unsigned int" | "uint32" | "uint32_t" => SampleType::U32,
            "int" | "signed int" | "int32" | "int32_t" => SampleType::I32,
            "float" => SampleType::F32,
            "double" => SampleType::F64,
            _ => return None,
        })
    }

    fn nrrd_name(self) -> &'static str {
        match self {
            SampleType::U8 => "uint8",
            SampleType::I8 => "int8",
            SampleType::U16 => "uint16",
            SampleType::I16 => "int16",
            SampleType::U32 => "uint32",
            SampleType::I32 => "int32",
            SampleType::F32 => "float",
            SampleType::F64 => "double",
        }
    }
}

/// Decodes little- or big-endian samples to f32.
pub fn decode(bytes: &[u8], ty: SampleType, big_endian: bool) -> Vec<f32> {
    let n = ty.size();
    bytes
        .chunks_exact(n)
        .map(|c| {
            let mut b = [0u8; 8];
            b[..n].copy_from_slice(c);
            if big_endian {
                b[..n].reverse();
            }
            match ty {
                SampleType::U8 => b[0] as f32,
                SampleType::I8 => b[0] as i8 as f32,
                SampleType::U16 => u16::from_le_bytes([b[0], b[1]]) as f32,
                SampleType::I16 => i16::from_le_bytes([b[0], b[1]]) as f32,
                SampleType::U32 => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32,
                SampleType::I32 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32,
                SampleType::F32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                SampleType::F64 => f64::from_le_bytes(b) as f32,
            }
        })
        .collect()
}

/// A volume read from a scan: samples (x fastest) as f32, shape and spacing.
#[derive(Debug, Clone, PartialEq)]
pub struct Volume {
    /// Samples along x, y, z.
    pub size: [usize; 3],
    /// Sample spacing, µm (NRRD spacings are taken as µm unless `space units` says mm).
    pub spacing_um: [f64; 3],
    /// Values, x fastest.
    pub data: Vec<f32>,
}

/// Largest volume accepted: 2^31 samples (8 GiB as f32).
pub const MAX_SAMPLES: u64 = 1 << 31;

fn bad(path: &Path, msg: impl Into<String>) -> Error {
    Error::Invalid(format!("{}: {}", path.display(), msg.into()))
}

/// Reads a NRRD file (`.nrrd` with attached data, or `.nhdr` with a `data file`).
pub fn read_nrrd(path: &Path) -> Result<Volume> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_nrrd(&bytes, path)
}

/// Parses NRRD bytes; `path` names the file in errors and anchors detached data files.
pub fn parse_nrrd(bytes: &[u8], path: &Path) -> Result<Volume> {
    if !bytes.starts_with(b"NRRD000") {
        return Err(bad(
            path,
            "not a NRRD file (it must start with the magic `NRRD000x`)",
        ));
    }
    // Header: lines up to the first empty line.
    let mut pos = 0;
    let mut lines = Vec::new();
    loop {
        let end = bytes[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|e| pos + e)
            .ok_or_else(|| bad(path, "header ends before its blank line (truncated file?)"))?;
        let line = std::str::from_utf8(&bytes[pos..end])
            .map_err(|_| bad(path, format!("header line {} is not text", lines.len() + 1)))?
            .trim_end_matches('\r')
            .to_string();
        pos = end + 1;
        if line.is_empty() {
            break;
        }
        lines.push(line);
        if lines.len() > 10_000 {
            return Err(bad(path, "header has more than 10,000 lines"));
        }
    }
    let mut field = std::collections::HashMap::new();
    for (n, line) in lines.iter().enumerate().skip(1) {
        if line.starts_with('#') {
            continue;
        }
        if let Some((k, v)) = line.split_once(":=") {
            let _ = (k, v); // key/value pairs: metadata, not needed
            continue;
        }
        let (k, v) = line.split_once(": ").ok_or_else(|| {
            bad(
                path,
                format!("header line {}: `{line}` is not `field: value`", n + 1),
            )
        })?;
        field.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
    }
    let get = |k: &str| field.get(k).map(|s| s.as_str());
    let need =
        |k: &str| get(k).ok_or_else(|| bad(path, format!("required field `{k}` is missing")));
    let ty_name = need("type")?;
    let ty = SampleType::from_nrrd(ty_name).ok_or_else(|| {
        bad(
            path,
            format!(
                "unsupported type `{ty_name}` (supported: 8/16/32-bit integers, float, double)"
            ),
        )
    })?;
    let dimension: usize = need("dimension")?
        .parse()
        .map_err(|_| bad(path, "`dimension` is not a number"))?;
    if dimension != 3 {
        return Err(bad(
            path,
            format!("dimension {dimension}: only 3-D volumes can be a lattice"),
        ));
    }
    let sizes: Vec<usize> = need("sizes")?
        .split_whitespace()
        .map(|s| s.parse::<usize>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| {
            bad(
                path,
                format!(
                    "`sizes: {}` are not whole numbers",
                    get("sizes").unwrap_or("")
                ),
            )
        })?;
    if sizes.len() != 3 || sizes.contains(&0) {
        return Err(bad(
            path,
            format!("`sizes` must be three positive numbers, found {sizes:?}"),
        ));
    }
    let count = sizes.iter().map(|&s| s as u64).product::<u64>();
    if count > MAX_SAMPLES {
        return Err(bad(
            path,
            format!("{count} samples is more than the {MAX_SAMPLES} accepted; crop the scan first"),
        ));
    }
    let unit_scale = match get("space units") {
        Some(u) if u.contains("mm") => 1000.0,
        _ => 1.0,
    };
    let spacing = if let Some(s) = get("spacings") {
        let v: Vec<f64> = s
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        if v.len() != 3 || v.iter().any(|x| !(x.is_finite() && *x > 0.0)) {
            return Err(bad(
                path,
                format!("`spacings: {s}` must be three positive numbers"),
            ));
        }
        [v[0], v[1], v[2]]
    } else if let Some(s) = get("space directions") {
        let vecs: Vec<f64> = s
            .split(')')
            .filter(|t| t.contains('('))
            .map(|t| {
                t.trim()
                    .trim_start_matches('(')
                    .split(',')
                    .filter_map(|x| x.trim().parse::<f64>().ok())
                    .map(|x| x * x)
                    .sum::<f64>()
                    .sqrt()
            })
            .collect();
        if vecs.len() != 3 || vecs.iter().any(|x| !(x.is_finite() && *x > 0.0)) {
            return Err(bad(
                path,
                format!("`space directions: {s}` must be three non-zero vectors"),
            ));
        }
        [vecs[0], vecs[1], vecs[2]]
    } else {
        [1.0, 1.0, 1.0]
    };
    let spacing_um = spacing.map(|s| s * unit_scale);
    let encoding = need("encoding")?;
    let big_endian = matches!(get("endian"), Some("big"));
    if ty.size() > 1 && get("endian").is_none() {
        return Err(bad(
            path,
            "required field `endian` is missing (multi-byte samples)",
        ));
    }
    let payload: Vec<u8> = match get("data file").or(get("datafile")) {
        Some(name) => {
            let p: PathBuf = path.parent().unwrap_or(Path::new(".")).join(name);
            std::fs::read(&p).map_err(|e| Error::io(&p, e))?
        }
        None => bytes[pos..].to_vec(),
    };
    let skip: usize = get("byte skip").and_then(|s| s.parse().ok()).unwrap_or(0);
    let expected = count as usize * ty.size();
    let raw = match encoding {
        "raw" => payload,
        "gzip" | "gz" => {
            // Grow as the data inflates: a tiny stream may claim a huge size.
            let mut out =
                Vec::with_capacity(expected.min(payload.len().saturating_mul(4)).min(1 << 26));
            flate2::read::MultiGzDecoder::new(&payload[..])
                .take(expected as u64 + skip as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| bad(path, format!("gzip data is corrupt: {e}")))?;
            out
        }
        other => {
            return Err(bad(
                path,
                format!("encoding `{other}` is not supported (raw, gzip)"),
            ));
        }
    };
    if raw.len() < skip + expected {
        return Err(bad(
            path,
            format!(
                "data holds {} bytes but sizes {:?} of {ty_name} need {expected} (truncated?)",
                raw.len().saturating_sub(skip),
                sizes
            ),
        ));
    }
    if encoding == "raw" && raw.len() > skip + expected && get("data file").is_none() {
        return Err(bad(
            path,
            format!(
                "data holds {} bytes but sizes {sizes:?} of {ty_name} need {expected}",
                raw.len() - skip
            ),
        ));
    }
    Ok(Volume {
        size: [sizes[0], sizes[1], sizes[2]],
        spacing_um,
        data: decode(&raw[skip..skip + expected], ty, big_endian),
    })
}

/// Writes a volume as NRRD (float samples, little-endian, gzip or raw).
pub fn write_nrrd(path: &Path, v: &Volume, gzip: bool) -> Result<()> {
    use std::io::Write;
    crate::atomic::write_atomic_with(path, |w| {
        writeln!(w, "NRRD0004")?;
        writeln!(w, "# written by osteoniche")?;
        writeln!(w, "type: {}", SampleType::F32.nrrd_name())?;
        writeln!(w, "dimension: 3")?;
        writeln!(w, "sizes: {} {} {}", v.size[0], v.size[1], v.size[2])?;
        writeln!(
            w,
            "spacings: {} {} {}",
            v.spacing_um[0], v.spacing_um[1], v.spacing_um[2]
        )?;
        writeln!(w, "endian: little")?;
        writeln!(w, "encoding: {}", if gzip { "gzip" } else { "raw" })?;
        writeln!(w)?;
        let bytes: Vec<u8> = v.data.iter().flat_map(|x| x.to_le_bytes()).collect();
        if gzip {
            let mut enc = flate2::write::GzEncoder::new(w, flate2::Compression::fast());
            enc.write_all(&bytes)?;
            enc.finish()?;
            Ok(())
        } else {
            w.write_all(&bytes)
        }
    })
}

//! VTK XML ImageData (.vti) snapshots: one cell array per field, raw little-endian f32 in
//! an appended block. ParaView and VisIt open them.

use std::io::Write;
use std::path::Path;

use crate::atomic::write_atomic_with;
use crate::error::Result;
use crate::grid::Grid;

/// Writes `fields` (field-major, one per name) as cell data of `grid`, with the simulated
/// time as field data `TimeValue` (minutes).
pub fn write_vti(
    path: &Path,
    grid: &Grid,
    names: &[&str],
    fields: &[f32],
    time_min: f64,
) -> Result<()> {
    let n = grid.len();
    assert_eq!(fields.len(), n * names.len(), "one array per name");
    write_atomic_with(path, |w| {
        writeln!(w, r#"<?xml version="1.0"?>"#)?;
        writeln!(
            w,
            r#"<VTKFile type="ImageData" version="1.0" byte_order="LittleEndian" header_type="UInt64">"#
        )?;
        writeln!(
            w,
            r#"  <ImageData WholeExtent="0 {} 0 {} 0 {}" Origin="0 0 0" Spacing="{dx} {dx} {dx}">"#,
            grid.nx,
            grid.ny,
            grid.nz,
            dx = grid.dx_um
        )?;
        writeln!(w, r#"    <FieldData>"#)?;
        writeln!(
            w,
            r#"      <DataArray type="Float64" Name="TimeValue" NumberOfTuples="1" format="ascii">{time_min}</DataArray>"#
        )?;
        writeln!(w, r#"    </FieldData>"#)?;
        writeln!(
            w,
            r#"    <Piece Extent="0 {} 0 {} 0 {}">"#,
            grid.nx, grid.ny, grid.nz
        )?;
        writeln!(w, r#"      <CellData>"#)?;
        let block = 8 + 4 * n as u64;
        for (f, name) in names.iter().enumerate() {
            writeln!(
                w,
                r#"        <DataArray type="Float32" Name="{name}" format="appended" offset="{}"/>"#,
                f as u64 * block
            )?;
        }
        writeln!(w, r#"      </CellData>"#)?;
        writeln!(w, r#"    </Piece>"#)?;
        writeln!(w, r#"  </ImageData>"#)?;
        write!(w, r#"  <AppendedData encoding="raw">_"#)?;
        for field in fields.chunks(n) {
            w.write_all(&(4 * n as u64).to_le_bytes())?;
            for v in field {
                w.write_all(&v.to_le_bytes())?;
            }
        }
        writeln!(w)?;
        writeln!(w, r#"  </AppendedData>"#)?;
        writeln!(w, r#"</VTKFile>"#)
    })
}

/// Reads back the arrays of a file written by [`write_vti`] (for tests and tools).
pub fn read_vti_arrays(path: &Path) -> std::io::Result<Vec<(String, Vec<f32>)>> {
    let bytes = std::fs::read(path)?;
    let marker = b"<AppendedData encoding=\"raw\">_";
    let start = bytes
        .windows(marker.len())
        .position(|w| w == marker)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "no appended data"))?
        + marker.len();
    let header = String::from_utf8_lossy(&bytes[..start]);
    let mut out = Vec::new();
    for line in header.lines().filter(|l| l.contains("format=\"appended\"")) {
        let attr = |key: &str| -> Option<String> {
            let i = line.find(&format!("{key}=\""))? + key.len() + 2;
            Some(line[i..].split('"').next()?.to_string())
        };
        let name = attr("Name").unwrap_or_default();
        let offset: usize = attr("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
        let at = start + offset;
        let len = u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes")) as usize;
        let data = bytes[at + 8..at + 8 + len]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        out.push((name, data));
    }
    Ok(out)
}

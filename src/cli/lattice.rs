//! `osteoniche lattice`: generate or load a preset's lattice, print its morphometrics, and
//! write it as .vti (and optionally NRRD).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use osteoniche::io::vti::write_vti;
use osteoniche::lattice::morphometry::measure;
use osteoniche::lattice::nrrd::{Volume, write_nrrd};
use osteoniche::preset::Preset;

#[derive(Args)]
pub struct LatticeArgs {
    /// Preset whose [grid] and [lattice] to use.
    preset: PathBuf,
    /// Voxels on the longest axis (the physical box is kept).
    #[arg(long)]
    resolution: Option<usize>,
    /// Seed (overrides the preset's).
    #[arg(long)]
    seed: Option<u64>,
    /// Write the lattice as VTK ImageData here.
    #[arg(long)]
    vti: Option<PathBuf>,
    /// Write the bone fraction as gzip NRRD here.
    #[arg(long)]
    nrrd: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn lattice(args: LatticeArgs) -> anyhow::Result<()> {
    let preset = Preset::load(&args.preset)?;
    let sc = preset.scenario(args.resolution, args.seed)?;
    let spec = sc.preset.lattice.as_ref().with_context(|| {
        format!(
            "{}: the preset has no [lattice] table",
            args.preset.display()
        )
    })?;
    let t0 = Instant::now();
    let lattice = osteoniche::lattice::build(spec, sc.grid, sc.seed, &sc.base_dir)?;
    let generated_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let m = measure(&sc.grid, &lattice.bone);
    let measured_s = t1.elapsed().as_secs_f64();
    let g = sc.grid;
    let warning = osteoniche::lattice::resolution_warning(spec, &g, &m);
    if let Some(w) = &warning {
        eprintln!("warning: {w}");
    }
    if args.json {
        let out = serde_json::json!({
            "grid": g, "seed": sc.seed, "lattice": spec, "morphometrics": m,
            "resolution_warning": warning,
            "vessel_fraction": lattice.vessel_fraction(),
            "generate_s": generated_s, "measure_s": measured_s,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "grid {}x{}x{} at {} µm, seed {}; built in {:.2} s, measured in {:.2} s",
            g.nx,
            g.ny,
            g.nz,
            osteoniche::numerics::plain(g.dx_um, 6),
            sc.seed,
            generated_s,
            measured_s
        );
        println!("BV/TV        {:.4}", m.bv_tv);
        println!("BS/TV        {:.2} /mm", m.bs_tv_per_mm);
        println!("BS/BV        {:.2} /mm", m.bs_bv_per_mm);
        println!("Tb.Th        {:.1} µm", m.tb_th_um);
        println!("Tb.Sp        {:.1} µm", m.tb_sp_um);
        println!(
            "Conn.D       {:.1} /mm^3 (Euler characteristic {})",
            m.conn_d_per_mm3, m.euler
        );
        println!(
            "MIL x, y, z  {:.1}, {:.1}, {:.1} µm (DA {:.2})",
            m.mil_um[0], m.mil_um[1], m.mil_um[2], m.da
        );
        if let Some(v) = &lattice.vessels {
            println!(
                "vessels      {:.4} of the volume",
                v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64
            );
        }
    }
    if let Some(path) = &args.vti {
        let mut names = vec!["bone"];
        let mut data = lattice.bone.clone();
        if let Some(v) = &lattice.vessels {
            names.push("vessels");
            data.extend_from_slice(v);
        }
        write_vti(path, &g, &names, &data, 0.0)?;
        wrote(path, args.json);
    }
    if let Some(path) = &args.nrrd {
        let volume = Volume {
            size: g.dims(),
            spacing_um: [g.dx_um; 3],
            data: lattice.bone.clone(),
        };
        write_nrrd(path, &volume, true)?;
        wrote(path, args.json);
    }
    Ok(())
}

/// Says a file was written: on stdout with the text report; with `--json`, stdout is the
/// JSON document alone, so nothing.
fn wrote(path: &std::path::Path, json: bool) {
    if !json {
        println!("wrote {}", path.display());
    }
}

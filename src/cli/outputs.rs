//! A run folder's files beside the run loop (`run::drive`): the folder's name and the
//! refusal to mix with earlier results, each snapshot with its entry in the ParaView
//! collection, and the dose log.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use osteoniche::atomic::write_atomic;
use osteoniche::io::pvd::Collection;
use osteoniche::io::vti::write_vti;
use osteoniche::sim::Simulation;

/// Writes the snapshot of step `step` (`snapshots/step_*.vti` in the collection's folder)
/// and lists it in the run's ParaView collection.
pub fn snapshot(
    sim: &mut Simulation,
    g: &osteoniche::grid::Grid,
    names: &[&str],
    pvd: &mut Collection,
    step: u64,
) -> osteoniche::Result<()> {
    let file = format!("snapshots/step_{step:09}.vti");
    let dir = pvd.folder();
    write_vti(&dir.join(&file), g, names, &sim.fields()?, sim.time_min())?;
    pvd.add(sim.time_min() / 1440.0, &file)
}

/// doses.csv: every dose given so far (time, origin, drug, route, amount).
pub fn write_dose_log(
    out: &Path,
    log: &[osteoniche::pharma::dose::DoseRecord],
) -> osteoniche::Result<()> {
    use osteoniche::io::table::record;
    let mut text = record([
        "time_h",
        "time_days",
        "origin",
        "drug",
        "route",
        "mg",
        "nmol",
        "infusion_h",
        "point_x_um",
        "point_y_um",
        "point_z_um",
        "volume_nl",
    ]);
    for r in log {
        let d = &r.dose;
        let opt = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
        let p = d
            .point_um
            .map(|p| p.map(|x| x.to_string()))
            .unwrap_or_default();
        text.push_str(&record([
            r.time_h.to_string(),
            (r.time_h / 24.0).to_string(),
            r.origin.to_string(),
            d.drug.to_string(),
            d.route.to_string(),
            format!("{:e}", r.mg),
            format!("{:e}", r.nmol),
            opt(d.duration_h),
            p[0].clone(),
            p[1].clone(),
            p[2].clone(),
            opt(d.volume_nl),
        ]));
    }
    write_atomic(&out.join("doses.csv"), text.as_bytes())
}

/// `out/<name>`, or `out/<name>-2`, `-3`, ... when earlier runs hold the first ones.
pub fn fresh_out_dir(name: &str) -> PathBuf {
    let base = Path::new("out");
    let is_free =
        |p: &Path| !p.exists() || std::fs::read_dir(p).is_ok_and(|mut d| d.next().is_none());
    let first = base.join(name);
    if is_free(&first) {
        return first;
    }
    (2..)
        .map(|i| base.join(format!("{name}-{i}")))
        .find(|p| is_free(p))
        .expect("an unused name exists")
}

/// Creates the output folder; refuses to mix with an earlier run's files unless asked.
pub fn prepare_out_dir(out: &Path, overwrite: bool) -> anyhow::Result<()> {
    if out.exists() {
        if !out.is_dir() {
            bail!("--out {}: exists and is not a folder", out.display());
        }
        let used = std::fs::read_dir(out)
            .with_context(|| format!("reading {}", out.display()))?
            .next()
            .is_some();
        if used && !overwrite {
            bail!(
                "output folder {} already holds files; choose another --out or pass --overwrite",
                out.display()
            );
        }
    }
    std::fs::create_dir_all(out)
        .with_context(|| format!("creating output folder {}", out.display()))?;
    let probe = out.join(".osteoniche-write-test");
    std::fs::write(&probe, b"")
        .with_context(|| format!("output folder {} is not writable", out.display()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

//! The files a run writes for ParaView, read back by the VTK library itself (the `vtk`
//! Python wheel, through `tests/vtk/read_run.py`): the snapshot collection lists every
//! snapshot with its simulated time, and VTK sees in each `.vti` the arrays, spacing and
//! time that were written.
//!
//! Needs `OSTEONICHE_VTK_PYTHON`, a Python with `vtk` installed (`.ci/run` makes one);
//! without it the test says SKIPPED, and fails instead where `OSTEONICHE_REQUIRE_VTK` is set.

use std::path::Path;
use std::process::Command;

use osteoniche::io::vti::read_vti_arrays;

#[test]
fn vtk_reads_the_collection_and_every_snapshot() {
    let Some(python) = std::env::var_os("OSTEONICHE_VTK_PYTHON") else {
        assert!(
            std::env::var_os("OSTEONICHE_REQUIRE_VTK").is_none(),
            "OSTEONICHE_REQUIRE_VTK is set but OSTEONICHE_VTK_PYTHON is not"
        );
        eprintln!(
            "SKIPPED vtk_reads_the_collection_and_every_snapshot: set OSTEONICHE_VTK_PYTHON to a \
             Python with the vtk wheel"
        );
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    // Snapshots every 2 days: at 0, 2 and 4 d.
    let o = Command::new(env!("CARGO_BIN_EXE_osteoniche"))
        .args([
            "run",
            "--backend",
            "cpu",
            "--quiet",
            "--days",
            "4",
            "--resolution",
            "8",
        ])
        .arg(root.join("presets/cytokine-demo.toml"))
        .arg("--out")
        .arg(&run)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = Command::new(python)
        .arg(root.join("tests/vtk/read_run.py"))
        .arg(&run)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let seen: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let seen = seen.as_array().unwrap();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    let preset =
        osteoniche::preset::Preset::load(&root.join("presets/cytokine-demo.toml")).unwrap();
    let g = preset.scenario(Some(8), None).unwrap().grid;
    let size = [g.nx, g.ny, g.nz].map(|n| n as f64);
    let dx = g.dx_um;
    assert_eq!(seen.len(), 3, "snapshots at 0, 2 and 4 days: {summary}");
    for (i, s) in seen.iter().enumerate() {
        let days = 2.0 * i as f64;
        assert_eq!(
            s["timestep"].as_f64().unwrap(),
            days,
            "collection time of {i}"
        );
        let minutes = s["time_value"].as_f64().unwrap();
        assert!(
            (minutes - days * 1440.0).abs() < 1e-6,
            "TimeValue {minutes} min"
        );
        // Cell data on an image of size + 1 points per axis, spacing the voxel edge.
        let dims: Vec<f64> = s["dimensions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(dims, size.iter().map(|n| n + 1.0).collect::<Vec<_>>());
        for v in s["spacing"].as_array().unwrap() {
            assert_eq!(v.as_f64().unwrap(), dx);
        }
        let file = run.join(s["file"].as_str().unwrap());
        let written = read_vti_arrays(&file).unwrap();
        let arrays = s["arrays"].as_object().unwrap();
        assert_eq!(arrays.len(), written.len(), "arrays of {}", file.display());
        for (name, values) in &written {
            let vtk: Vec<f32> = arrays[name]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect();
            assert_eq!(&vtk, values, "array {name} of {}", file.display());
        }
    }
}

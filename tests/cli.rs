//! The `osteoniche` binary: outputs of `run`, determinism, and clean refusals.

mod common;

use std::path::Path;
use std::process::Command;

use osteoniche::io::vti::read_vti_arrays;

const TINY: &str = r#"name = "tiny"
seed = 5
[grid]
size = [12, 10, 8]
voxel_um = 20.0
[time]
dt = "0.5 h"
duration = "1 d"
[output]
metrics_every = "2 h"
snapshot_every = "12 h"
[lattice]
kind = "procedural"
tb_th_um = 40.0
bv_tv = 0.2
[[species]]
name = "bone"
kind = "bone"
initial = { kind = "lattice", of = "bone" }
[[species]]
name = "tgf"
diffusion = 4000.0
decay = 0.1
bone_permeability = 0.1
[[sources]]
species = "tgf"
region = { kind = "sphere", center_um = [120.0, 100.0, 80.0], radius_um = 50.0 }
supply_rate = 0.2
target = 1.0
"#;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_osteoniche"))
}

fn run_tiny(dir: &Path, out: &str, extra: &[&str]) -> std::process::Output {
    let preset = dir.join("tiny.toml");
    std::fs::write(&preset, TINY).unwrap();
    bin()
        .args([
            "run",
            preset.to_str().unwrap(),
            "--backend",
            "cpu",
            "--quiet",
            "--out",
        ])
        .arg(dir.join(out))
        .args(extra)
        .output()
        .unwrap()
}

/// A headless run with no desktop session (no `XDG_RUNTIME_DIR`, `DISPLAY` or
/// `WAYLAND_DISPLAY`, as over SSH, in containers and on cluster nodes) with the default
/// backend choice, so the adapters are probed: nothing on stderr but the warning that
/// 16^3 does not resolve the preset's trabeculae, the status on stdout.
#[test]
fn a_headless_run_prints_nothing_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let preset = Path::new(env!("CARGO_MANIFEST_DIR")).join("presets/breast-osteolytic.toml");
    let o = bin()
        .args([
            "run",
            preset.to_str().unwrap(),
            "--days",
            "0.1",
            "--resolution",
            "16",
        ])
        .arg("--out")
        .arg(dir.path().join("run"))
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("NODEVICE_SELECT")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "stderr of a clean run: {stderr}");
    assert!(
        lines[0].starts_with("warning: [breast-osteolytic] the grid does not resolve the lattice")
            && lines[0].contains("--resolution 96 or finer"),
        "{stderr}"
    );
    assert!(stdout.contains("backend: "), "{stdout}");
    assert!(stdout.contains("done: "), "{stdout}");
    assert!(dir.path().join("run/metrics.csv").exists());
}

#[test]
fn run_writes_metrics_snapshots_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_tiny(dir.path(), "a", &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = dir.path().join("a");
    let metrics = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert!(metrics.starts_with("step,time_min,time_days,bone_integral"));
    assert_eq!(
        metrics.lines().count(),
        1 + 13,
        "header + rows at 0, 2, ..., 24 h"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["seed"], 5);
    assert_eq!(summary["backend"]["kind"], "cpu");
    assert_eq!(summary["steps"], 48);
    assert!(summary["preset_toml"].as_str().unwrap().contains("tiny"));
    assert!(summary["wall_time_s"].as_f64().unwrap() > 0.0);
    let lattice = &summary["lattice"];
    assert_eq!(lattice["seed"], 5);
    assert_eq!(lattice["spec"]["kind"], "procedural");
    let bv_tv = lattice["morphometrics"]["bv_tv"].as_f64().unwrap();
    assert!((bv_tv - 0.2).abs() < 0.03, "recorded BV/TV {bv_tv}");
    assert!(lattice["morphometrics"]["tb_th_um"].as_f64().unwrap() > 0.0);
    let snaps: Vec<_> = std::fs::read_dir(out.join("snapshots")).unwrap().collect();
    assert_eq!(snaps.len(), 3, "0, 12 and 24 h");
    let arrays = read_vti_arrays(&out.join("snapshots/step_000000048.vti")).unwrap();
    assert_eq!(arrays.len(), 2);
    assert_eq!(arrays[1].0, "tgf");
    assert_eq!(arrays[1].1.len(), 12 * 10 * 8);
    assert!(arrays[1].1.iter().any(|&v| v > 0.0) && arrays[1].1.iter().all(|&v| v >= 0.0));
}

#[test]
fn same_preset_and_seed_give_identical_output() {
    let dir = tempfile::tempdir().unwrap();
    assert!(run_tiny(dir.path(), "a", &[]).status.success());
    assert!(run_tiny(dir.path(), "b", &[]).status.success());
    let read = |d: &str| std::fs::read(dir.path().join(d).join("metrics.csv")).unwrap();
    assert_eq!(read("a"), read("b"));
    assert!(run_tiny(dir.path(), "c", &["--seed", "6"]).status.success());
    assert_ne!(read("a"), read("c"), "another seed, another lattice");
}

#[test]
fn bad_inputs_exit_with_a_message_and_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, TINY.replace("decay = 0.1", "decay = -0.1")).unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["run".into(), bad.display().to_string()],
            "species[1].decay",
        ),
        (vec!["run".into(), "missing.toml".into()], "missing.toml"),
        (
            vec![
                "run".into(),
                bad.display().to_string(),
                "--backend".into(),
                "quantum".into(),
            ],
            "unknown backend",
        ),
        (
            vec!["validate".into(), bad.display().to_string()],
            "bad.toml:23:9",
        ),
    ];
    for (args, expect) in cases {
        let o = bin().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expect), "{args:?}: `{err}` lacks `{expect}`");
        assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    }
    // An output folder with earlier results is never written over silently.
    assert!(run_tiny(dir.path(), "keep", &[]).status.success());
    let again = run_tiny(dir.path(), "keep", &[]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--overwrite"));
    // --days and --resolution are checked.
    let o = run_tiny(dir.path(), "d", &["--days=-1"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--days"));
    // A day count past the step limit is refused with the limit, not run for ever.
    let o = run_tiny(dir.path(), "forever", &["--days=1e20"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--days 100000000000000000000")
            && err.contains(&format!(
                "more than {} steps",
                osteoniche::preset::MAX_STEPS
            )),
        "{err}"
    );
    // ... and so is a preset duration past it.
    let long = dir.path().join("long.toml");
    std::fs::write(
        &long,
        TINY.replace("duration = \"1 d\"", "duration = \"1e20 d\""),
    )
    .unwrap();
    let o = bin()
        .args(["run", long.to_str().unwrap(), "--quiet", "--out"])
        .arg(dir.path().join("long"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("time.duration") && err.contains("1000000000 steps"),
        "{err}"
    );
}

#[test]
fn the_status_line_prints_numbers_as_people_write_them() {
    // 12 voxels over a 2.56 mm box: 213.333... µm, printed as 213.333.
    let dir = tempfile::tempdir().unwrap();
    let o = common::cli::default_preset_run(&dir.path().join("r"), "12", "0.1", &[])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let line = out.lines().find(|l| l.starts_with("grid ")).unwrap();
    assert!(
        line.starts_with("grid 12x12x12 at 213.333 µm,") && line.contains("dt 60 min"),
        "{line}"
    );
}

#[test]
fn lattice_command_prints_morphometrics_and_writes_files() {
    let dir = tempfile::tempdir().unwrap();
    let preset = dir.path().join("tiny.toml");
    std::fs::write(&preset, TINY).unwrap();
    let vti = dir.path().join("l.vti");
    let nrrd = dir.path().join("l.nrrd");
    let o = bin()
        .args([
            "lattice",
            preset.to_str().unwrap(),
            "--json",
            "--vti",
            vti.to_str().unwrap(),
            "--nrrd",
            nrrd.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!((j["morphometrics"]["bv_tv"].as_f64().unwrap() - 0.2).abs() < 0.03);
    let arrays = read_vti_arrays(&vti).unwrap();
    assert_eq!(arrays[0].0, "bone");
    let back = osteoniche::lattice::nrrd::read_nrrd(&nrrd).unwrap();
    assert_eq!(
        back.data, arrays[0].1,
        "the NRRD and the VTI hold the same lattice"
    );
    // A preset without a lattice is refused with a message.
    std::fs::write(
        &preset,
        TINY.replace(
            "[lattice]\nkind = \"procedural\"\ntb_th_um = 40.0\nbv_tv = 0.2\n",
            "",
        )
        .replace("initial = { kind = \"lattice\", of = \"bone\" }\n", ""),
    )
    .unwrap();
    let o = bin()
        .args(["lattice", preset.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no [lattice] table"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn resolution_rescales_the_grid_keeping_the_box() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_tiny(dir.path(), "r", &["--resolution", "6", "--days", "0.25"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r/summary.json")).unwrap())
            .unwrap();
    assert_eq!(s["grid"]["nx"], 6);
    assert_eq!(s["grid"]["nz"], 4);
    assert_eq!(s["grid"]["dx_um"], 40.0);
    assert_eq!(s["steps"], 12);
}

#[test]
fn model_parameters_and_switches_change_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let run = |out: &str, extra: &[&str]| {
        bin()
            .args([
                "run",
                "presets/breast-osteolytic.toml",
                "--backend",
                "cpu",
                "--quiet",
                "--resolution",
                "8",
                "--days",
                "4",
                "--out",
            ])
            .arg(dir.path().join(out))
            .args(extra)
            .output()
            .unwrap()
    };
    let o = run("base", &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = run(
        "changed",
        &["--mechanism", "M14=off", "--set", "tumour_growth=0.1"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary = |out: &str| -> serde_json::Value {
        serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(out).join("summary.json")).unwrap(),
        )
        .unwrap()
    };
    let (base, changed) = (summary("base"), summary("changed"));
    assert_eq!(changed["preset"]["model"]["mechanisms"]["M14"], false);
    assert_eq!(changed["preset"]["model"]["set"]["tumour_growth"], 0.1);
    assert_eq!(changed["model"]["mechanisms_off"][0], "M14");
    let tumour = |s: &serde_json::Value| s["final"]["tumour"]["sum"].as_f64().unwrap();
    let senescent =
        |s: &serde_json::Value| s["final"]["senescent_osteocyte"]["sum"].as_f64().unwrap();
    assert!(tumour(&changed) < tumour(&base), "slower growth");
    assert_eq!(senescent(&changed), 0.0, "M14 off: no senescent osteocytes");
    assert!(senescent(&base) > 0.0);
    for (args, says) in [
        (
            vec!["--set", "tumor_growth=0.3"],
            "did you mean `tumour_growth`",
        ),
        (vec!["--set", "blockade_pd1=2"], "must be within 0..=1"),
        (vec!["--mechanism", "M22=off"], "M1..M19"),
        (vec!["--mechanism", "M14=maybe"], "not on or off"),
        (vec!["--set", "g21=0.5"], "no positive steady state"),
    ] {
        let o = run("refused", &args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(
            !dir.path().join("refused").exists(),
            "nothing written for {args:?}"
        );
    }
}

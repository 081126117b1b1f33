//! Reliability: checkpoints survive kill -9 and resume exactly; corrupt or mismatched
//! checkpoints are refused; numerical faults stop a run with a diagnostic; every shipped
//! preset stays finite and non-negative over 10^4 steps on a small grid.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use osteoniche::io::checkpoint::Checkpoint;
use osteoniche::launch::BackendChoice;
use osteoniche::preset::Preset;
use osteoniche::sim::Simulation;

const LONG: &str = r#"name = "long"
seed = 3
[grid]
size = [24, 24, 20]
voxel_um = 20.0
[time]
dt = "1 min"
duration = "3 d"
[output]
metrics_every = "1 h"
[lattice]
kind = "procedural"
bv_tv = 0.2
tb_th_um = 50.0
[[species]]
name = "bone"
kind = "bone"
initial = { kind = "lattice", of = "bone" }
[[species]]
name = "tgf"
diffusion = 4000.0
decay = 0.1
bone_permeability = 0.1
[[species]]
name = "cells"
kind = "cell"
diffusion = 1.0
growth = 0.001
capacity = 0.8
initial = { kind = "gaussian", center_um = [240.0, 240.0, 200.0], sigma_um = 60.0, amplitude = 0.3 }
[[sources]]
species = "tgf"
region = { kind = "field", species = "cells" }
supply_rate = 0.5
target = 1.0
"#;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_osteoniche"))
}

/// `osteoniche run` of `preset` into `out` on the CPU, checkpointing every 6 h.
fn run_cmd(preset: &Path, out: &Path) -> Command {
    let mut c = bin();
    c.args([
        "run",
        preset.to_str().unwrap(),
        "--backend",
        "cpu",
        "--quiet",
        "--checkpoint-every",
        "6 h",
        "--out",
    ])
    .arg(out);
    c
}

/// `osteoniche resume CHECKPOINT --out OUT`, which must succeed.
fn resume_into(checkpoint: &Path, out: &Path) {
    let o = bin()
        .args(["resume", checkpoint.to_str().unwrap(), "--quiet", "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn run_to_end(preset: &Path, out: &Path) {
    let o = run_cmd(preset, out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn kill_9_then_resume_matches_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let preset = dir.path().join("long.toml");
    std::fs::write(&preset, LONG).unwrap();
    run_to_end(&preset, &dir.path().join("whole"));

    let out = dir.path().join("killed");
    let mut child = run_cmd(&preset, &out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let ck = out.join("checkpoint.osck");
    let start = Instant::now();
    // Wait for the second checkpoint, then kill without warning.
    let mut seen = None;
    loop {
        if let Ok(c) = Checkpoint::read(&ck) {
            if seen.is_some_and(|s| s != c.header.step) {
                break;
            }
            seen.get_or_insert(c.header.step);
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no checkpoint appeared"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    assert!(!status.success(), "the run was still going when killed");
    let at = Checkpoint::read(&ck).unwrap().header.step;
    assert!(at < 4320, "killed before the end (checkpoint at step {at})");

    let o = bin()
        .args(["resume", ck.to_str().unwrap(), "--quiet"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let read = |d: &str| std::fs::read_to_string(dir.path().join(d).join("metrics.csv")).unwrap();
    assert_eq!(
        read("killed"),
        read("whole"),
        "resumed metrics differ from the uninterrupted run"
    );
    let last = |d: &str| {
        osteoniche::io::vti::read_vti_arrays(
            &dir.path().join(d).join("snapshots/step_000004320.vti"),
        )
        .unwrap()
    };
    assert_eq!(last("killed"), last("whole"), "final fields differ");
}

#[test]
fn corrupt_and_mismatched_checkpoints_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let preset = dir.path().join("long.toml");
    std::fs::write(
        &preset,
        LONG.replace("duration = \"3 d\"", "duration = \"12 h\""),
    )
    .unwrap();
    let out = dir.path().join("run");
    run_to_end(&preset, &out);
    let good = std::fs::read(out.join("checkpoint.osck")).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "flipped byte",
            {
                let mut b = good.clone();
                let mid = b.len() / 2;
                b[mid] ^= 0x40;
                b
            },
            "checksum mismatch",
        ),
        (
            "truncated",
            good[..good.len() - 100].to_vec(),
            "checksum mismatch",
        ),
        (
            "not a checkpoint",
            b"hello world, this is not it at all".to_vec(),
            "not an osteoniche checkpoint",
        ),
        (
            "future version",
            {
                let mut b = good.clone();
                b[8] = 9;
                b
            },
            "format version 9",
        ),
        (
            "format 1 (FNV-1a checksum, before CRC-32)",
            {
                let mut b = good.clone();
                b[8] = 1;
                b
            },
            "checkpoint format version 1; this osteoniche reads version 2 (an older osteoniche wrote it",
        ),
    ];
    for (what, bytes, expect) in cases {
        let path = dir.path().join(format!("{}.osck", what.replace(' ', "_")));
        std::fs::write(&path, bytes).unwrap();
        let o = bin()
            .args(["resume", path.to_str().unwrap(), "--quiet"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains(expect), "{what}: `{err}` lacks `{expect}`");
        assert!(!err.contains("panicked"));
    }
    // A well-formed checkpoint whose fields do not fit its preset.
    let mut ck = Checkpoint::read(&out.join("checkpoint.osck")).unwrap();
    ck.header.fields.pop();
    let n = ck.header.grid.iter().product::<usize>();
    ck.data.truncate(n * ck.header.fields.len());
    let path = dir.path().join("mismatched.osck");
    ck.write(&path).unwrap();
    let o = bin()
        .args(["resume", path.to_str().unwrap(), "--quiet"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("mismatched checkpoint"));
}

#[test]
fn gpu_state_restored_from_a_checkpoint_continues_exactly() {
    let Some(ctx) = common::gpu_context("gpu_state_restored_from_a_checkpoint_continues_exactly")
    else {
        return;
    };
    let sc = common::scenario(LONG);
    let mut whole = common::gpu_sim(&ctx, &sc);
    whole.advance(30).unwrap();
    let mut first = common::gpu_sim(&ctx, &sc);
    first.advance(17).unwrap();
    let state = first.fields().unwrap();
    let mut second = common::gpu_sim(&ctx, &sc);
    second.backend_mut().write_fields(&state).unwrap();
    second.backend_mut().set_step_index(17);
    second.advance(13).unwrap();
    assert_eq!(whole.fields().unwrap(), second.fields().unwrap());
}

#[test]
fn a_numerical_fault_stops_the_run_with_a_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    let preset = dir.path().join("blowup.toml");
    // A fixed face value near the f32 limit overflows the first sweep.
    std::fs::write(
        &preset,
        "name = \"blowup\"\n[grid]\nsize = [8, 8, 8]\nvoxel_um = 20.0\n[time]\ndt = \"1 min\"\nduration = \"1 h\"\n\
         [[species]]\nname = \"u\"\ndiffusion = 1e5\ndirichlet = { x_min = 3e38 }\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = bin()
        .args([
            "run",
            preset.to_str().unwrap(),
            "--backend",
            "cpu",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for expect in [
        "numerical fault",
        "field `u`",
        "non-finite",
        "at step 1",
        "first at voxel (0,",
        "dt 1 min",
        "metrics so far are written",
    ] {
        assert!(err.contains(expect), "`{err}` lacks `{expect}`");
    }
    assert!(!err.contains("panicked"));
    let metrics = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert_eq!(
        metrics.lines().count(),
        3,
        "header, step 0 and the faulty step are kept"
    );
}

/// An output file that cannot be written stops the run with the path, and the state is
/// kept in an emergency checkpoint that resumes to the uninterrupted result.
#[test]
fn a_failed_write_keeps_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let preset = dir.path().join("long.toml");
    let text = LONG
        .replace("duration = \"3 d\"", "duration = \"12 h\"")
        .replace(
            "metrics_every = \"1 h\"",
            "metrics_every = \"1 h\"\nsnapshot_every = \"3 h\"",
        );
    std::fs::write(&preset, text).unwrap();
    run_to_end(&preset, &dir.path().join("whole"));
    // A folder where the 6 h snapshot must go makes its rename fail (even for root).
    let out = dir.path().join("blocked");
    std::fs::create_dir_all(out.join("snapshots/step_000000360.vti/inside")).unwrap();
    let o = bin()
        .args([
            "run",
            preset.to_str().unwrap(),
            "--backend",
            "cpu",
            "--quiet",
            "--overwrite",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("step_000000360.vti") && err.contains("checkpoint-emergency.osck"),
        "{err}"
    );
    std::fs::remove_dir_all(out.join("snapshots/step_000000360.vti")).unwrap();
    let o = bin()
        .args([
            "resume",
            out.join("checkpoint-emergency.osck").to_str().unwrap(),
            "--quiet",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let read = |d: &str| std::fs::read_to_string(dir.path().join(d).join("metrics.csv")).unwrap();
    assert_eq!(read("blocked"), read("whole"));
    let snap = |d: &str| {
        osteoniche::io::vti::read_vti_arrays(
            &dir.path().join(d).join("snapshots/step_000000360.vti"),
        )
        .unwrap()
    };
    assert_eq!(
        snap("blocked"),
        snap("whole"),
        "the snapshot that failed is written on resume"
    );
}

/// Every shipped preset, coarsened to 12 voxels on its longest axis, for 10^4 steps.
#[test]
fn every_preset_stays_finite_and_non_negative_for_10k_steps() {
    for entry in std::fs::read_dir("presets").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let sc = Preset::load(&path)
            .unwrap()
            .scenario(Some(12), None)
            .unwrap();
        let mut sim = Simulation::new(sc.clone(), BackendChoice::Cpu).unwrap();
        let before: Vec<f64> = sim.stats().unwrap().iter().map(|s| s.sum).collect();
        for _ in 0..10 {
            sim.advance(1000).unwrap();
            for (name, s) in sc.species.names().iter().zip(sim.stats().unwrap()) {
                assert_eq!(s.nonfinite, 0, "{}: {name} non-finite", path.display());
                assert_eq!(
                    s.negative,
                    0,
                    "{}: {name} negative (min {})",
                    path.display(),
                    s.min
                );
            }
        }
        // Without sources, reactions or fixed faces, transport keeps every amount.
        let conservative = !sc.preset.switches.reactions && sc.preset.sources.is_empty();
        if conservative {
            for (b, s) in before.iter().zip(sim.stats().unwrap()) {
                assert!(
                    (s.sum - b).abs() <= 1e-5 * b.abs().max(1e-30),
                    "{}: amount {b} -> {}",
                    path.display(),
                    s.sum
                );
            }
        }
        println!("{}: 10^4 steps finite and non-negative", path.display());
    }
}

/// A model run resumed from its last checkpoint ends exactly as the uninterrupted run,
/// with the systemic pools restored and the model file taken from the checkpoint (the copy
/// on disk is changed in between).
#[test]
fn a_model_run_resumes_exactly_from_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("model")).unwrap();
    let model = std::fs::read_to_string("presets/model/bone-metastasis.toml").unwrap();
    std::fs::write(dir.path().join("model/bone-metastasis.toml"), &model).unwrap();
    let preset = std::fs::read_to_string("presets/breast-osteolytic.toml")
        .unwrap()
        .replace(
            "size = [64, 64, 64]\nvoxel_um = 40.0",
            "size = [8, 8, 8]\nvoxel_um = 320.0",
        )
        .replace("duration = \"28 d\"", "duration = \"3 d\"")
        .replace("metrics_every = \"12 h\"", "metrics_every = \"2 h\"")
        .replace("snapshot_every = \"7 d\"", "snapshot_every = \"3 d\"");
    let path = dir.path().join("breast.toml");
    std::fs::write(&path, preset).unwrap();
    let whole = dir.path().join("whole");
    run_to_end(&path, &whole);
    let ck = Checkpoint::read(&whole.join("checkpoint.osck")).unwrap();
    assert!(ck.header.systemic.is_some() && ck.header.model.is_some());
    assert!(
        ck.header.step > 0 && ck.header.step < 72,
        "a checkpoint inside the run"
    );
    std::fs::write(
        dir.path().join("model/bone-metastasis.toml"),
        model.replace(
            "tumour_growth = { value = 0.4,",
            "tumour_growth = { value = 0.9,",
        ),
    )
    .unwrap();
    let resumed = dir.path().join("resumed");
    resume_into(&whole.join("checkpoint.osck"), &resumed);
    let read = |d: &Path| std::fs::read_to_string(d.join("metrics.csv")).unwrap();
    assert!(read(&whole).contains("plasma_opn_nM"));
    assert_eq!(read(&resumed), read(&whole), "resumed metrics differ");
}

/// A run with drugs resumes from its checkpoint exactly: same metrics, same dosing log
/// (the checkpoint carries the library, the PK states, the schedule and the log).
#[test]
fn a_run_with_drugs_resumes_exactly_from_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let preset = dir.path().join("drugs.toml");
    std::fs::write(
        &preset,
        format!(
            "extends = \"{}/presets/therapy/breast-icb-denosumab.toml\"\nname = \"drugs\"\n\
             [grid]\nsize = [6, 6, 6]\nvoxel_um = 426.0\n[time]\nduration = \"8 d\"\n\
             [output]\nmetrics_every = \"6 h\"\nsnapshot_every = \"8 d\"\n",
            env!("CARGO_MANIFEST_DIR")
        ),
    )
    .unwrap();
    let whole = dir.path().join("whole");
    run_to_end(&preset, &whole);
    let ck = Checkpoint::read(&whole.join("checkpoint.osck")).unwrap();
    let h = &ck.header;
    assert_eq!(h.step, 186, "last checkpoint at 7.75 days");
    assert!(
        h.library.is_some(),
        "the library travels with the checkpoint"
    );
    let log = &h.pharma.as_ref().expect("drug state in the checkpoint").log;
    // Denosumab at day 1, anti-PD-1 at days 3 and 6 (day 8 is the end: not given).
    assert_eq!(log.len(), 3, "{log:?}");
    let resumed = dir.path().join("resumed");
    resume_into(&whole.join("checkpoint.osck"), &resumed);
    for file in ["metrics.csv", "doses.csv"] {
        let read = |d: &Path| std::fs::read_to_string(d.join(file)).unwrap();
        assert_eq!(read(&resumed), read(&whole), "{file} differs after resume");
    }
    let doses = std::fs::read_to_string(whole.join("doses.csv")).unwrap();
    assert_eq!(
        doses.lines().count(),
        1 + 3,
        "header and three doses:\n{doses}"
    );
    assert!(doses.contains("denosumab,subcutaneous") && doses.contains("anti_pd1,iv-bolus"));
}

/// `run` of the default preset at 12^3 for `days` on the CPU into `out`, with a
/// checkpoint every simulated day.
fn model_run(out: &Path, days: &str) -> Command {
    common::cli::default_preset_run(out, "12", days, &["--checkpoint-every", "1 d"])
}

#[test]
fn ctrl_c_saves_a_checkpoint_and_a_summary_and_resume_matches_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    let o = model_run(&whole, "20").output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let out = dir.path().join("interrupted");
    let child = model_run(&out, "20")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the first periodic checkpoint (day 1) is there.
    let ck = out.join("checkpoint.osck");
    let start = Instant::now();
    while Checkpoint::read(&ck).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no checkpoint appeared"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    // SAFETY: signalling our own child process.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let o = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(o.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("interrupted: finishing the step"),
        "{stderr}"
    );
    let resume = format!("osteoniche resume {}", ck.display());
    assert!(stdout.contains(&resume), "{stdout}");

    // The summary says so; the checkpoint holds the step the run stopped at, and the
    // metrics end with a row there.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["status"], "interrupted");
    assert_eq!(summary["resume_command"], resume.as_str());
    let stopped = summary["step_reached"].as_u64().unwrap();
    let end = summary["steps"].as_u64().unwrap();
    assert!(stopped < end, "stopped at {stopped} of {end}");
    assert_eq!(Checkpoint::read(&ck).unwrap().header.step, stopped);
    let metrics = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let last_step: u64 = metrics
        .lines()
        .last()
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(last_step, stopped);
    // Reports refuse the half-run with the way on.
    let e = osteoniche::report::RunData::load(&out, "x").err().unwrap();
    assert!(e.to_string().contains(&resume), "{e}");

    resume_into(&ck, &out);
    let read = |d: &Path| std::fs::read_to_string(d.join("metrics.csv")).unwrap();
    assert_eq!(
        read(&out),
        read(&whole),
        "resumed metrics differ from the uninterrupted run"
    );
    let last = |d: &Path| {
        osteoniche::io::vti::read_vti_arrays(&d.join(format!("snapshots/step_{end:09}.vti")))
            .unwrap()
    };
    assert_eq!(last(&out), last(&whole), "final fields differ");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["status"], "finished");
}

//! `compare`, `sweep` (local and Slurm array) and the stage profiler behind `bench`:
//! determinism, the report files, the emitted script, refusals.

mod common;

use std::path::Path;
use std::process::Command;

use common::cli::{bin, fails_with, ok, preset};

use osteoniche::preset::Preset;
use osteoniche::sim::profile::Stage;
use osteoniche::sim::setup::Setup;

#[test]
fn compare_of_the_same_preset_twice_shows_zero_differences() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cmp");
    let base = preset("breast-osteolytic.toml");
    let treated = preset("therapy/breast-icb-denosumab.toml");
    let text = ok(&bin()
        .args(["compare", &base, &treated, &base])
        .args([
            "--days",
            "4",
            "--resolution",
            "8",
            "--backend",
            "cpu",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap());
    let runs = out.join("runs");
    let metrics = |d: &str| std::fs::read(runs.join(d).join("metrics.csv")).unwrap();
    assert_eq!(metrics("breast-osteolytic"), metrics("breast-osteolytic-2"));
    assert_ne!(
        metrics("breast-osteolytic"),
        metrics("breast-icb-denosumab")
    );
    // The difference table: the repeat is 0 everywhere; the treated arm differs.
    let md = std::fs::read_to_string(out.join("endpoints.md")).unwrap();
    let diff = md
        .split("Difference from")
        .nth(1)
        .expect("difference table");
    let tumour = diff
        .lines()
        .find(|l| l.starts_with("| tumour at end"))
        .unwrap();
    let cells: Vec<&str> = tumour.split('|').map(str::trim).collect();
    assert!(
        cells[2].ends_with('%') && cells[2].starts_with('-'),
        "{tumour}"
    );
    assert_eq!(cells[3], "0", "{tumour}");
    // An endpoint that is a percentage differs in percentage points.
    let change = diff
        .lines()
        .find(|l| l.starts_with("| tumour change (%)"))
        .unwrap();
    let cells: Vec<&str> = change.split('|').map(str::trim).collect();
    assert!(cells[2].ends_with(" pp"), "{change}");
    assert_eq!(cells[3], "0", "{change}");
    for line in diff
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| endpoint"))
    {
        let last = line
            .trim_end_matches('|')
            .rsplit('|')
            .next()
            .unwrap()
            .trim();
        assert!(last == "0" || last == "n/a", "repeat differs: {line}");
    }
    assert!(text.contains("largest endpoint difference"), "{text}");
    // Endpoints CSV: one line per run, drug exposure only where dosed.
    let csv = std::fs::read_to_string(out.join("endpoints.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4);
    let header: Vec<&str> = lines[0].split(',').collect();
    let col = |k: &str| header.iter().position(|h| *h == k).unwrap();
    let row = |i: usize| lines[i].split(',').collect::<Vec<_>>();
    let auc = col("anti_pd1_auc_plasma_nM_h");
    assert_eq!(row(1)[auc], "NaN");
    assert!(row(2)[auc].parse::<f64>().unwrap() > 0.0);
    // Each run folder records what reproduces it.
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(runs.join("breast-icb-denosumab/summary.json")).unwrap(),
    )
    .unwrap();
    for key in ["preset_toml", "seed", "backend", "versions", "command"] {
        assert!(!summary[key].is_null(), "summary.json lacks {key}");
    }
    assert!(summary["versions"]["git_commit"].as_str().unwrap().len() >= 7);
    assert_eq!(summary["seed"], 1);
    assert!(
        !summary["pharmacology"]["doses"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(runs.join("breast-icb-denosumab/doses.csv").is_file());
    assert!(
        runs.join("breast-icb-denosumab/preset.resolved.toml")
            .is_file()
    );
    check_report(&out, 3);
    // The same report from the finished folders.
    let again = dir.path().join("again");
    ok(&bin()
        .args(["compare", "--collect"])
        .arg(runs.join("breast-osteolytic"))
        .arg(runs.join("breast-icb-denosumab"))
        .arg("--out")
        .arg(&again)
        .output()
        .unwrap());
    check_report(&again, 2);
    fails_with(
        &bin()
            .args(["compare", "--collect"])
            .arg(dir.path())
            .output()
            .unwrap(),
        "no finished run here",
    );
}

/// The light check of a report (no browser here): the HTML is one self-contained page
/// with every plot inline as SVG holding a line per run; the PNGs are valid images.
fn check_report(out: &Path, runs: usize) {
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    assert!(
        !html.contains("<script") && !html.contains("src=\""),
        "self-contained"
    );
    let figures = html.matches("<figure>").count();
    assert!(figures >= 4, "tumour, bone, CD8, OPN at least: {figures}");
    assert_eq!(html.matches("<svg").count(), figures);
    for fig in html.split("<figure>").skip(1) {
        // Data lines are 2 px wide; each run draws one with many points.
        let lines = fig.matches("stroke-width=\"2\"").count();
        assert!(lines >= runs, "a plot with {lines} lines for {runs} runs");
    }
    let plots: Vec<_> = std::fs::read_dir(out.join("plots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let pngs: Vec<_> = plots
        .iter()
        .filter(|p| p.extension().unwrap() == "png")
        .collect();
    assert_eq!(pngs.len(), figures);
    for p in pngs {
        let b = std::fs::read(p).unwrap();
        assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&b[12..16], b"IHDR");
        let w = u32::from_be_bytes(b[16..20].try_into().unwrap());
        assert!(w >= 600, "{w}");
    }
}

#[test]
fn sweep_array_tasks_run_by_hand_reproduce_the_local_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let base = preset("breast-osteolytic.toml");
    let common = [
        "--vary",
        "seed=1,2",
        "--vary",
        "tumour_growth=0.3:0.45:2",
        "--days",
        "1.5",
        "--resolution",
        "8",
        "--backend",
        "cpu",
    ];
    let local = dir.path().join("local");
    ok(&bin()
        .args(["sweep", &base])
        .args(common)
        .arg("--out")
        .arg(&local)
        .output()
        .unwrap());
    let cluster = dir.path().join("cluster");
    ok(&bin()
        .args(["sweep", &base])
        .args(common)
        .args([
            "--emit",
            "slurm",
            "--checkpoint-every",
            "12 h",
            "--slurm-max-running",
            "2",
            "--out",
        ])
        .arg(&cluster)
        .output()
        .unwrap());
    let script_path = cluster.join("sweep.slurm");
    let script = std::fs::read_to_string(&script_path).unwrap();
    // What can be checked without Slurm: bash syntax, the array covers the manifest, and
    // every directive is `#SBATCH --option=value`.
    ok(&Command::new("bash")
        .arg("-n")
        .arg(&script_path)
        .output()
        .unwrap());
    assert!(script.contains("#SBATCH --array=0-3%2\n"), "{script}");
    assert!(script.contains("SLURM_ARRAY_TASK_ID"));
    for d in script.lines().filter(|l| l.starts_with("#SBATCH")) {
        let opt = d.strip_prefix("#SBATCH --").expect(d);
        let (k, v) = opt.split_once('=').expect(d);
        assert!(
            !v.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
            "{d}"
        );
    }
    // Not yet run: collect lists what is missing.
    fails_with(
        &bin()
            .args(["sweep", "--collect"])
            .arg(&cluster)
            .output()
            .unwrap(),
        "4 of 4 variants have not finished",
    );
    for task in 0..4 {
        ok(&Command::new("bash")
            .arg(&script_path)
            .env("SLURM_ARRAY_TASK_ID", task.to_string())
            .env("OSTEONICHE", env!("CARGO_BIN_EXE_osteoniche"))
            .output()
            .unwrap());
    }
    let o = Command::new("bash")
        .arg(&script_path)
        .env("SLURM_ARRAY_TASK_ID", "4")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("variants 0..3"));
    ok(&bin()
        .args(["sweep", "--collect"])
        .arg(&cluster)
        .output()
        .unwrap());
    for v in ["v0000", "v0001", "v0002", "v0003"] {
        let read =
            |root: &Path| std::fs::read(root.join("runs").join(v).join("metrics.csv")).unwrap();
        assert_eq!(
            read(&local),
            read(&cluster),
            "{v}: array task differs from the local run"
        );
    }
    // The variants really differ, and the tables agree between the two ways.
    let csv = |root: &Path| std::fs::read_to_string(root.join("endpoints.csv")).unwrap();
    let strip = |s: String| {
        s.lines()
            .map(|l| l.split(',').skip(2).collect::<Vec<_>>().join(","))
            .collect::<Vec<_>>()
    };
    let (a, b) = (strip(csv(&local)), strip(csv(&cluster)));
    assert_eq!(a, b);
    assert_ne!(a[1], a[2]);
    check_report(&cluster, 4);
    // Each variant is a whole preset that loads on its own.
    let v = Preset::load(&cluster.join("variants/v0003.toml")).unwrap();
    assert_eq!(v.file.seed, 2);
    assert_eq!(v.file.model.as_ref().unwrap().set["tumour_growth"], 0.45);
}

#[test]
fn compare_and_sweep_refuse_bad_input_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("small.toml");
    let text = std::fs::read_to_string(preset("breast-osteolytic.toml"))
        .unwrap()
        .replace("size = [64, 64, 64]", "size = [32, 64, 64]")
        .replace(
            "model/bone-metastasis.toml",
            &preset("model/bone-metastasis.toml"),
        );
    std::fs::write(&other, text).unwrap();
    let base = preset("breast-osteolytic.toml");
    fails_with(
        &bin()
            .args([
                "compare",
                &base,
                other.to_str().unwrap(),
                "--backend",
                "cpu",
                "--out",
            ])
            .arg(dir.path().join("c"))
            .output()
            .unwrap(),
        "on the same grid",
    );
    for (vary, says) in [
        ("dose.0.mg=1", "the preset has no `dose`"),
        ("tumour_grwth=0.1", "the preset has no `tumour_grwth`"),
        ("seed=1,2,x", "variant v0002 seed=x"),
    ] {
        fails_with(
            &bin()
                .args(["sweep", &base, "--vary", vary, "--backend", "cpu", "--out"])
                .arg(dir.path().join("s"))
                .output()
                .unwrap(),
            says,
        );
    }
    // A value the preset check refuses names the variant file and line.
    fails_with(
        &bin()
            .args([
                "sweep",
                &base,
                "--vary",
                "time.dt=-1 h",
                "--emit",
                "slurm",
                "--out",
            ])
            .arg(dir.path().join("s2"))
            .output()
            .unwrap(),
        "v0000.toml",
    );
    fails_with(
        &bin()
            .args(["sweep", "--collect"])
            .arg(dir.path())
            .output()
            .unwrap(),
        "not a sweep folder",
    );
}

/// A profiled step (what `bench` times) leaves the state a plain step would, and books
/// time to every stage that has work.
#[test]
fn profiled_steps_equal_plain_steps_on_both_backends() {
    let p = Preset::load(Path::new(&preset(
        "therapy/breast-nanodocetaxel-denosumab.toml",
    )))
    .unwrap();
    let sc = p.scenario(Some(10), None).unwrap();
    let setup = Setup::new(&sc).unwrap();
    let check = |mut a: osteoniche::sim::Simulation,
                 mut b: osteoniche::sim::Simulation,
                 what: &str| {
        a.advance(3).unwrap();
        let mut booked = [false; 7];
        for _ in 0..3 {
            let t = b.profile_step().unwrap();
            for s in Stage::ALL {
                assert!(t.wall_s[s as usize] >= 0.0);
                booked[s as usize] |= t.ran[s as usize];
            }
        }
        for s in Stage::ALL {
            let work = osteoniche::sim::profile::traffic(&setup, s, b.host_summed_fields()).bytes;
            assert_eq!(booked[s as usize], work > 0.0, "{what}: {s:?}");
        }
        assert_eq!(a.fields().unwrap(), b.fields().unwrap(), "{what}");
    };
    check(common::cpu_sim(&sc), common::cpu_sim(&sc), "cpu");
    if let Some(ctx) = common::gpu_context("profiled_steps_equal_plain_steps_on_both_backends") {
        check(
            common::gpu_sim(&ctx, &sc),
            common::gpu_sim(&ctx, &sc),
            "gpu",
        );
    }
}

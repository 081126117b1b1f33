//! Studies over grids, seeds and parameters from the command line: `converge` (regenerated
//! and coarsened lattices), `sweep --samples` (listed designs), `reference --parameters-of`
//! the `claims` options and `checks` (published numbers); each with its files and its
//! refusals.

mod common;

use std::path::Path;
use std::process::Output;

use common::cli::{bin, fails_with, ok, preset};

fn converge(out: &Path, extra: &[&str]) -> Output {
    bin()
        .args(["converge", &preset("breast-osteolytic.toml")])
        .args(["--resolutions", "6,8,10", "--days", "1", "--backend", "cpu"])
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

#[test]
fn converge_writes_the_study_and_coarsened_grids_share_the_bone() {
    let dir = tempfile::tempdir().unwrap();
    let regen = dir.path().join("regen");
    let text = ok(&converge(&regen, &[]));
    assert!(text.contains("lattice regenerated at each grid"), "{text}");
    for f in [
        "converge.md",
        "converge.csv",
        "converge.json",
        "converge.svg",
        "converge.png",
    ] {
        assert!(regen.join(f).is_file(), "{f} missing");
    }
    for n in ["6", "8", "10"] {
        assert!(regen.join("runs").join(n).join("summary.json").is_file());
    }
    let rows = csv_rows(&regen.join("converge.csv"));
    let h = &rows[0];
    assert_eq!(&h[..4], ["endpoint", "value_6", "value_8", "value_10"]);
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let tumour = rows
        .iter()
        .find(|r| r[0] == "tumour_integral")
        .expect("a tumour row");
    // The values are those of the runs' metrics at the last day.
    let m = std::fs::read_to_string(regen.join("runs/10/metrics.csv")).unwrap();
    let header: Vec<&str> = m.lines().next().unwrap().split(',').collect();
    let last: Vec<&str> = m.lines().last().unwrap().split(',').collect();
    let t = header.iter().position(|c| *c == "tumour_integral").unwrap();
    let want: f64 = last[t].parse().unwrap();
    let got: f64 = tumour[col("value_10")].parse().unwrap();
    assert!((got - want).abs() <= 1e-12 * want.abs(), "{got} vs {want}");
    let b = &tumour[col("behaviour")];
    assert!(
        [
            "order",
            "converged",
            "oscillating",
            "not_converging",
            "out_of_range"
        ]
        .contains(&b.as_str()),
        "{b}"
    );
    // Coarsened from 12^3: every grid sees the same bone volume; regenerated ones do not
    // need to.
    let coarse = dir.path().join("coarse");
    let text = ok(&converge(&coarse, &["--lattice-from", "12"]));
    assert!(
        text.contains("coarsened from 12^3 by partial volumes"),
        "{text}"
    );
    let rows = csv_rows(&coarse.join("converge.csv"));
    let bone = rows.iter().find(|r| r[0] == "bone_integral").unwrap();
    let b0: Vec<f64> = (1..=3)
        .map(|i| {
            let s: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(
                    coarse
                        .join("runs")
                        .join(["6", "8", "10"][i - 1])
                        .join("summary.json"),
                )
                .unwrap(),
            )
            .unwrap();
            assert!(
                s["lattice"]["made"]
                    .as_str()
                    .unwrap()
                    .contains("coarsened from 12^3"),
                "{}",
                s["lattice"]
            );
            s["lattice"]["morphometrics"]["bv_tv"].as_f64().unwrap()
        })
        .collect();
    assert!(
        b0.iter().all(|v| (v - b0[0]).abs() < 1e-5),
        "BV/TV at 6, 8, 10 from one 12^3 lattice: {b0:?}"
    );
    assert_eq!(bone.len(), rows[0].len());
}

#[test]
fn converge_refuses_bad_studies_before_running() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        bin()
            .args([
                "converge",
                &preset("breast-osteolytic.toml"),
                "--backend",
                "cpu",
            ])
            .arg("--out")
            .arg(dir.path().join("x"))
            .args(args)
            .output()
            .unwrap()
    };
    fails_with(&run(&["--resolutions", "8,10"]), "at least three grids");
    fails_with(&run(&["--resolutions", "8,10,10"]), "each grid once");
    fails_with(
        &run(&["--resolutions", "6,8,10", "--lattice-from", "8"]),
        "--lattice-from 8: must be at least the finest resolution, 10",
    );
    fails_with(
        &run(&["--resolutions", "6,8,10", "--tolerance", "5"]),
        "--tolerance 5",
    );
    assert!(!dir.path().join("x").join("runs").exists(), "nothing ran");
}

#[test]
fn a_listed_sweep_runs_one_variant_per_row_with_its_values() {
    let dir = tempfile::tempdir().unwrap();
    let samples = dir.path().join("samples.csv");
    std::fs::write(&samples, "tumour_growth,cd8_kill\n0.3,10\n0.5,40\n").unwrap();
    let out = dir.path().join("sweep");
    ok(&bin()
        .args(["sweep", &preset("breast-osteolytic.toml"), "--samples"])
        .arg(&samples)
        .args([
            "--resolution",
            "6",
            "--days",
            "0.5",
            "--backend",
            "cpu",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap());
    for (id, growth, kill) in [("v0000", 0.3, 10.0), ("v0001", 0.5, 40.0)] {
        let text =
            std::fs::read_to_string(out.join("variants").join(format!("{id}.toml"))).unwrap();
        let t: toml::Table = toml::from_str(&text).unwrap();
        let set = &t["model"]["set"];
        assert_eq!(set["tumour_growth"].as_float(), Some(growth), "{id}");
        assert_eq!(
            set["cd8_kill"]
                .as_float()
                .or(set["cd8_kill"].as_integer().map(|i| i as f64)),
            Some(kill),
            "{id}"
        );
        assert!(out.join("runs").join(id).join("summary.json").is_file());
    }
    assert!(!out.join("variants/v0002.toml").exists());
    // Bad designs name the file and line.
    let bad = |text: &str, says: &str| {
        std::fs::write(&samples, text).unwrap();
        fails_with(
            &bin()
                .args(["sweep", &preset("breast-osteolytic.toml"), "--samples"])
                .arg(&samples)
                .arg("--out")
                .arg(dir.path().join("bad"))
                .output()
                .unwrap(),
            says,
        );
    };
    bad("tumour_growht\n0.3\n", "did you mean `tumour_growth`?");
    bad(
        "tumour_growth,cd8_kill\n0.3\n",
        "samples.csv:2: CSV error: record 1 (line: 2, byte: 23): found record with 1 fields",
    );
    bad("tumour_growth\n", "no variants");
    bad("tumour_growth,tumour_growth\n1,2\n", "given twice");
    assert!(
        !dir.path().join("bad").exists(),
        "nothing written for a bad design"
    );
}

#[test]
fn reference_lists_a_presets_parameters_for_tools() {
    let o = bin()
        .args([
            "reference",
            "--parameters-of",
            &preset("breast-osteolytic.toml"),
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    let list = v.as_array().unwrap();
    assert!(list.len() > 100, "{} parameters", list.len());
    let growth = list.iter().find(|p| p["name"] == "tumour_growth").unwrap();
    assert_eq!(growth["unit"], "1/day");
    assert_eq!(growth["group"], "cells");
    assert_eq!(growth["assumption"], true, "{growth}");
    let alpha1 = list.iter().find(|p| p["name"] == "alpha1").unwrap();
    assert_eq!(alpha1["assumption"], false, "Komarova's rate is measured");
    fails_with(
        &bin()
            .args(["reference", "--parameters-of", &preset("biofvm-box.toml")])
            .output()
            .unwrap(),
        "has no [model]",
    );
}

#[test]
fn claims_options_are_checked() {
    let file = preset("therapy/claims.toml");
    fails_with(
        &bin()
            .args(["claims", &file, "--seeds", "0"])
            .output()
            .unwrap(),
        "--seeds: give at least 1",
    );
    fails_with(
        &bin()
            .args(["claims", &file, "--resolution", "8,x"])
            .output()
            .unwrap(),
        "invalid value 'x'",
    );
}

#[test]
fn sensitivity_says_what_python_it_needs() {
    let o = bin()
        .args([
            "sensitivity",
            &preset("breast-osteolytic.toml"),
            "--params",
            "tumour_growth",
        ])
        .env("OSTEONICHE_PYTHON", "/nonexistent/python3")
        .output()
        .unwrap();
    fails_with(
        &o,
        "set OSTEONICHE_PYTHON to an interpreter with the osteoniche package",
    );
    // An interpreter without the package: the install command is named.
    let o = bin()
        .args(["sensitivity", "--collect", "x"])
        .env("OSTEONICHE_PYTHON", "/bin/sh")
        .output()
        .unwrap();
    fails_with(&o, "pip install './python[sensitivity]'");
}

/// A checks file with one check of the well-mixed Komarova cycle: osteoclasts at day 10
/// over day 0, against `observed` +- 1 x `spread`, and what the file says of it.
fn checks_file(dir: &Path, observed: f64, status: &str, extra: &str) -> String {
    let path = dir.join("checks.toml");
    let text = format!(
        r#"[[check]]
id = "cycle"
statement = "osteoclasts after a remodelling cycle's start"
source = "test"
data = "test"
day = 10
endpoint = "osteoclast"
preset = "{}"
relative_to_day = 0
scale = "linear"
observed = {observed}
spread = 0.01
spread_kind = "test"
tolerance = 1.0
set_first = "none"
status = "{status}"
{extra}
"#,
        preset("komarova-well-mixed.toml")
    );
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn checks_compare_with_the_published_value_and_say_when_an_outcome_changes() {
    let dir = tempfile::tempdir().unwrap();
    // Far from the model: the outcome is "fails", the file says "passes": exit 2, named.
    let file = checks_file(dir.path(), 1000.0, "passes", "");
    let o = bin()
        .args(["checks", &file, "--backend", "cpu"])
        .output()
        .unwrap();
    fails_with(
        &o,
        "1 of 1 checks came out otherwise than the file says: cycle (fails)",
    );
    let table = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(table.contains("| cycle (preset grid) | 10 |"), "{table}");
    assert!(table.contains("| 0/1 | fails | passes |"), "{table}");
    // Said to fail, with why: agrees, exit 0, and the JSON keeps the model's ratio.
    let file = checks_file(dir.path(), 1000.0, "fails", "why = \"a test\"");
    let json = dir.path().join("v.json");
    let out = ok(&bin()
        .args(["checks", &file, "--backend", "cpu", "--json"])
        .arg(&json)
        .output()
        .unwrap());
    assert!(out.contains("| 0/1 | fails | fails |"), "{out}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let r = &v[0]["per_seed"][0];
    let (num, den, model) = (
        r["numerator"].as_f64().unwrap(),
        r["denominator"].as_f64().unwrap(),
        r["model"].as_f64().unwrap(),
    );
    assert!((model - num / den).abs() < 1e-12 && model > 0.0, "{r}");
    // Set at the model's own ratio, the check passes.
    let file = checks_file(dir.path(), model, "passes", "");
    let out = ok(&bin()
        .args(["checks", &file, "--backend", "cpu"])
        .output()
        .unwrap());
    assert!(out.contains("| 1/1 | passes | passes |"), "{out}");
}

#[test]
fn checks_files_are_checked_before_running() {
    let dir = tempfile::tempdir().unwrap();
    let file = checks_file(dir.path(), 1.0, "fails", "");
    fails_with(
        &bin().args(["checks", &file]).output().unwrap(),
        "check `cycle`: status = \"fails\" needs a `why`",
    );
    let file = checks_file(dir.path(), 1.0, "passes", "relative_to_preset = \"x.toml\"");
    fails_with(
        &bin().args(["checks", &file]).output().unwrap(),
        "check `cycle`: give exactly one of relative_to_day and relative_to_preset",
    );
    let file = checks_file(dir.path(), 1.0, "passes", "colour = 3");
    fails_with(
        &bin().args(["checks", &file]).output().unwrap(),
        "unknown field `colour`",
    );
    fails_with(
        &bin()
            .args(["checks", &preset("published/checks.toml"), "--seeds", "0"])
            .output()
            .unwrap(),
        "--seeds: give at least 1",
    );
}

//! Pharmacology (issue 5): the drug library, the drug pools' kernel (conservation, PD), mass
//! balance over whole runs on both backends, real-time dosing, refused doses.

mod common;

use osteoniche::grid::Grid;
use osteoniche::pharma::dose::{Amount, DoseRequest, Scheduled};
use osteoniche::pharma::dosing::{DrugInUse, Pharmacology, drug_species};
use osteoniche::pharma::tissue::{self, PoolInputs};
use osteoniche::pharma::{DrugLibrary, Route, Target};
use osteoniche::preset::{Preset, Scenario};
use osteoniche::sim::Simulation;

fn library() -> DrugLibrary {
    DrugLibrary::load("presets/model/drugs.toml".as_ref()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_library_covers_the_drugs_of_the_review() {
    let lib = library();
    let wanted: &[(&str, Target)] = &[
        ("anti_pd1", Target::Pd1),
        ("anti_tigit", Target::Tigit),
        ("anti_il1b", Target::Il1b),
        ("denosumab", Target::Rankl),
        ("zoledronic_acid", Target::OcKill),
        ("anti_dkk1", Target::Dkk1),
        ("galunisertib", Target::Tbri),
        ("sb225002", Target::Cxcr2),
        ("ascorbate", Target::VitaminC),
        ("dasatinib", Target::Senolytic),
        ("docetaxel", Target::Chemo),
        ("docetaxel_nc_bone", Target::Chemo),
        ("docetaxel_nc", Target::Chemo),
        ("olaparib", Target::Parp),
        ("anti_cx43", Target::Cx43),
        ("engineered_hsc", Target::Tgfb),
    ];
    for (name, target) in wanted {
        let d = lib.get(name).unwrap();
        assert!(
            d.effects.iter().any(|e| e.target == *target),
            "{name} acts on {target:?}"
        );
    }
    let zol = lib.get("zoledronic_acid").unwrap();
    assert!(
        zol.bone_binding_per_h.is_some(),
        "bisphosphonates bind bone"
    );
    let targeted = lib.get("docetaxel_nc_bone").unwrap().carrier.unwrap();
    let untargeted = lib.get("docetaxel_nc").unwrap().carrier.unwrap();
    assert!(targeted.bone_binding_per_h > 0.0 && untargeted.bone_binding_per_h == 0.0);
    assert!(targeted.acid_boost > 0.0, "pH-responsive");
    let hsc = lib.get("engineered_hsc").unwrap();
    assert!(
        hsc.effects.iter().any(|e| e.target == Target::Pd1),
        "PD-1 decoy"
    );
    // The carrier products take docetaxel's numbers as their payload.
    assert_eq!(
        lib.get("docetaxel_nc").unwrap().pk,
        lib.get("docetaxel").unwrap().pk
    );
}

/// Zoledronic acid from the library, for a 70 kg adult: the Zometa label's half-lives and
/// ~40 % of the dose in urine within 24 h, the rest in bone (the deep compartment).
#[test]
fn zoledronic_acid_from_the_library_shows_the_label_profile() {
    let lib = library();
    let p = lib.get("zoledronic_acid").unwrap().pk.for_weight(70.0);
    let mut s = osteoniche::pharma::PkState::default();
    s.infuse(1000.0, 0.25);
    s.advance(&p, 0.25);
    let c0 = s.concentration(&p);
    let mut t = 0.25;
    let mut prev = c0;
    let mut half = Vec::new();
    // Local half-lives of the plasma curve at 0.5 h (distribution), 6 h and 20 d.
    for (at, dt) in [(0.5, 0.01), (6.0, 0.01), (480.0, 1.0)] {
        s.advance(&p, at - t);
        let a = s.concentration(&p);
        s.advance(&p, dt);
        let b = s.concentration(&p);
        t = at + dt;
        half.push(dt * std::f64::consts::LN_2 / (a / b).ln());
        prev = b;
    }
    let _ = prev;
    println!("local half-lives at 0.5 h, 6 h, 20 d: {half:?}");
    // The fastest phase blends with the second at 0.5 h: between the two label values.
    assert!(half[0] > 0.24 && half[0] < 1.87, "{}", half[0]);
    assert!(half[1] > 1.87 && half[1] < 146.0, "{}", half[1]);
    assert!((half[2] - 146.0).abs() / 146.0 < 0.05, "{}", half[2]);
    let mut s = osteoniche::pharma::PkState::default();
    s.infuse(1000.0, 0.25);
    s.advance(&p, 24.0);
    let urine = s.eliminated / s.administered;
    let bone = s.deep / s.administered;
    println!("24 h: urine {urine:.3}, deep (bone) {bone:.3}");
    assert!((urine - 0.39).abs() < 0.02 && bone > 0.55, "{urine} {bone}");
}

/// The kernel's parameter array for one drug of the library whose fields start at 6 (after
/// the six inputs of [`INPUTS`]), with plasma levels of 120 nM (free) and 800 nM (carrier).
fn block(name: &str) -> (Vec<f32>, DrugInUse) {
    let lib = library();
    let drug = lib.get(name).unwrap().clone();
    let (_, fields) = drug_species(&drug, 6);
    let d = DrugInUse::new(drug, fields, 0.025);
    let p = Pharmacology::new(vec![d.clone()], 0.025, &Grid::new(2, 2, 2, 20.0), vec![]);
    let mut pv = vec![0f32; p.array_len()];
    p.write_blocks(&mut pv, 6);
    let nb = tissue::BASE + tissue::slot::PLASMA;
    pv[nb] = 120.0;
    pv[nb + 1] = 800.0;
    (pv, d)
}

const INPUTS: PoolInputs = PoolInputs {
    vessels: 0,
    surface: 1,
    tumour: 2,
    lactate: 3,
    mdsc: 4,
    neutrophil_immature: 5,
};

/// The drug pools' step conserves drug: what the pools gained equals what came from plasma
/// minus what went back and what was eliminated, and nothing goes negative, at any dt.
#[test]
fn the_drug_pool_step_is_conservative_and_non_negative() {
    for name in ["docetaxel_nc_bone", "zoledronic_acid", "engineered_hsc"] {
        let (pv, d) = block(name);
        let f = d.fields;
        let n = 6 + drug_species(&d.drug, 6).0.len();
        for (k, dt) in [0.1f32, 60.0, 6000.0].into_iter().enumerate() {
            let mut u = vec![0f32; n];
            // vessels, surface, tumour, lactate (mM), MDSCs, immature neutrophils
            u[..6].copy_from_slice(&[0.05, 0.7, 0.3, 8.0, 0.01, 0.02]);
            for (i, p) in f.pools().into_iter().enumerate() {
                u[p] = 10.0 * (i + k + 1) as f32;
            }
            let mut next = u.clone();
            tissue::drug_pools(&u, &pv, &INPUTS, 0.05, dt, &mut next);
            let before: f64 = f.pools().iter().map(|&p| u[p] as f64).sum();
            let after: f64 = f.pools().iter().map(|&p| next[p] as f64).sum();
            let get = |x: Option<usize>| x.map_or(0.0, |i| next[i] as f64);
            let flow = next[f.uptake] as f64 + get(f.carrier_uptake)
                - next[f.ret] as f64
                - get(f.carrier_return)
                - next[f.cleared] as f64;
            let err = (after - before - flow).abs() / before.max(after);
            println!(
                "{name} dt {dt}: pools {before:.4} -> {after:.4}, net flow {flow:.4}, error {err:.1e}"
            );
            assert!(err < 1e-6, "{name} dt {dt}: conservation error {err:e}");
            for (i, x) in next.iter().enumerate() {
                assert!(
                    x.is_finite() && *x >= 0.0,
                    "{name} dt {dt}: field {i} = {x}"
                );
            }
        }
    }
}

/// Local effects follow Emax/Hill of the free (plus surface-bound) drug and combine with the
/// model's constant effect as independent actions.
#[test]
fn pharmacodynamics_follow_emax_hill_and_combine_independently() {
    let (pv, d) = block("zoledronic_acid");
    let f = d.fields;
    let n = 6 + drug_species(&d.drug, 6).0.len();
    let mut u = vec![0f32; n];
    u[1] = 0.5; // surface
    u[f.free] = 40.0;
    u[f.bound.unwrap()] = 120.0;
    let e = d.drug.effects[0];
    let c = 40.0 + 0.5 * 120.0;
    let expect = e.emax * (c / e.ec50_nm).powf(e.hill) / (1.0 + (c / e.ec50_nm).powf(e.hill));
    let mut th = [0f32; tissue::NT];
    th[Target::OcKill.index()] = 0.2;
    tissue::drug_effects(&u, &pv, 1, &mut th);
    assert!(
        (e.at(c) - expect).abs() < 1e-12,
        "Effect::at is the same Emax/Hill"
    );
    let got = th[Target::OcKill.index()] as f64;
    let want = 1.0 - 0.8 * (1.0 - expect);
    println!("oc_kill effect {got:.6} (expected {want:.6})");
    assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    assert_eq!(th[Target::Pd1.index()], 0.0, "other targets untouched");
}

/// The mass-balance scenario: every route, a bisphosphonate, a bone-targeted carrier, a
/// carrier cell, and a local injection that puts all of its dose into the tissue.
const MASS_BALANCE: &str = r#"
extends = "../breast-osteolytic.toml"
name = "mass-balance"
[grid]
size = [8, 8, 8]
voxel_um = 320.0
[time]
duration = "5 d"
[output]
metrics_every = "1 d"
[pharmacology]
library = "../model/drugs.toml"
[[dose]]
drug = "denosumab"
route = "subcutaneous"
mg_per_kg = 10.0
start = "0 h"
[[dose]]
drug = "zoledronic_acid"
route = "iv-bolus"
mg_per_kg = 0.1
start = "12 h"
[[dose]]
drug = "docetaxel_nc_bone"
route = "iv-infusion"
mg_per_kg = 10.0
duration = "2 h"
start = "1 d"
[[dose]]
drug = "olaparib"
route = "oral"
mg_per_kg = 50.0
start = "1 d"
every = "1 d"
count = 3
[[dose]]
drug = "engineered_hsc"
route = "iv-bolus"
mg_per_kg = 1.0
start = "1 d"
[[dose]]
drug = "docetaxel"
route = "local"
mg = 0.0001
point_um = [1280.0, 1280.0, 1280.0]
volume_nl = 0.5
start = "2 d"
"#;

fn parse(text: &str) -> Scenario {
    Preset::parse(text, "presets/therapy/<test>.toml")
        .unwrap_or_else(|e| panic!("{e}"))
        .scenario(None, None)
        .unwrap()
}

/// Runs the mass-balance scenario; returns the worst relative error over the run, per drug,
/// and the final state for comparison across backends.
fn mass_balance_run(mut sim: Simulation) -> (Vec<(String, f64)>, Vec<f64>) {
    let steps = sim.scenario().steps;
    let mut worst: Vec<(String, f64)> = sim
        .pharmacology()
        .unwrap()
        .drugs
        .iter()
        .map(|d| (d.drug.name.clone(), 0.0))
        .collect();
    let local = sim.pharmacology().unwrap().position("docetaxel").unwrap();
    for step in 0..steps {
        sim.advance(1).unwrap();
        let p = sim.pharmacology().unwrap();
        for (i, w) in worst.iter_mut().enumerate() {
            w.1 = w.1.max(p.balance(i).relative_error());
        }
        if step == 48 {
            // One hour after the scheduled local injection: most of it is still in the
            // tissue (a small molecule leaves through the sinusoids within hours).
            let b = p.balance(local);
            let share = b.tissue_free / b.administered;
            println!("local docetaxel one step after injection: tissue share {share:.4}");
            assert!(b.administered > 0.0 && share > 0.8, "{b:?}");
        }
        if step == 72 {
            // A real-time local injection lands in the tissue whole, at once.
            let before = sim.pharmacology().unwrap().balance(local);
            let rec = sim
                .dose(&DoseRequest {
                    drug: "docetaxel".into(),
                    route: Route::Local,
                    amount: Amount::Mg(0.0001),
                    duration_h: None,
                    point_um: Some([600.0, 1900.0, 1280.0]),
                    volume_nl: Some(0.01),
                })
                .unwrap();
            let after = sim.pharmacology().unwrap().balance(local);
            let added = after.tissue_free - before.tissue_free;
            println!(
                "real-time local injection: {:.6} nmol asked, {added:.6} nmol in the tissue",
                rec.nmol
            );
            assert!((added - rec.nmol).abs() < 1e-9 * rec.nmol.max(1.0));
            assert!((rec.nmol - 0.0001 / 807.88 * 1e6).abs() < 1e-6 * rec.nmol);
        }
    }
    let p = sim.pharmacology().unwrap();
    let b = p.balance(local);
    println!("local docetaxel at the end: {b:?}");
    assert!(
        b.plasma + b.peripheral + p.state.drugs[local].free.eliminated > 0.01 * b.administered,
        "drug left the tissue through the vessels into the body"
    );
    let zol = p.balance(p.position("zoledronic_acid").unwrap());
    assert!(
        zol.bone_bound > 0.0,
        "zoledronate bound to bone in the domain"
    );
    let finals = p.scalars();
    (worst, finals)
}

fn check_balance(worst: &[(String, f64)], backend: &str) {
    for (name, w) in worst {
        println!("{backend}: {name}: worst mass-balance error over the run {w:.2e}");
        assert!(*w < 1e-4, "{backend}: {name}: mass balance off by {w:e}");
    }
}

#[test]
fn mass_balance_closes_for_every_drug_on_the_cpu() {
    let sc = parse(MASS_BALANCE);
    let (worst, _) = mass_balance_run(common::cpu_sim(&sc));
    check_balance(&worst, "cpu");
}

#[test]
fn mass_balance_closes_for_every_drug_on_the_gpu_and_matches_the_cpu() {
    let Some(ctx) = common::gpu_context("mass_balance_closes_for_every_drug_on_the_gpu") else {
        return;
    };
    let sc = parse(MASS_BALANCE);
    let (worst, gpu) = mass_balance_run(common::gpu_sim(&ctx, &sc));
    check_balance(&worst, "gpu");
    let (_, cpu) = mass_balance_run(common::cpu_sim(&sc));
    let names = common::cpu_sim(&sc).pharmacology().unwrap().scalar_names();
    for ((n, g), c) in names.iter().zip(&gpu).zip(&cpu) {
        if n.ends_with("mass_balance_error") {
            continue;
        }
        let rel = (g - c).abs() / c.abs().max(1e-12);
        assert!(rel < 2e-3, "{n}: gpu {g:e} vs cpu {c:e}");
    }
}

const REAL_TIME: &str = r#"
extends = "../breast-osteolytic.toml"
name = "real-time"
[grid]
size = [6, 6, 6]
voxel_um = 426.0
[time]
duration = "2 d"
[pharmacology]
library = "../model/drugs.toml"
drugs = ["anti_pd1", "docetaxel"]
"#;

fn pd1_dose() -> DoseRequest {
    DoseRequest {
        drug: "anti_pd1".into(),
        route: Route::IvBolus,
        amount: Amount::MgPerKg(10.0),
        duration_h: None,
        point_um: None,
        volume_nl: None,
    }
}

/// `Simulation::dose` at hour 10 gives exactly what a dose scheduled at hour 10 gives, and
/// both are in the dosing log.
#[test]
fn a_real_time_dose_equals_the_same_dose_scheduled() {
    let sc = parse(REAL_TIME);
    let mut live = common::cpu_sim(&sc);
    live.advance(10).unwrap();
    let rec = live.dose(&pd1_dose()).unwrap();
    assert_eq!(rec.origin, "real-time");
    assert!((rec.time_h - 10.0).abs() < 1e-9);
    live.advance(20).unwrap();

    let mut planned = common::cpu_sim(&sc);
    planned
        .schedule(vec![Scheduled {
            time_min: 600.0,
            dose: pd1_dose(),
        }])
        .unwrap();
    planned.advance(30).unwrap();
    let log = &planned.pharmacology().unwrap().state.log;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].origin, "schedule");
    assert_eq!(live.fields().unwrap(), planned.fields().unwrap());
    assert_eq!(
        live.pharmacology().unwrap().state.drugs,
        planned.pharmacology().unwrap().state.drugs
    );
    let plasma = live.pharmacology().unwrap().state.drugs[0].plasma_nm;
    assert!(plasma > 100.0, "the dose reached plasma: {plasma} nM");
}

/// Prints a refusal and checks that it says `expect`.
fn refused(message: &str, expect: &str) {
    println!("refused: {message}");
    assert!(
        message.contains(expect),
        "`{message}` should say `{expect}`"
    );
}

/// Bad doses are refused with a message that says what is wrong, and leave the run exactly
/// as an untouched twin.
#[test]
fn bad_doses_are_refused_and_the_run_is_unharmed() {
    let sc = parse(REAL_TIME);
    let mut sim = common::cpu_sim(&sc);
    let mut twin = common::cpu_sim(&sc);
    sim.advance(5).unwrap();
    twin.advance(5).unwrap();
    let with = |f: &dyn Fn(&mut DoseRequest)| {
        let mut d = pd1_dose();
        f(&mut d);
        d
    };
    let cases: Vec<(DoseRequest, &str)> = vec![
        (with(&|d| d.drug = "anti_pd2".into()), "not loaded"),
        (
            with(&|d| d.amount = Amount::MgPerKg(-1.0)),
            "must be a number > 0",
        ),
        (
            with(&|d| d.amount = Amount::MgPerKg(f64::NAN)),
            "must be a number > 0",
        ),
        (with(&|d| d.amount = Amount::MgPerKg(1e5)), "check the unit"),
        (with(&|d| d.amount = Amount::Mg(1000.0)), "check the unit"),
        (with(&|d| d.route = Route::Oral), "not one of this drug's"),
        (with(&|d| d.route = Route::IvInfusion), "needs a duration"),
        (
            DoseRequest {
                drug: "docetaxel".into(),
                route: Route::Local,
                amount: Amount::Mg(0.001),
                duration_h: None,
                point_um: Some([10.0, 10.0, 1e5]),
                volume_nl: Some(1.0),
            },
            "outside the domain",
        ),
        (
            DoseRequest {
                drug: "docetaxel".into(),
                route: Route::Local,
                amount: Amount::Mg(0.001),
                duration_h: None,
                point_um: None,
                volume_nl: None,
            },
            "needs point_um and volume_nl",
        ),
    ];
    for (dose, expect) in cases {
        refused(&sim.dose(&dose).unwrap_err().to_string(), expect);
    }
    let past = sim
        .schedule(vec![Scheduled {
            time_min: 60.0,
            dose: pd1_dose(),
        }])
        .unwrap_err()
        .to_string();
    refused(&past, "in the past");
    assert!(sim.pharmacology().unwrap().state.log.is_empty());
    sim.advance(5).unwrap();
    twin.advance(5).unwrap();
    assert_eq!(sim.fields().unwrap(), twin.fields().unwrap());
    assert_eq!(
        sim.pharmacology().unwrap().state,
        twin.pharmacology().unwrap().state
    );
}

/// Preset and library mistakes are refused at their line with what is allowed.
#[test]
fn bad_pharmacology_in_presets_and_libraries_is_refused_where_written() {
    let preset_cases: &[(&str, &str, &str)] = &[
        (
            "drug = \"docetaxel\"",
            "drug = \"docetaxol\"",
            "did you mean `docetaxel`",
        ),
        (
            "mg = 0.0001",
            "mg = 0.0001\nmg_per_kg = 1.0",
            "give the amount once",
        ),
        ("duration = \"2 h\"\n", "", "needs a duration"),
        ("start = \"12 h\"", "start = \"-12 h\"", "must be >= 0"),
        ("every = \"1 d\"", "every = \"0 h\"", "must be > 0"),
        ("volume_nl = 0.5", "volume_nl = 0.0", "volume 0 nL"),
        ("mg_per_kg = 50.0", "mg_per_kg = 1e9", "check the unit"),
        (
            "route = \"subcutaneous\"",
            "route = \"oral\"",
            "not one of this drug's",
        ),
        (
            "library = \"../model/drugs.toml\"",
            "library = \"nope.toml\"",
            "no such file",
        ),
    ];
    for (from, to, expect) in preset_cases {
        assert!(MASS_BALANCE.contains(from), "{from}");
        let text = MASS_BALANCE.replacen(from, to, 1);
        let e = match Preset::parse(&text, "presets/therapy/<test>.toml") {
            Ok(p) => p.scenario(None, None).map(|_| ()).unwrap_err().to_string(),
            Err(e) => e.to_string(),
        };
        refused(&e, expect);
    }
    // Doses without [pharmacology], and drugs without a model.
    let no_pharma = MASS_BALANCE.replace("[pharmacology]\nlibrary = \"../model/drugs.toml\"\n", "");
    let e = Preset::parse(&no_pharma, "presets/therapy/<test>.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("need a [pharmacology]"), "{e}");

    let lib = std::fs::read_to_string("presets/model/drugs.toml").unwrap();
    let lib_cases: &[(&str, &str, &str)] = &[
        (
            "central_volume = { value = 0.09429, unit = \"L/kg\"",
            "central_volume = { value = 0.09429, unit = \"L\"",
            "the unit here is \"L/kg\"",
        ),
        (
            "clearance = { value = 0.54, unit = \"L/h/kg\", source = \"Taxotere label: 21 L/h/m2 x 1.8 m2 (70 kg)\" }",
            "clearance = { value = 0.54, unit = \"L/h/kg\", source = \" \" }",
            "names its source",
        ),
        ("target = \"pd1\"", "target = \"pd2\"", "unknown variant"),
        (
            "ec50 = { value = 10.0,",
            "ec50 = { value = -10.0,",
            "must be > 0",
        ),
        (
            "[drug.anti_pd1.tissue]\n",
            "[drug.anti_pd1.tissue]\nspeed = { value = 1.0, unit = \"1\", source = \"x\" }\n",
            "unknown key",
        ),
        (
            "payload = \"docetaxel\"",
            "payload = \"docetaxol\"",
            "must be another drug",
        ),
    ];
    for (from, to, expect) in lib_cases {
        assert!(lib.contains(from), "{from}");
        let text = lib.replacen(from, to, 1);
        let e = DrugLibrary::parse(&text, "drugs.toml")
            .unwrap_err()
            .to_string();
        println!("refused: {e}");
        assert!(e.contains(expect), "`{e}` should say `{expect}`");
        assert!(e.contains("drugs.toml:"), "names the file and line: {e}");
    }
}

/// The carrier's payload release rises with acidity (lactate) and ROS makers, its
/// extravasation with tumour (EPR), and the ligand anchors it where bone surface is.
#[test]
fn carrier_release_follows_acidity_and_uptake_follows_tumour() {
    let (mut pv, d) = block("docetaxel_nc_bone");
    // No free drug in plasma: what appears free in the tissue was released by carriers.
    pv[tissue::BASE + tissue::slot::PLASMA] = 0.0;
    let f = d.fields;
    let n = 6 + drug_species(&d.drug, 6).0.len();
    // vessels, surface, tumour, lactate, MDSCs, immature neutrophils
    let step = |inputs: [f32; 6]| {
        let mut u = vec![0f32; n];
        u[..6].copy_from_slice(&inputs);
        u[f.carrier.unwrap()] = 100.0;
        let mut next = u.clone();
        tissue::drug_pools(&u, &pv, &INPUTS, 0.0, 60.0, &mut next);
        next
    };
    let neutral = step([0.05, 0.0, 0.0, 0.0, 0.0, 0.0]);
    let acid = step([0.05, 0.0, 0.0, 10.0, 0.0, 0.0]);
    let ros = step([0.05, 0.0, 0.0, 0.0, 0.1, 0.0]);
    let tumour = step([0.05, 0.0, 0.5, 0.0, 0.0, 0.0]);
    let bone = step([0.05, 1.0, 0.0, 0.0, 0.0, 0.0]);
    println!(
        "free docetaxel after 1 h: neutral {:.3}, acid {:.3}, ROS {:.3} nM; carrier uptake neutral {:.3}, tumour {:.3}; anchored at a surface {:.3}",
        neutral[f.free],
        acid[f.free],
        ros[f.free],
        neutral[f.carrier_uptake.unwrap()],
        tumour[f.carrier_uptake.unwrap()],
        bone[f.carrier_bound.unwrap()]
    );
    assert!(
        acid[f.free] > 3.0 * neutral[f.free],
        "pH-responsive release"
    );
    assert!(
        ros[f.free] > 1.5 * neutral[f.free],
        "ROS-responsive release"
    );
    let up = |x: &[f32]| x[f.carrier_uptake.unwrap()];
    assert!(up(&tumour) > 2.0 * up(&neutral), "EPR");
    assert_eq!(
        neutral[f.carrier_bound.unwrap()],
        0.0,
        "no surface, no anchoring"
    );
    assert!(
        bone[f.carrier_bound.unwrap()] > 10.0,
        "alendronate anchors at bone surface"
    );
}

/// A local dose into `sim` at a point inside the mass-balance scenario's domain: every field
/// but the dosed one keeps its bits, and the dosed one changes only inside the injection
/// sphere (the voxel centres within its radius), by the amount the record says.
fn local_dose_changes_only_its_sphere(mut sim: Simulation, backend: &str) {
    sim.advance(3).unwrap();
    let before = sim.fields().unwrap();
    let point = [600.0, 1900.0, 1280.0];
    let volume_nl = 600.0; // a sphere of radius 523 µm: several 320 µm voxels
    let rec = sim
        .dose(&DoseRequest {
            drug: "docetaxel".into(),
            route: Route::Local,
            amount: Amount::Mg(0.0001),
            duration_h: None,
            point_um: Some(point),
            volume_nl: Some(volume_nl),
        })
        .unwrap();
    let after = sim.fields().unwrap();
    let sc = sim.scenario().clone();
    let n = sc.grid.len();
    let p = sim.pharmacology().unwrap();
    let d = &p.drugs[p.position("docetaxel").unwrap()];
    let dosed = d.fields.carrier.unwrap_or(d.fields.free);
    let radius = (3.0 * volume_nl * 1e6 / (4.0 * std::f64::consts::PI)).cbrt();
    let mut changed = 0;
    let mut added = 0.0;
    for f in 0..sc.species.len() {
        for v in 0..n {
            let (a, b) = (before[f * n + v], after[f * n + v]);
            if f != dosed {
                assert_eq!(
                    a.to_bits(),
                    b.to_bits(),
                    "{backend}: field {f} voxel {v} changed"
                );
                continue;
            }
            let c = sc.grid.center_of(v);
            let inside = (0..3).map(|k| (c[k] - point[k]).powi(2)).sum::<f64>() <= radius * radius;
            if a.to_bits() != b.to_bits() {
                assert!(inside, "{backend}: voxel {v} outside the sphere changed");
                changed += 1;
                added += (b as f64 - a as f64) * sc.grid.voxel_volume_um3() * 1e-15;
            }
        }
    }
    assert!(
        changed > 1,
        "{backend}: the sphere holds several voxels ({changed})"
    );
    assert!(
        (added - rec.nmol).abs() <= 1e-6 * rec.nmol,
        "{backend}: {added} vs {}",
        rec.nmol
    );
}

#[test]
fn a_local_dose_touches_only_its_field_inside_its_sphere_on_the_cpu() {
    local_dose_changes_only_its_sphere(common::cpu_sim(&parse(MASS_BALANCE)), "cpu");
}

#[test]
fn a_local_dose_touches_only_its_field_inside_its_sphere_on_the_gpu() {
    let Some(ctx) = common::gpu_context("a_local_dose_touches_only_its_field_on_the_gpu") else {
        return;
    };
    local_dose_changes_only_its_sphere(common::gpu_sim(&ctx, &parse(MASS_BALANCE)), "gpu");
}

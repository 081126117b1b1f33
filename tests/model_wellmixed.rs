//! The bone-metastasis model in its well-mixed mode (one voxel, no transport): the
//! remodelling core against Komarova et al. 2003, the tumour against Ayati et al. 2010's
//! qualitative result, and one check per mechanism switch in its documented direction.

mod common;

use osteoniche::preset::Preset;
use osteoniche::sim::Simulation;

/// Komarova 2003 eqs. 1-3, integrated independently (RK4 in f64, 0.001-day steps):
/// returns (x1, x2, z) once a day for `days` days.
fn komarova_reference(days: usize) -> Vec<(f64, f64, f64)> {
    let (a1, a2, b1, b2): (f64, f64, f64, f64) = (3.0, 4.0, 0.2, 0.02);
    let (g11, g12, g21, g22) = (0.5, 1.0, -0.5, 0.0);
    let (k1, k2) = (0.24, 0.0017);
    let gamma: f64 = g12 * g21 - (1.0 - g11) * (1.0 - g22);
    let xb1 = (b1 / a1).powf((1.0 - g22) / gamma) * (b2 / a2).powf(g21 / gamma);
    let xb2 = (b1 / a1).powf(g12 / gamma) * (b2 / a2).powf((1.0 - g11) / gamma);
    let f = |s: [f64; 3]| -> [f64; 3] {
        let (x1, x2) = (s[0], s[1]);
        [
            a1 * x1.powf(g11) * x2.powf(g21) - b1 * x1,
            a2 * x1.powf(g12) * x2.powf(g22) - b2 * x2,
            -k1 * (x1 - xb1).max(0.0) + k2 * (x2 - xb2).max(0.0),
        ]
    };
    let h = 0.001;
    let mut s = [11.0, 212.13, 100.0];
    let mut out = vec![(s[0], s[1], s[2])];
    for _ in 0..days {
        for _ in 0..1000 {
            let add = |a: [f64; 3], b: [f64; 3], c: f64| {
                [a[0] + c * b[0], a[1] + c * b[1], a[2] + c * b[2]]
            };
            let k1v = f(s);
            let k2v = f(add(s, k1v, h / 2.0));
            let k3v = f(add(s, k2v, h / 2.0));
            let k4v = f(add(s, k3v, h));
            for i in 0..3 {
                s[i] += h / 6.0 * (k1v[i] + 2.0 * k2v[i] + 2.0 * k3v[i] + k4v[i]);
            }
        }
        out.push((s[0], s[1], s[2]));
    }
    out
}

/// Values of named fields of a one-voxel simulation.
fn values(sim: &mut Simulation, names: &[&str]) -> Vec<f64> {
    names
        .iter()
        .map(|n| sim.field(n).expect("field")[0] as f64)
        .collect()
}

#[test]
fn remodelling_core_is_the_komarova_2003_model() {
    let preset = Preset::load("presets/komarova-well-mixed.toml".as_ref()).unwrap();
    let sc = preset.scenario(None, None).unwrap();
    let steps_per_day = (1440.0 / sc.dt_min).round() as u64;
    let mut sim = common::cpu_sim(&sc);
    let days = 300;
    let reference = komarova_reference(days);
    let (mut worst_x1, mut worst_x2, mut worst_z) = (0f64, 0f64, 0f64);
    let mut min_z = f64::MAX;
    for (day, &(x1, x2, z)) in reference.iter().enumerate() {
        if day > 0 {
            sim.advance(steps_per_day).unwrap();
        }
        let v = values(&mut sim, &["osteoclast", "osteoblast", "bone"]);
        let (s1, s2, sz) = (v[0] / 0.001, v[1] / 0.001, v[2] / 0.005);
        worst_x1 = worst_x1.max((s1 - x1).abs() / x1);
        worst_x2 = worst_x2.max((s2 - x2).abs() / x2);
        worst_z = worst_z.max((sz - z).abs() / z);
        min_z = min_z.min(sz);
    }
    let (x1, x2, z) = reference[days];
    println!(
        "Komarova single cycle, {days} days: worst relative difference x1 {worst_x1:.2e}, x2 {worst_x2:.2e}, z {worst_z:.2e}; bone minimum {min_z:.2} %, final {z:.3} % (reference)"
    );
    assert!(worst_x1 < 0.01 && worst_x2 < 0.01 && worst_z < 0.01);
    // The published steady state and the return of bone mass.
    assert!(
        (x1 - 1.06).abs() < 0.01 && (x2 - 212.1).abs() < 0.5,
        "{x1} {x2}"
    );
    let v = values(&mut sim, &["osteoclast", "osteoblast", "bone"]);
    assert!((v[0] / 0.001 - 1.06).abs() < 0.011, "x1 {}", v[0] / 0.001);
    assert!((v[1] / 0.001 - 212.1).abs() < 2.2, "x2 {}", v[1] / 0.001);
    assert!(
        (v[2] / 0.005 - 100.0).abs() < 1.0,
        "bone {} %",
        v[2] / 0.005
    );
    assert!(
        min_z < 95.0,
        "the cycle resorbs before it refills ({min_z} %)"
    );
}

/// A well-mixed tumour scenario: one voxel with marrow, bone, a vessel density and a
/// tumour seed, every mechanism on unless switched off, parameters changed by `set`.
fn tumour_scenario(
    tumour: f64,
    mechanisms: &str,
    set: &str,
    days: f64,
) -> osteoniche::preset::Scenario {
    let text = common::preset_text(
        "well-mixed-tumour",
        &[
            ("days", &days),
            ("mechanisms", &mechanisms),
            ("set", &set),
            ("tumour", &tumour),
        ],
    );
    Preset::parse(&text, "<test>")
        .unwrap_or_else(|e| panic!("{e}"))
        .scenario(None, None)
        .unwrap()
}

/// Runs a well-mixed scenario to its end and returns the named fields' values.
fn run_to_end(sc: &osteoniche::preset::Scenario, names: &[&str]) -> Vec<f64> {
    let mut sim = common::cpu_sim(sc);
    sim.advance(sc.steps).unwrap();
    let out = values(&mut sim, names);
    let stats = sim.stats().unwrap();
    for (s, name) in stats.iter().zip(sc.species.names()) {
        assert!(
            s.nonfinite == 0 && s.negative == 0,
            "{name} finite and non-negative"
        );
    }
    out
}

#[test]
fn tumour_gives_net_bone_loss_that_therapy_reverses_ayati_2010() {
    let names = ["bone", "osteoclast", "osteoblast", "tumour"];
    let healthy = run_to_end(&tumour_scenario(0.0, "", "", 60.0), &names);
    let tumour = run_to_end(&tumour_scenario(0.01, "", "", 60.0), &names);
    let treated = run_to_end(
        &tumour_scenario(
            0.01,
            "",
            "blockade_rankl = 0.95, blockade_dkk1 = 0.95, effect_oc_kill = 0.2",
            60.0,
        ),
        &names,
    );
    println!(
        "day 60 [bone, OC, OB, tumour]: healthy {healthy:?}, tumour {tumour:?}, RANKL + DKK1 blocked and a bisphosphonate {treated:?}"
    );
    // Healthy bone does not move; tumour: net loss, osteoclasts up, osteoblasts down.
    assert!(
        (healthy[0] - 0.3).abs() < 1e-4,
        "healthy bone {}",
        healthy[0]
    );
    assert!(tumour[0] < 0.97 * healthy[0], "net bone loss");
    assert!(tumour[1] > 1.2 * healthy[1], "osteoclasts up");
    assert!(tumour[2] < healthy[2], "osteoblasts down");
    // Therapy reverses it.
    assert!(
        treated[0] > tumour[0] + 0.5 * (healthy[0] - tumour[0]),
        "therapy keeps bone"
    );
    assert!(treated[1] < tumour[1], "therapy lowers osteoclasts");
}

/// One mechanism: the endpoint `field` at day `days` with the mechanism on and off, and
/// the direction switching it on moves it.
fn mechanism_moves(id: &str, field: &str, set: &str, on_raises: bool) {
    // Day 12: the tumour is still growing, so what brakes or speeds it shows.
    let days = 12.0;
    let on = run_to_end(&tumour_scenario(0.01, "", set, days), &[field])[0];
    let off = run_to_end(
        &tumour_scenario(0.01, &format!("{id} = false"), set, days),
        &[field],
    )[0];
    println!("{id}: {field} at day {days} on {on:.4e}, off {off:.4e}");
    if on_raises {
        assert!(
            on > off * 1.001 + 1e-12,
            "{id} on must raise {field}: on {on}, off {off}"
        );
    } else {
        assert!(
            on < off * 0.999,
            "{id} on must lower {field}: on {on}, off {off}"
        );
    }
}

macro_rules! mechanism_tests {
    ($($name:ident: $id:literal, $field:literal, $set:literal, $raises:literal;)*) => {
        $(
            #[test]
            fn $name() {
                mechanism_moves($id, $field, $set, $raises);
            }
        )*
    };
}

// Each mechanism's documented direction (docs/model.md).
mechanism_tests! {
    m1_vicious_cycle_loses_bone: "M1", "bone", "", false;
    m2_dkk1_keeps_neutrophils_immature: "M2", "neutrophil_mature", "", false;
    m3_dkk1_lowers_osteoblasts: "M3", "osteoblast", "", false;
    m4_csf2_recruits_immature_neutrophils: "M4", "neutrophil_immature", "", true;
    m5_cxcr2_recruits_immature_neutrophils: "M5", "neutrophil_immature", "", true;
    m6_androgen_deprivation_blocks_neutrophil_killing: "M6", "tumour", "androgen_deprivation = 1.0, neutrophil_kill = 20.0", true;
    m7_enobt_wnt_polarises_m2: "M7", "tam_m2", "enobt_wnt = 500.0", true;
    m8_ccl5_polarises_m2: "M8", "tam_m2", "", true;
    m9_mdscs_drive_osteoclasts: "M9", "osteoclast", "", true;
    m10_tigit_il1b_protect_tumour: "M10", "tumour", "", true;
    m11_opn_starves_cd8_recruitment: "M11", "cd8", "", false;
    m12_siglec15_blocks_cd8_activation: "M12", "cd8", "", false;
    m13_cx43_activation_lowers_tregs: "M13", "treg", "effect_cx43 = 1.0", false;
    m14_tumour_makes_osteocytes_senescent: "M14", "senescent_osteocyte", "", true;
    m15_osteocyte_mitochondria_make_tumour_immunogenic: "M15", "tumour", "", false;
    m16_cyp3a4_protects_from_chemotherapy: "M16", "tumour", "effect_chemo = 0.5", true;
    m17_osteoclast_glutamine_resists_parp_inhibition: "M17", "tumour", "effect_parp = 0.8", true;
    m18_acidity_suppresses_ctl: "M18", "tumour", "", true;
    m19_pd1_brakes_cd8_killing: "M19", "tumour", "", true;
}

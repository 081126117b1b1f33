//! The reaction framework: exact for constant rates, non-negative and stable for stiff
//! terms, and the BioFVM source update reaches its analytic value.

mod common;
use common::*;

fn well_mixed(species: &str, dt: &str, duration: &str, extra: &str) -> osteoniche::sim::Simulation {
    let text = format!(
        r#"
name = "well-mixed"
grid = {{ size = [1, 1, 1], voxel_um = 20.0 }}
time = {{ dt = "{dt}", duration = "{duration}" }}
[[species]]
{species}
{extra}
"#
    );
    let sc = scenario(&text);
    let mut sim = cpu_sim(&sc);
    sim.advance(sc.steps).unwrap();
    sim
}

#[test]
fn decay_is_exact_even_when_stiff() {
    // k dt = 0.5 and k dt = 100.
    for (k, dt) in [(0.05, "10 min"), (10.0, "10 min")] {
        let mut sim = well_mixed(
            &format!("name = \"u\"\ndecay = {k}\ninitial = {{ kind = \"uniform\", value = 2.0 }}"),
            dt,
            "60 min",
            "",
        );
        let u = sim.field("u").unwrap()[0] as f64;
        let exact = 2.0 * (-k * 60.0f64).exp();
        assert!(u >= 0.0);
        assert!((u - exact).abs() <= 1e-6 * 2.0, "k {k}: {u} vs {exact}");
    }
}

#[test]
fn logistic_growth_follows_the_analytic_curve() {
    let (r, cap, u0, t) = (0.01f64, 0.8f64, 0.05f64, 600.0f64);
    let mut sim = well_mixed(
        &format!(
            "name = \"cells\"\nkind = \"cell\"\ngrowth = {r}\ncapacity = {cap}\ninitial = {{ kind = \"uniform\", value = {u0} }}"
        ),
        "1 min",
        "600 min",
        "",
    );
    let u = sim.field("cells").unwrap()[0] as f64;
    let exact = cap / (1.0 + (cap / u0 - 1.0) * (-r * t).exp());
    println!("logistic at t = {t} min: {u} vs analytic {exact}");
    assert!((u - exact).abs() < 0.005 * exact, "{u} vs {exact}");
    // A huge step stays bounded by the capacity and non-negative.
    let mut sim = well_mixed(
        &format!(
            "name = \"cells\"\nkind = \"cell\"\ngrowth = {r}\ncapacity = {cap}\ninitial = {{ kind = \"uniform\", value = {u0} }}"
        ),
        "10 d",
        "30 d",
        "",
    );
    let u = sim.field("cells").unwrap()[0];
    assert!(u > 0.0 && u <= cap as f32 * 1.0001, "{u}");
}

#[test]
fn supply_and_uptake_reach_their_balance() {
    let mut sim = well_mixed(
        "name = \"s\"\ninitial = { kind = \"uniform\", value = 0.0 }",
        "1 min",
        "200 min",
        "[[sources]]\nspecies = \"s\"\nregion = { kind = \"everywhere\" }\nsupply_rate = 0.5\ntarget = 3.0\nuptake_rate = 0.25",
    );
    let u = sim.field("s").unwrap()[0] as f64;
    let exact = 0.5 * 3.0 / (0.5 + 0.25);
    assert!((u - exact).abs() < 1e-5, "{u} vs {exact}");
}

//! Systemic pharmacokinetics against the analytic one- and two-compartment solutions
//! (bolus, infusion, oral), and the mass balance of every route.

use osteoniche::pharma::{Compartments, PkState};

fn one(v: f64, cl: f64, ka: f64, f: f64) -> Compartments {
    Compartments {
        central_l: v,
        clearance_l_h: cl,
        peripheral_l: 0.0,
        peripheral_l_h: 0.0,
        deep_l: 0.0,
        deep_l_h: 0.0,
        absorption_per_h: ka,
        bioavailability: f,
    }
}

/// Largest relative difference over hourly samples between the model and `exact`.
fn worst(p: &Compartments, mut st: PkState, hours: usize, exact: impl Fn(f64) -> f64) -> f64 {
    let mut w: f64 = 0.0;
    for h in 1..=hours {
        // Uneven steps, as a simulation with other events would take.
        st.advance(p, 0.37);
        st.advance(p, 0.63);
        let c = st.concentration(p);
        let e = exact(h as f64);
        w = w.max((c - e).abs() / e);
    }
    w
}

#[test]
fn one_compartment_bolus_infusion_and_oral_match_the_analytic_solutions() {
    let (v, cl) = (3.5, 0.7); // L, L/h: k = 0.2 /h
    let k = cl / v;
    let dose = 1000.0; // nmol
    let p = one(v, cl, 0.0, 1.0);
    let mut st = PkState::default();
    st.bolus(dose);
    let bolus = worst(&p, st, 48, |t| dose / v * (-k * t).exp());

    let hours_inf = 5.0;
    let mut st = PkState::default();
    st.infuse(dose, hours_inf);
    let r = dose / hours_inf;
    let infusion = worst(&p, st, 48, |t| {
        if t <= hours_inf {
            r / cl * (1.0 - (-k * t).exp())
        } else {
            r / cl * (1.0 - (-k * hours_inf).exp()) * (-k * (t - hours_inf)).exp()
        }
    });

    let (ka, f) = (1.3, 0.6);
    let p_oral = one(v, cl, ka, f);
    let mut st = PkState::default();
    st.absorb(&p_oral, dose);
    let oral = worst(&p_oral, st, 48, |t| {
        f * dose * ka / (v * (ka - k)) * ((-k * t).exp() - (-ka * t).exp())
    });
    println!(
        "one compartment, worst relative error over 48 h: bolus {bolus:.1e}, infusion {infusion:.1e}, oral {oral:.1e}"
    );
    assert!(bolus < 1e-6 && infusion < 1e-6 && oral < 1e-6);
}

#[test]
fn two_compartment_bolus_matches_the_biexponential() {
    let p = Compartments {
        central_l: 3.0,
        clearance_l_h: 0.3,
        peripheral_l: 4.0,
        peripheral_l_h: 0.8,
        deep_l: 0.0,
        deep_l_h: 0.0,
        absorption_per_h: 0.0,
        bioavailability: 1.0,
    };
    let (k10, k12, k21): (f64, f64, f64) = (0.3 / 3.0, 0.8 / 3.0, 0.8 / 4.0);
    let s = k10 + k12 + k21;
    let d = (s * s - 4.0 * k10 * k21).sqrt();
    let (alpha, beta) = ((s + d) / 2.0, (s - d) / 2.0);
    let dose = 500.0;
    let a = dose / p.central_l * (alpha - k21) / (alpha - beta);
    let b = dose / p.central_l * (k21 - beta) / (alpha - beta);
    let mut st = PkState::default();
    st.bolus(dose);
    let w = worst(&p, st, 96, |t| {
        a * (-alpha * t).exp() + b * (-beta * t).exp()
    });
    println!("two compartments, bolus, worst relative error over 96 h: {w:.1e}");
    assert!(w < 1e-6);
}

#[test]
fn every_route_keeps_the_mass_balance() {
    let p = Compartments {
        central_l: 3.0,
        clearance_l_h: 0.3,
        peripheral_l: 4.0,
        peripheral_l_h: 0.8,
        deep_l: 50.0,
        deep_l_h: 0.05,
        absorption_per_h: 0.9,
        bioavailability: 0.7,
    };
    let mut st = PkState::default();
    st.bolus(100.0);
    st.advance(&p, 2.5);
    st.infuse(300.0, 4.0);
    st.advance(&p, 1.0);
    st.absorb(&p, 200.0);
    st.infuse(50.0, 0.5);
    for _ in 0..100 {
        st.advance(&p, 0.7);
    }
    let accounted = st.in_body() + st.eliminated + st.unabsorbed;
    let rel = (accounted - st.administered).abs() / st.administered;
    println!(
        "administered {:.6} nmol, accounted {:.6}: relative {rel:.1e}",
        st.administered, accounted
    );
    assert!(
        (st.administered - 650.0).abs() < 1e-9,
        "every infusion delivered in full"
    );
    assert!(rel < 1e-12);
    assert!(st.infusions.is_empty());
}

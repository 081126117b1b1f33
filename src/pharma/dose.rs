//! What a dose is: the request (drug, route, amount, infusion time, injection point and
//! volume) with its checks against the drug, the body and the domain; a dose waiting in the
//! schedule; a dose given, as the log records it.

use serde::{Deserialize, Serialize};

use super::library::{Drug, Route};
use crate::grid::Grid;

/// Largest dose accepted, mg per kg of body weight (above any therapeutic dose in the
/// library: pharmacological ascorbate is given at 4 g/kg in mice; a typo guard).
pub const MAX_MG_PER_KG: f64 = 5000.0;

/// How much one dose is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Amount {
    /// mg per kg of body weight.
    MgPerKg(f64),
    /// mg.
    Mg(f64),
}

impl Amount {
    /// mg for a body of `kg`.
    pub fn mg(self, kg: f64) -> f64 {
        match self {
            Amount::MgPerKg(x) => x * kg,
            Amount::Mg(x) => x,
        }
    }
}

/// One dose to give now (real time) or at a scheduled time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoseRequest {
    /// Drug name.
    pub drug: String,
    /// Route.
    pub route: Route,
    /// Amount.
    pub amount: Amount,
    /// Infusion duration, h (`iv-infusion` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_h: Option<f64>,
    /// Injection point, µm (`local` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point_um: Option<[f64; 3]>,
    /// Injected volume, nL (`local` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_nl: Option<f64>,
}

impl DoseRequest {
    /// Checks the dose against the drug, the body and the domain; the message says what is
    /// wrong and what is allowed.
    pub fn check(&self, drug: &Drug, body_weight_kg: f64, grid: &Grid) -> Result<(), String> {
        let what = format!("dose of `{}`", self.drug);
        if !drug.routes.contains(&self.route) {
            return Err(format!(
                "{what}: route `{}` is not one of this drug's ({})",
                self.route,
                drug.routes
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let (value, unit, max) = match self.amount {
            Amount::MgPerKg(x) => (x, "mg/kg", MAX_MG_PER_KG),
            Amount::Mg(x) => (x, "mg", MAX_MG_PER_KG * body_weight_kg),
        };
        if !value.is_finite() || value <= 0.0 {
            return Err(format!(
                "{what}: amount {value} {unit} must be a number > 0"
            ));
        }
        if value > max {
            return Err(format!(
                "{what}: {value} {unit} is more than {max} {unit} ({MAX_MG_PER_KG} mg/kg for a \
                 {body_weight_kg} kg body); check the unit"
            ));
        }
        match (self.route, self.duration_h) {
            (Route::IvInfusion, None) => {
                return Err(format!("{what}: an iv-infusion needs a duration"));
            }
            (Route::IvInfusion, Some(h)) if !(h.is_finite() && h > 0.0 && h <= 168.0) => {
                return Err(format!(
                    "{what}: infusion duration {h} h must be > 0 and <= 168 h (7 d)"
                ));
            }
            (Route::IvInfusion, Some(_)) => {}
            (_, Some(_)) => {
                return Err(format!("{what}: a duration applies to iv-infusion only"));
            }
            (_, None) => {}
        }
        let ext = grid.extent_um();
        match (self.route, self.point_um, self.volume_nl) {
            (Route::Local, Some(p), Some(v)) => {
                if !(0..3).all(|a| p[a].is_finite() && p[a] >= 0.0 && p[a] <= ext[a]) {
                    return Err(format!(
                        "{what}: point ({}, {}, {}) µm is outside the domain (0..{}, 0..{}, 0..{} µm)",
                        p[0], p[1], p[2], ext[0], ext[1], ext[2]
                    ));
                }
                let domain_nl = ext[0] * ext[1] * ext[2] * 1e-6;
                if !(v.is_finite() && v > 0.0 && v <= domain_nl) {
                    return Err(format!(
                        "{what}: volume {v} nL must be > 0 and at most the domain's {domain_nl:.3} nL"
                    ));
                }
            }
            (Route::Local, _, _) => {
                return Err(format!(
                    "{what}: a local injection needs point_um and volume_nl"
                ));
            }
            (_, None, None) => {}
            _ => {
                return Err(format!(
                    "{what}: point_um and volume_nl apply to local injections only"
                ));
            }
        }
        Ok(())
    }
}

/// A dose waiting for its time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scheduled {
    /// Simulated time, minutes.
    pub time_min: f64,
    /// The dose.
    pub dose: DoseRequest,
}

/// A dose that was given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoseRecord {
    /// Simulated time it was given, h.
    pub time_h: f64,
    /// `schedule` or `real-time`.
    pub origin: String,
    /// The dose as asked.
    pub dose: DoseRequest,
    /// mg given.
    pub mg: f64,
    /// nmol given (payload for carriers; for local injections, what the fields received).
    pub nmol: f64,
}

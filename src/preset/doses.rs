//! A preset's `[[dose]]` entries as the simulation takes them: each entry's dose request
//! and the schedule of every dose in time order (the checks are in `validate`).

use super::schema::{DoseSpec, PresetFile};

/// The doses of a schedule as the simulation takes them (time in minutes, in order).
pub fn scheduled_doses(file: &PresetFile) -> Vec<crate::pharma::dose::Scheduled> {
    let mut out = Vec::new();
    for d in &file.dose {
        let Some(dose) = dose_request(d) else {
            continue;
        };
        let every = d.every.map_or(0.0, |e| e.minutes());
        for k in 0..d.count {
            out.push(crate::pharma::dose::Scheduled {
                time_min: d.start.minutes() + k as f64 * every,
                dose: dose.clone(),
            });
        }
    }
    out.sort_by(|a, b| a.time_min.total_cmp(&b.time_min));
    out
}

/// One dose of a `[[dose]]` entry (`None` without an amount, which the checks refuse).
pub(super) fn dose_request(d: &DoseSpec) -> Option<crate::pharma::dose::DoseRequest> {
    use crate::pharma::dose::Amount;
    let amount = match (d.mg_per_kg, d.mg) {
        (Some(x), _) => Amount::MgPerKg(x),
        (None, Some(x)) => Amount::Mg(x),
        (None, None) => return None,
    };
    Some(crate::pharma::dose::DoseRequest {
        drug: d.drug.clone(),
        route: d.route,
        amount,
        duration_h: d.duration.map(|t| t.minutes() / 60.0),
        point_um: d.point_um,
        volume_nl: d.volume_nl,
    })
}

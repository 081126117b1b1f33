//! How a dose enters the body ([`Route`]).

use serde::{Deserialize, Serialize};

/// How a dose enters the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Route {
    /// Intravenous bolus: straight into plasma.
    IvBolus,
    /// Intravenous infusion at a constant rate over a duration.
    IvInfusion,
    /// Subcutaneous: absorbed from a depot (absorption rate, bioavailability).
    Subcutaneous,
    /// Oral: absorbed from a depot (absorption rate, bioavailability).
    Oral,
    /// Local injection of a volume at a point of the domain (into tissue).
    Local,
}

impl Route {
    /// Every route.
    pub const ALL: [Route; 5] = [
        Route::IvBolus,
        Route::IvInfusion,
        Route::Subcutaneous,
        Route::Oral,
        Route::Local,
    ];

    /// The name presets use.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::IvBolus => "iv-bolus",
            Route::IvInfusion => "iv-infusion",
            Route::Subcutaneous => "subcutaneous",
            Route::Oral => "oral",
            Route::Local => "local",
        }
    }

    /// Whether the dose goes through the absorption depot.
    pub fn absorbed(self) -> bool {
        matches!(self, Route::Subcutaneous | Route::Oral)
    }
}

impl std::str::FromStr for Route {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Route, String> {
        Route::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Route::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown route `{s}` (routes: {})", names.join(", "))
            })
    }
}

impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

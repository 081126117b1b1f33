//! Replayable action scripts for the viewer (`osteoniche view --script FILE`): what a user
//! does with the mouse, written as lines, so a session can be replayed, tested and
//! recorded. One action per line; `#` starts a comment.
//!
//! ```text
//! frames N                         draw N frames
//! play | pause
//! step N                           take N steps and wait for them
//! wait-steps N                     wait until N steps have been taken in all
//! speed N                          steps per batch while playing
//! field NAME                       show this field
//! colormap NAME                    viridis, magma, inferno, cividis
//! log on|off                       logarithmic colour scale
//! slice x|y|z on|off [POS]         a slice plane, POS a fraction of the box
//! pick FX FY                       click the view at that fraction of it (local injections)
//! dose DRUG ROUTE AMOUNT mg/kg|mg [hours H] [nl V]
//! screenshot PATH                  PNG of the window
//! resize W H                       ask for a new window size (logical pixels)
//! minimize on|off                  minimise or restore the window
//! export-vti PATH | export-csv PATH
//! quit
//! ```

use crate::error::{Error, Result};
use crate::pharma::Route;

/// One action.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Draw frames.
    Frames(u32),
    /// Start stepping.
    Play,
    /// Stop stepping.
    Pause,
    /// Take steps and wait for them.
    Step(u64),
    /// Wait until this many steps have been taken.
    WaitSteps(u64),
    /// Steps per batch.
    Speed(u64),
    /// Show a field by name.
    Field(String),
    /// Colour map by name.
    Colormap(String),
    /// Log scale.
    Log(bool),
    /// Slice plane: axis, shown, position.
    Slice(usize, bool, Option<f32>),
    /// Click at a fraction of the view.
    Pick(f32, f32),
    /// Give a dose now.
    Dose {
        /// Drug.
        drug: String,
        /// Route.
        route: Route,
        /// Amount.
        amount: f64,
        /// True for mg/kg, false for mg.
        per_kg: bool,
        /// Infusion hours.
        hours: Option<f64>,
        /// Local volume, nL.
        nl: Option<f64>,
    },
    /// Save a screenshot.
    Screenshot(String),
    /// Ask for a window size.
    Resize(u32, u32),
    /// Minimise (true) or restore.
    Minimize(bool),
    /// Write the fields.
    ExportVti(String),
    /// Write the metrics.
    ExportCsv(String),
    /// Close the viewer.
    Quit,
}

/// Parses a script; errors name the line.
pub fn parse(text: &str, origin: &str) -> Result<Vec<Action>> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let w: Vec<&str> = line.split_whitespace().collect();
        let bad = |why: &str| Error::Invalid(format!("{origin}:{}: `{line}`: {why}", i + 1));
        let num = |k: usize| -> Result<f64> {
            w.get(k)
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite())
                .ok_or_else(|| bad(&format!("argument {k} must be a number")))
        };
        let count = |k: usize| -> Result<u64> {
            w.get(k)
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| bad(&format!("argument {k} must be a whole number")))
        };
        let word = |k: usize| -> Result<String> {
            w.get(k)
                .map(|s| s.to_string())
                .ok_or_else(|| bad(&format!("argument {k} is missing")))
        };
        let on = |k: usize| -> Result<bool> {
            match w.get(k).copied() {
                Some("on") => Ok(true),
                Some("off") => Ok(false),
                _ => Err(bad(&format!("argument {k} is on or off"))),
            }
        };
        let a = match w[0] {
            "frames" => Action::Frames(count(1)? as u32),
            "play" => Action::Play,
            "pause" => Action::Pause,
            "step" => Action::Step(count(1)?),
            "wait-steps" => Action::WaitSteps(count(1)?),
            "speed" => Action::Speed(count(1)?.max(1)),
            "field" => Action::Field(word(1)?),
            "colormap" => Action::Colormap(word(1)?),
            "log" => Action::Log(on(1)?),
            "slice" => {
                let axis = match w.get(1).copied() {
                    Some("x") => 0,
                    Some("y") => 1,
                    Some("z") => 2,
                    _ => return Err(bad("the axis is x, y or z")),
                };
                let pos = if w.len() > 3 {
                    Some(num(3)? as f32)
                } else {
                    None
                };
                Action::Slice(axis, on(2)?, pos)
            }
            "pick" => Action::Pick(num(1)? as f32, num(2)? as f32),
            "dose" => {
                let route: Route = word(2)?.parse().map_err(|e: String| bad(&e))?;
                let per_kg = match w.get(4).copied() {
                    Some("mg/kg") => true,
                    Some("mg") => false,
                    _ => return Err(bad("the unit is mg/kg or mg")),
                };
                let (mut hours, mut nl) = (None, None);
                let mut k = 5;
                while k < w.len() {
                    match w[k] {
                        "hours" => hours = Some(num(k + 1)?),
                        "nl" => nl = Some(num(k + 1)?),
                        other => return Err(bad(&format!("`{other}`: expected hours or nl"))),
                    }
                    k += 2;
                }
                Action::Dose {
                    drug: word(1)?,
                    route,
                    amount: num(3)?,
                    per_kg,
                    hours,
                    nl,
                }
            }
            "screenshot" => Action::Screenshot(word(1)?),
            "resize" => Action::Resize(
                count(1)?.clamp(100, 16384) as u32,
                count(2)?.clamp(100, 16384) as u32,
            ),
            "minimize" => Action::Minimize(on(1)?),
            "export-vti" => Action::ExportVti(word(1)?),
            "export-csv" => Action::ExportCsv(word(1)?),
            "quit" => Action::Quit,
            other => return Err(bad(&format!("unknown action `{other}`"))),
        };
        out.push(a);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_actions_and_names_bad_lines() {
        let s = parse(
            "frames 3 # warm up\nfield docetaxel\ndose docetaxel iv-bolus 10 mg/kg\nslice x on 0.25\npick 0.5 0.5\nquit\n",
            "t",
        )
        .unwrap();
        assert_eq!(s.len(), 6);
        assert_eq!(s[3], Action::Slice(0, true, Some(0.25)));
        assert!(matches!(
            &s[2],
            Action::Dose {
                route: Route::IvBolus,
                per_kg: true,
                ..
            }
        ));
        let e = parse("frames 2\ndose x iv-bolus 1 g\n", "s.txt")
            .unwrap_err()
            .to_string();
        assert!(e.contains("s.txt:2") && e.contains("mg/kg or mg"), "{e}");
        let e = parse("jump 3", "s").unwrap_err().to_string();
        assert!(e.contains("unknown action `jump`"), "{e}");
    }
}

//! `osteoniche sensitivity`: global sensitivity analysis through the Python package's
//! `osteoniche.sensitivity` (SALib for the sampling and the indices; this binary's `sweep`
//! for the runs). The arguments pass through unchanged.

use std::process::Command;

use anyhow::{Context, bail};
use clap::Args;

#[derive(Args)]
#[command(disable_help_flag = true)]
pub struct SensitivityArgs {
    /// PRESET --params a,b|assumptions --method morris|sobol|oat [--samples N] [--range F]
    /// [--resolution N] [--days D] [--day D] [--seed S] [--backend ..] [--jobs J]
    /// [--emit slurm] --out DIR; or --collect DIR. `--help` prints them all.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

/// The interpreter: $OSTEONICHE_PYTHON, else `python3`.
fn python() -> String {
    std::env::var("OSTEONICHE_PYTHON").unwrap_or_else(|_| "python3".into())
}

pub fn sensitivity(args: SensitivityArgs) -> anyhow::Result<()> {
    let py = python();
    let exe = std::env::current_exe().context("locating the osteoniche binary")?;
    let probe = Command::new(&py)
        .args(["-c", "import osteoniche.sensitivity"])
        .output();
    match probe {
        Err(e) => bail!(
            "osteoniche sensitivity runs on Python ({py}: {e}); set OSTEONICHE_PYTHON to an interpreter with the osteoniche package"
        ),
        Ok(o) if !o.status.success() => bail!(
            "{py} cannot import osteoniche.sensitivity ({}); install the Python package with SALib: pip install './python[sensitivity]' (docs/python.md), or set OSTEONICHE_PYTHON",
            String::from_utf8_lossy(&o.stderr)
                .trim()
                .lines()
                .last()
                .unwrap_or("")
        ),
        Ok(_) => {}
    }
    let status = Command::new(&py)
        .args(["-m", "osteoniche.sensitivity"])
        .args(&args.args)
        .env("OSTEONICHE_BIN", &exe)
        .status()
        .with_context(|| format!("starting {py}"))?;
    if !status.success() {
        bail!(
            "sensitivity analysis failed ({})",
            status
                .code()
                .map_or("killed".to_string(), |c| format!("exit {c}"))
        );
    }
    Ok(())
}

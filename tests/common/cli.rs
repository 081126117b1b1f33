//! Running the `osteoniche` binary from a test: the command, its success with all it
//! printed, a refusal with the message expected, and the repository's presets.

use std::path::Path;
use std::process::{Command, Output};

/// The binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_osteoniche"))
}

/// Asserts success; returns stdout and stderr together.
pub fn ok(o: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "failed:\n{text}");
    text
}

/// Asserts a clean refusal (no panic) whose stderr says `says`.
pub fn fails_with(o: &Output, says: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "should fail with `{says}`");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains(says), "expected `{says}` in:\n{err}");
}

/// The repository root.
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A preset of the repository by its path under presets/.
pub fn preset(rel: &str) -> String {
    format!("{ROOT}/presets/{rel}")
}

/// `run` of the default preset on the CPU at `resolution` for `days` into `out`, quiet, with
/// `extra` flags after.
pub fn default_preset_run(out: &Path, resolution: &str, days: &str, extra: &[&str]) -> Command {
    let mut c = bin();
    c.args([
        "run",
        &preset("breast-osteolytic.toml"),
        "--resolution",
        resolution,
    ])
    .args(["--days", days, "--backend", "cpu", "--quiet"])
    .args(extra)
    .arg("--out")
    .arg(out);
    c
}

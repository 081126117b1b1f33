//! Parameter sweeps: variants of a preset on a grid of settings (`--vary KEY=VALUES`), each
//! written as a complete preset file; a manifest; and a Slurm job-array script that runs
//! variant `SLURM_ARRAY_TASK_ID` (Slurm schedules, osteoniche does not).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Most variants one sweep may hold.
pub const MAX_VARIANTS: usize = 10_000;

/// One varied setting and its values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// As the user wrote it (`seed`, `tumour_growth`, `M14`, `dose.0.mg_per_kg`).
    pub key: String,
    /// Where it goes in the preset (table keys; array indices as numbers).
    pub path: Vec<String>,
    /// The values, in order.
    pub values: Vec<toml::Value>,
}

/// Parses `KEY=VALUES` against the (resolved) preset table `base`.
///
/// KEY: `seed`; a model parameter name (goes to `[model.set]`); a mechanism `M1`..`M19`
/// (values on/off); or a dotted path into the preset (`dose.0.mg_per_kg`, `time.dt`,
/// `lattice.bv_tv`, `pharmacology.body_weight_kg`), array entries by index from 0.
/// VALUES: a comma list (`1,2,3`, `"3 d","7 d"` or bare `3 d,7 d`), a linear range
/// `start:stop:count` or a logarithmic one `start:stop:count:log` (endpoints included).
pub fn parse_vary(spec: &str, base: &toml::Table) -> Result<Axis> {
    let bad = |why: String| Error::Invalid(format!("--vary {spec}: {why}"));
    let (key, values) = spec.split_once('=').ok_or_else(|| {
        bad("write KEY=VALUES, e.g. seed=1,2,3 or tumour_growth=0.2:0.6:5".into())
    })?;
    let key = key.trim();
    let path = key_path(key, base).map_err(bad)?;
    let mechanism = path.get(1).is_some_and(|p| p == "mechanisms");
    let values = parse_values(values.trim(), mechanism).map_err(bad)?;
    if values.is_empty() {
        return Err(bad("no values".into()));
    }
    Ok(Axis {
        key: key.into(),
        path,
        values,
    })
}

/// Where a sweep key goes in the preset (see [`parse_vary`]), checked against `base`.
fn key_path(key: &str, base: &toml::Table) -> std::result::Result<Vec<String>, String> {
    let path: Vec<String> = if key == "seed" {
        vec!["seed".into()]
    } else if crate::model::parameters::find(key).is_some() {
        if !base.contains_key("model") {
            return Err(format!(
                "`{key}` is a model parameter and this preset has no [model]"
            ));
        }
        vec!["model".into(), "set".into(), key.into()]
    } else if key.starts_with('M') && key[1..].parse::<u32>().is_ok() {
        if !crate::model::parameters::MECHANISMS
            .iter()
            .any(|(m, _)| *m == key)
        {
            return Err("mechanisms are named M1..M19".into());
        }
        vec!["model".into(), "mechanisms".into(), key.into()]
    } else if !key.contains('.') && !base.contains_key(key) {
        let mut names: Vec<&str> = crate::model::parameters::PARAMS
            .iter()
            .map(|d| d.name)
            .collect();
        names.extend(base.keys().map(String::as_str));
        let hint = crate::locate::nearest(key, &names)
            .map(|k| format!(" (did you mean `{k}`?)"))
            .unwrap_or_default();
        return Err(format!(
            "the preset has no `{key}` and it is not a model parameter{hint}"
        ));
    } else {
        key.split('.').map(String::from).collect()
    };
    check_path(base, &path)?;
    Ok(path)
}

/// A listed design (`sweep --samples FILE`): a CSV whose header names the keys (as
/// `--vary` takes them) and whose every row is one variant with one value per key (a
/// sensitivity analysis's sample matrix). Returns the axes (each with its column as
/// values) and the variants in row order. `origin` names the file in errors.
pub fn listed(text: &str, origin: &Path, base: &toml::Table) -> Result<(Vec<Axis>, Vec<Variant>)> {
    let (header, rows) = crate::io::table::read(text, origin)?;
    let at = |line: u64, why: String| Error::Invalid(format!("{}:{line}: {why}", origin.display()));
    if header.is_empty() || header.iter().any(|h| h.trim().is_empty()) {
        return Err(at(
            1,
            "the header names the keys, e.g. seed,tumour_growth".into(),
        ));
    }
    let mut keys: Vec<&str> = header.iter().map(|h| h.trim()).collect();
    let paths = keys
        .iter()
        .map(|k| key_path(k, base).map_err(|why| at(1, format!("`{k}`: {why}"))))
        .collect::<Result<Vec<_>>>()?;
    let mut axes: Vec<Axis> = keys
        .iter()
        .zip(paths)
        .map(|(k, path)| Axis {
            key: k.to_string(),
            path,
            values: Vec::new(),
        })
        .collect();
    keys.sort_unstable();
    if let Some(w) = keys.windows(2).find(|w| w[0] == w[1]) {
        return Err(at(1, format!("`{}` is given twice", w[0])));
    }
    if rows.is_empty() {
        return Err(at(2, "no variants: one row per variant".into()));
    }
    if rows.len() > MAX_VARIANTS {
        return Err(at(
            MAX_VARIANTS as u64 + 2,
            format!("more than {MAX_VARIANTS} variants"),
        ));
    }
    let mut variants = Vec::with_capacity(rows.len());
    for (index, (line, cells)) in rows.into_iter().enumerate() {
        if cells.len() != axes.len() {
            return Err(at(
                line,
                format!("{} values for {} keys", cells.len(), axes.len()),
            ));
        }
        let mut settings = Vec::with_capacity(axes.len());
        for (axis, cell) in axes.iter_mut().zip(&cells) {
            let mechanism = axis.path.get(1).is_some_and(|p| p == "mechanisms");
            let mut v = parse_values(cell.trim(), mechanism)
                .map_err(|why| at(line, format!("`{}`: {why}", axis.key)))?;
            if v.len() != 1 || cell.contains(',') {
                return Err(at(line, format!("`{}`: one value per cell", axis.key)));
            }
            let value = v.remove(0);
            axis.values.push(value.clone());
            settings.push((axis.key.clone(), value));
        }
        variants.push(Variant {
            index,
            id: format!("v{index:04}"),
            settings,
        });
    }
    Ok((axes, variants))
}

/// Checks that every table and array on `path` but the last key exists in `base`.
fn check_path(base: &toml::Table, path: &[String]) -> std::result::Result<(), String> {
    enum Node<'a> {
        Table(&'a toml::Table),
        Array(&'a [toml::Value]),
        Leaf,
    }
    fn node(v: &toml::Value) -> Node<'_> {
        match v {
            toml::Value::Table(t) => Node::Table(t),
            toml::Value::Array(a) => Node::Array(a),
            _ => Node::Leaf,
        }
    }
    let mut at = Node::Table(base);
    for (i, seg) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        let shown = path[..=i].join(".");
        at = match at {
            Node::Table(t) => match t.get(seg) {
                Some(v) => node(v),
                None if last => return Ok(()),
                // [model.set] and [model.mechanisms] may be absent: the sweep adds them.
                None if i == 1 && path[0] == "model" => return Ok(()),
                None => {
                    let keys: Vec<&str> = t.keys().map(String::as_str).collect();
                    let hint = crate::locate::nearest(seg, &keys)
                        .map(|k| format!(" (did you mean `{k}`?)"))
                        .unwrap_or_default();
                    return Err(format!("the preset has no `{shown}`{hint}"));
                }
            },
            Node::Array(a) => {
                let idx: usize = seg
                    .parse()
                    .map_err(|_| format!("`{shown}`: index the list with a number from 0"))?;
                a.get(idx).map(node).ok_or_else(|| {
                    format!(
                        "`{shown}`: the preset has {} entries there (indices 0..{})",
                        a.len(),
                        a.len().saturating_sub(1)
                    )
                })?
            }
            Node::Leaf => {
                return Err(format!(
                    "`{}` is a value, not a table or list",
                    path[..i].join(".")
                ));
            }
        };
    }
    Ok(())
}

fn parse_values(s: &str, mechanism: bool) -> std::result::Result<Vec<toml::Value>, String> {
    let parts: Vec<&str> = s.split(':').collect();
    if (parts.len() == 3 || parts.len() == 4)
        && parts[..2].iter().all(|p| p.trim().parse::<f64>().is_ok())
    {
        return range(&parts);
    }
    s.split(',')
        .map(|v| {
            let v = v.trim();
            if mechanism {
                return match v {
                    "on" | "true" => Ok(toml::Value::Boolean(true)),
                    "off" | "false" => Ok(toml::Value::Boolean(false)),
                    _ => Err(format!("`{v}`: a mechanism is on or off")),
                };
            }
            if v.is_empty() {
                return Err("an empty value".into());
            }
            Ok(match format!("v = {v}").parse::<toml::Table>() {
                Ok(mut t) => t.remove("v").expect("just parsed"),
                Err(_) => toml::Value::String(v.to_string()),
            })
        })
        .collect()
}

/// `start:stop:count[:log]`, endpoints included; integers when both ends are written as
/// integers and the steps fall on integers.
fn range(parts: &[&str]) -> std::result::Result<Vec<toml::Value>, String> {
    let a: f64 = parts[0].trim().parse().expect("checked");
    let b: f64 = parts[1].trim().parse().expect("checked");
    let n: usize = parts[2]
        .trim()
        .parse()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| format!("`{}`: the count is a whole number >= 1", parts[2]))?;
    let log = match parts.get(3).map(|s| s.trim()) {
        None => false,
        Some("log") => true,
        Some(other) => return Err(format!("`{other}`: the fourth part of a range is `log`")),
    };
    if log && !(a > 0.0 && b > 0.0) {
        return Err("a log range needs positive ends".into());
    }
    let at = |i: usize| {
        let s = if n == 1 {
            0.0
        } else {
            i as f64 / (n - 1) as f64
        };
        if log {
            (a.ln() + s * (b.ln() - a.ln())).exp()
        } else {
            a + s * (b - a)
        }
    };
    let ints = !log
        && [parts[0], parts[1]]
            .iter()
            .all(|p| p.trim().parse::<i64>().is_ok())
        && (n == 1 || ((b - a) / (n - 1) as f64).fract() == 0.0);
    Ok((0..n)
        .map(|i| {
            if ints {
                toml::Value::Integer(at(i).round() as i64)
            } else {
                toml::Value::Float(at(i))
            }
        })
        .collect())
}

/// One point of the sweep grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    /// Position in the grid, 0-based (the Slurm array index).
    pub index: usize,
    /// `v0000`, ...: the name of its preset file and output folder.
    pub id: String,
    /// Its value of each axis, in axis order.
    pub settings: Vec<(String, toml::Value)>,
}

impl Variant {
    /// `v0003 seed=2 tumour_growth=0.3`.
    pub fn label(&self) -> String {
        let mut s = self.id.clone();
        for (k, v) in &self.settings {
            s.push_str(&format!(" {k}={}", show(v)));
        }
        s
    }
}

/// A value as the user would write it.
fn show(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The grid of variants: every combination, the last axis varying fastest.
pub fn variants(axes: &[Axis]) -> Result<Vec<Variant>> {
    let total = axes
        .iter()
        .try_fold(1usize, |acc, a| acc.checked_mul(a.values.len()))
        .filter(|t| *t <= MAX_VARIANTS)
        .ok_or_else(|| {
            Error::Invalid(format!(
                "the sweep would have more than {MAX_VARIANTS} variants; vary fewer values"
            ))
        })?;
    let mut keys: Vec<&str> = axes.iter().map(|a| a.key.as_str()).collect();
    keys.sort_unstable();
    if let Some(w) = keys.windows(2).find(|w| w[0] == w[1]) {
        return Err(Error::Invalid(format!("--vary {} is given twice", w[0])));
    }
    Ok((0..total)
        .map(|index| {
            let mut rest = index;
            let mut settings = vec![(String::new(), toml::Value::Boolean(false)); axes.len()];
            for (i, a) in axes.iter().enumerate().rev() {
                let n = a.values.len();
                settings[i] = (a.key.clone(), a.values[rest % n].clone());
                rest /= n;
            }
            Variant {
                index,
                id: format!("v{index:04}"),
                settings,
            }
        })
        .collect())
}

/// `base` with the variant's settings applied and its name suffixed with the variant id.
pub fn apply(base: &toml::Table, axes: &[Axis], v: &Variant) -> toml::Table {
    let mut t = base.clone();
    for (axis, (_, value)) in axes.iter().zip(&v.settings) {
        set(&mut t, &axis.path, value.clone());
    }
    let name = t
        .get("name")
        .and_then(|n| n.as_str())
        .unwrap_or("preset")
        .to_string();
    t.insert(
        "name".into(),
        toml::Value::String(format!("{name}-{}", v.id)),
    );
    t
}

/// Sets `path` in `t` (paths were checked by [`parse_vary`]; missing tables are added).
fn set(t: &mut toml::Table, path: &[String], value: toml::Value) {
    let (first, rest) = path.split_first().expect("a path has a key");
    if rest.is_empty() {
        let value = like(t.get(first), value);
        t.insert(first.clone(), value);
        return;
    }
    let next = t
        .entry(first.clone())
        .or_insert_with(|| toml::Value::Table(Default::default()));
    set_value(next, rest, value);
}

fn set_value(at: &mut toml::Value, path: &[String], value: toml::Value) {
    match at {
        toml::Value::Table(t) => set(t, path, value),
        toml::Value::Array(a) => {
            let i: usize = path[0].parse().expect("checked index");
            if path.len() == 1 {
                a[i] = like(Some(&a[i]), value);
            } else {
                set_value(&mut a[i], &path[1..], value);
            }
        }
        _ => unreachable!("checked path"),
    }
}

/// `value`, as a float where it replaces a float and is an integer (`1` for `1.0`).
fn like(old: Option<&toml::Value>, value: toml::Value) -> toml::Value {
    match (old, value) {
        (Some(toml::Value::Float(_)), toml::Value::Integer(i)) => toml::Value::Float(i as f64),
        (_, v) => v,
    }
}

/// How every variant is run (the same locally and on the cluster).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSettings {
    /// Simulated days (None: the preset's duration).
    pub days: Option<f64>,
    /// Voxels on the longest axis (None: the preset's grid).
    pub resolution: Option<usize>,
    /// `auto`, `gpu` or `cpu`.
    pub backend: String,
    /// Simulated time between checkpoints, e.g. "1 d" (None: no checkpoints).
    pub checkpoint_every: Option<String>,
}

impl RunSettings {
    /// The options after `osteoniche run <preset>`.
    pub fn run_args(&self) -> Vec<String> {
        let mut a = vec!["--backend".to_string(), self.backend.clone()];
        if let Some(d) = self.days {
            a.extend(["--days".into(), d.to_string()]);
        }
        if let Some(r) = self.resolution {
            a.extend(["--resolution".into(), r.to_string()]);
        }
        if let Some(c) = &self.checkpoint_every {
            a.extend(["--checkpoint-every".into(), c.clone()]);
        }
        a
    }
}

/// sweep.json: what a sweep folder holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// osteoniche version that wrote it.
    pub osteoniche: String,
    /// The preset swept.
    pub preset: String,
    /// The axes.
    pub axes: Vec<Axis>,
    /// How each variant runs.
    pub run: RunSettings,
    /// Every variant.
    pub variants: Vec<Variant>,
}

impl Manifest {
    /// File name in a sweep folder.
    pub const FILE: &'static str = "sweep.json";

    /// Reads `dir/sweep.json`.
    pub fn load(dir: &Path) -> Result<Manifest> {
        let path = dir.join(Self::FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::Invalid(format!(
                "{}: not a sweep folder ({e}); `osteoniche sweep PRESET --vary ...` writes one",
                dir.display()
            ))
        })?;
        serde_json::from_str(&text).map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))
    }
}

/// Slurm settings of the emitted script.
#[derive(Debug, Clone, Default)]
pub struct SlurmOptions {
    /// `--time` (e.g. "04:00:00").
    pub time: String,
    /// `--cpus-per-task`.
    pub cpus: usize,
    /// `--mem` (e.g. "16G").
    pub mem: String,
    /// `--partition`, if any.
    pub partition: Option<String>,
    /// GPUs per task (`--gres=gpu:N`), 0 for none.
    pub gpus: usize,
    /// Most tasks running at once (`%N` on the array), 0 for no limit.
    pub max_running: usize,
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The job-array script: task `SLURM_ARRAY_TASK_ID` runs variant `vNNNN` into
/// `runs/vNNNN`, or resumes it from its checkpoint when an earlier attempt left one.
/// `dir` is the sweep folder (absolute), `exe` the osteoniche binary (absolute; the
/// `OSTEONICHE` environment variable overrides it).
pub fn slurm_script(m: &Manifest, dir: &Path, exe: &Path, o: &SlurmOptions) -> String {
    let n = m.variants.len();
    let dir_s = dir.display().to_string();
    let mut s = String::from("#!/bin/bash\n");
    s.push_str(&format!(
        "#SBATCH --job-name=osteoniche-sweep\n#SBATCH --array=0-{}",
        n - 1
    ));
    if o.max_running > 0 {
        s.push_str(&format!("%{}", o.max_running));
    }
    s.push('\n');
    s.push_str(&format!("#SBATCH --output={dir_s}/logs/%A_%a.out\n"));
    s.push_str(&format!("#SBATCH --time={}\n", o.time));
    s.push_str(&format!("#SBATCH --cpus-per-task={}\n", o.cpus));
    s.push_str(&format!("#SBATCH --mem={}\n", o.mem));
    if let Some(p) = &o.partition {
        s.push_str(&format!("#SBATCH --partition={p}\n"));
    }
    if o.gpus > 0 {
        s.push_str(&format!("#SBATCH --gres=gpu:{}\n", o.gpus));
    }
    s.push_str(&format!(
        "#\n# osteoniche sweep of {} ({n} variants; manifest {dir_s}/{}).\n\
         # Submit: sbatch {dir_s}/sweep.slurm\n\
         # One variant by hand: SLURM_ARRAY_TASK_ID=3 bash {dir_s}/sweep.slurm\n\
         # Then: osteoniche sweep --collect {dir_s}\n\
         set -euo pipefail\n\n",
        m.preset,
        Manifest::FILE
    ));
    s.push_str(&format!(
        "OSTEONICHE=\"${{OSTEONICHE:-{}}}\"\n",
        exe.display()
    ));
    s.push_str(&format!("SWEEP_DIR={}\n", quote(&dir_s)));
    s.push_str(&format!("VARIANTS={n}\n"));
    s.push_str(
        "TASK=\"${SLURM_ARRAY_TASK_ID:?run this as a Slurm array task (sbatch), or set SLURM_ARRAY_TASK_ID to a variant index}\"\n\
         if ! [[ \"$TASK\" =~ ^[0-9]+$ ]] || (( TASK >= VARIANTS )); then\n  \
           echo \"SLURM_ARRAY_TASK_ID=$TASK: this sweep has variants 0..$((VARIANTS - 1))\" >&2\n  exit 2\nfi\n\
         ID=$(printf 'v%04d' \"$TASK\")\n\
         OUT=\"$SWEEP_DIR/runs/$ID\"\n\
         mkdir -p \"$SWEEP_DIR/logs\" \"$SWEEP_DIR/runs\"\n\
         if [[ -n \"${SLURM_CPUS_PER_TASK:-}\" ]]; then export RAYON_NUM_THREADS=\"$SLURM_CPUS_PER_TASK\"; fi\n",
    );
    let args: Vec<String> = m.run.run_args().iter().map(|a| quote(a)).collect();
    let resume_ck = m
        .run
        .checkpoint_every
        .as_ref()
        .map(|c| format!(" --checkpoint-every {}", quote(c)))
        .unwrap_or_default();
    s.push_str(&format!(
        "# Unfinished (no summary yet, or one saying the task was interrupted, as Slurm's\n\
         # SIGTERM before a requeue does): continue from the checkpoint.\n\
         if [[ -f \"$OUT/checkpoint.osck\" ]] && {{ [[ ! -f \"$OUT/summary.json\" ]] || grep -q '\"status\": \"interrupted\"' \"$OUT/summary.json\"; }}; then\n  \
           exec \"$OSTEONICHE\" resume \"$OUT/checkpoint.osck\" --quiet{resume_ck}\n\
         fi\n\
         exec \"$OSTEONICHE\" run \"$SWEEP_DIR/variants/$ID.toml\" --out \"$OUT\" --overwrite --quiet {}\n",
        args.join(" ")
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> toml::Table {
        r#"
name = "p"
seed = 1
[time]
dt = "1 h"
[model]
file = "/m.toml"
[[dose]]
drug = "a"
mg_per_kg = 1.0
"#
        .parse()
        .unwrap()
    }

    #[test]
    fn keys_map_to_preset_paths() {
        let b = base();
        assert_eq!(parse_vary("seed=1:4:4", &b).unwrap().values.len(), 4);
        let a = parse_vary("tumour_growth=0.1,0.2", &b).unwrap();
        assert_eq!(a.path, ["model", "set", "tumour_growth"]);
        let a = parse_vary("M14=on,off", &b).unwrap();
        assert_eq!(
            a.values,
            [toml::Value::Boolean(true), toml::Value::Boolean(false)]
        );
        let a = parse_vary("dose.0.mg_per_kg=1:100:3:log", &b).unwrap();
        let v: Vec<f64> = a.values.iter().map(|v| v.as_float().unwrap()).collect();
        assert!(
            (v[1] - 10.0).abs() < 1e-12 && (v[2] - 100.0).abs() < 1e-9,
            "{v:?}"
        );
        let a = parse_vary("time.dt=30 min,\"2 h\"", &b).unwrap();
        assert_eq!(a.values[0].as_str(), Some("30 min"));
        assert_eq!(a.values[1].as_str(), Some("2 h"));
        for (bad, says) in [
            ("dose.3.mg_per_kg=1", "1 entries"),
            ("tme.dt=1", "did you mean `time`"),
            ("M99=on", "M1..M19"),
            ("M14=maybe", "on or off"),
            ("seed", "KEY=VALUES"),
            ("seed=1:2:0", "count"),
        ] {
            let e = parse_vary(bad, &b).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn grid_is_every_combination_last_axis_fastest() {
        let b = base();
        let axes = vec![
            parse_vary("seed=1,2", &b).unwrap(),
            parse_vary("dose.0.mg_per_kg=0.5,1,2", &b).unwrap(),
        ];
        let v = variants(&axes).unwrap();
        assert_eq!(v.len(), 6);
        assert_eq!(v[4].label(), "v0004 seed=2 dose.0.mg_per_kg=1");
        let t = apply(&b, &axes, &v[4]);
        assert_eq!(t["seed"].as_integer(), Some(2));
        assert_eq!(t["dose"][0]["mg_per_kg"].as_float(), Some(1.0));
        assert_eq!(t["name"].as_str(), Some("p-v0004"));
        let twice = vec![axes[0].clone(), axes[0].clone()];
        assert!(variants(&twice).unwrap_err().to_string().contains("twice"));
    }
}

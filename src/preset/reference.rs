//! The preset key reference: one row per key with its unit, default and allowed range.
//! `docs/preset-format.md` embeds [`markdown_table`]; `tests/preset_reference.rs` checks that
//! the table lists exactly the keys the schema has, so the docs cannot drift.

/// One documented key.
#[derive(Debug, Clone, Copy)]
pub struct KeyDoc {
    /// Path; `[]` marks an array of tables, `{variant}` a key that exists for one `kind`.
    pub path: &'static str,
    /// Unit of the value (`-` when it has none).
    pub unit: &'static str,
    /// Default, or `required`.
    pub default: &'static str,
    /// Allowed values.
    pub allowed: &'static str,
    /// What it does.
    pub meaning: &'static str,
}

const fn k(
    path: &'static str,
    unit: &'static str,
    default: &'static str,
    allowed: &'static str,
    meaning: &'static str,
) -> KeyDoc {
    KeyDoc {
        path,
        unit,
        default,
        allowed,
        meaning,
    }
}

/// Every key of the preset format.
pub const KEYS: &[KeyDoc] = &[
    k(
        "name",
        "-",
        "required",
        "non-empty string",
        "Scenario identifier, used in outputs.",
    ),
    k(
        "description",
        "-",
        "\"\"",
        "string",
        "What the scenario represents, with its sources.",
    ),
    k(
        "seed",
        "-",
        "1",
        "0..2^64",
        "Seed of every random choice; `--seed` overrides it.",
    ),
    k(
        "grid.size",
        "voxels",
        "required",
        "[nx, ny, nz], each 1..=4096",
        "Grid shape; `--resolution N` rescales it keeping the physical box.",
    ),
    k(
        "grid.voxel_um",
        "µm",
        "required",
        "(0, 1000]",
        "Voxel edge (MODEL.md: 20 µm default, 10-40 µm for tissue).",
    ),
    k(
        "time.dt",
        "time",
        "required",
        "> 0, <= duration; string with unit s/min/h/d",
        "Coupled step of the operator splitting.",
    ),
    k(
        "time.duration",
        "time",
        "required",
        "> 0; string with unit",
        "Simulated time; `--days` overrides it.",
    ),
    k(
        "time.scheme",
        "-",
        "\"backward-euler\"",
        "\"backward-euler\" | \"crank-nicolson\"",
        "Transport time scheme: first order and positivity preserving, or second order.",
    ),
    k(
        "output.metrics_every",
        "time",
        "every step",
        "> 0; string with unit",
        "Interval between metrics.csv rows.",
    ),
    k(
        "output.snapshot_every",
        "time",
        "final only",
        "> 0; string with unit",
        "Interval between .vti snapshots.",
    ),
    k(
        "switches.sources",
        "-",
        "true",
        "bool",
        "Run the supply/uptake stage.",
    ),
    k(
        "switches.transport",
        "-",
        "true",
        "bool",
        "Run the transport (diffusion, motility) stage.",
    ),
    k(
        "switches.reactions",
        "-",
        "true",
        "bool",
        "Run the per-voxel reaction stage.",
    ),
    k(
        "lattice.period_um",
        "µm",
        "500",
        "> 0",
        "Repeat length of the procedural trabecular pattern (assumption).",
    ),
    k(
        "lattice.bv_tv",
        "-",
        "0.15",
        "0.001..=0.95",
        "Target bone volume fraction BV/TV (mouse metaphysis ~0.15).",
    ),
    k(
        "species[].name",
        "-",
        "required",
        "letter then letters/digits/-/_; unique",
        "Field identifier; WGSL constant F_<NAME>.",
    ),
    k(
        "species[].kind",
        "-",
        "\"factor\"",
        "factor | drug | cell | bone | geometry",
        "What the field is; bone and geometry never move.",
    ),
    k(
        "species[].unit",
        "-",
        "nM (cell/bone/geometry: volume fraction)",
        "string",
        "Unit of the values.",
    ),
    k(
        "species[].diffusion",
        "µm²/min",
        "0",
        ">= 0",
        "Diffusion or random-motility coefficient in free marrow.",
    ),
    k(
        "species[].decay",
        "1/min",
        "0",
        ">= 0",
        "First-order decay rate.",
    ),
    k(
        "species[].bone_permeability",
        "-",
        "1",
        "0..=1",
        "Share of the diffusivity kept inside fully mineralised bone.",
    ),
    k(
        "species[].growth",
        "1/min",
        "0",
        ">= 0",
        "Logistic growth rate.",
    ),
    k(
        "species[].capacity",
        "field unit",
        "1",
        "> 0",
        "Logistic carrying capacity.",
    ),
    k(
        "species[].initial.kind",
        "-",
        "uniform (value 0)",
        "uniform | gaussian | box | cosine | lattice",
        "Initial condition type.",
    ),
    k(
        "species[].initial{uniform}.value",
        "field unit",
        "required",
        ">= 0",
        "Value everywhere.",
    ),
    k(
        "species[].initial{gaussian}.center_um",
        "µm",
        "required",
        "finite [x, y, z]",
        "Centre of the blob.",
    ),
    k(
        "species[].initial{gaussian}.sigma_um",
        "µm",
        "required",
        "> 0",
        "Standard deviation.",
    ),
    k(
        "species[].initial{gaussian}.amplitude",
        "field unit",
        "required",
        ">= 0",
        "Peak above background.",
    ),
    k(
        "species[].initial{gaussian}.background",
        "field unit",
        "0",
        ">= 0",
        "Value far from the centre.",
    ),
    k(
        "species[].initial{box}.min_um",
        "µm",
        "required",
        "finite [x, y, z]",
        "Lower corner (voxel centres inside get `value`).",
    ),
    k(
        "species[].initial{box}.max_um",
        "µm",
        "required",
        "finite [x, y, z]",
        "Upper corner.",
    ),
    k(
        "species[].initial{box}.value",
        "field unit",
        "required",
        ">= 0",
        "Value inside.",
    ),
    k(
        "species[].initial{box}.background",
        "field unit",
        "0",
        ">= 0",
        "Value outside.",
    ),
    k(
        "species[].initial{cosine}.axis",
        "-",
        "required",
        "x | y | z",
        "Axis of the cosine.",
    ),
    k(
        "species[].initial{cosine}.mean",
        "field unit",
        "required",
        "finite",
        "Mean value.",
    ),
    k(
        "species[].initial{cosine}.amplitude",
        "field unit",
        "required",
        "|amplitude| <= mean",
        "Amplitude of cos(modes π x / L).",
    ),
    k(
        "species[].initial{cosine}.modes",
        "-",
        "1",
        ">= 1",
        "Half-waves across the domain.",
    ),
    k(
        "species[].initial{lattice}.of",
        "-",
        "required",
        "bone | marrow | surface",
        "Which part of the lattice to copy.",
    ),
    k(
        "species[].initial{lattice}.scale",
        "field unit",
        "1",
        ">= 0",
        "Factor applied to it.",
    ),
    k(
        "species[].dirichlet.x_min",
        "field unit",
        "no-flux",
        ">= 0; mobile species only",
        "Value held on the x = 0 face.",
    ),
    k(
        "species[].dirichlet.x_max",
        "field unit",
        "no-flux",
        ">= 0; mobile species only",
        "Value held on the x = Lx face.",
    ),
    k(
        "species[].dirichlet.y_min",
        "field unit",
        "no-flux",
        ">= 0; mobile species only",
        "Value held on the y = 0 face.",
    ),
    k(
        "species[].dirichlet.y_max",
        "field unit",
        "no-flux",
        ">= 0; mobile species only",
        "Value held on the y = Ly face.",
    ),
    k(
        "species[].dirichlet.z_min",
        "field unit",
        "no-flux",
        ">= 0; mobile species only",
        "Value held on the z = 0 face.",
    ),
    k(
        "species[].dirichlet.z_max",
        "field unit",
        "no-flux",
        ">= 0; mobile species only",
        "Value held on the z = Lz face.",
    ),
    k(
        "sources[].species",
        "-",
        "required",
        "a species name",
        "Field the region supplies or takes up.",
    ),
    k(
        "sources[].supply_rate",
        "1/min",
        "0",
        ">= 0",
        "Supply rate S in S (target - u).",
    ),
    k(
        "sources[].target",
        "field unit",
        "0",
        ">= 0",
        "Saturation value of the supply.",
    ),
    k(
        "sources[].uptake_rate",
        "1/min",
        "0",
        ">= 0",
        "Uptake rate U in -U u.",
    ),
    k(
        "sources[].region.kind",
        "-",
        "required",
        "everywhere | box | sphere | shell | field",
        "Where the source acts.",
    ),
    k(
        "sources[].region{box}.min_um",
        "µm",
        "required",
        "finite [x, y, z]",
        "Lower corner.",
    ),
    k(
        "sources[].region{box}.max_um",
        "µm",
        "required",
        "finite [x, y, z]",
        "Upper corner.",
    ),
    k(
        "sources[].region{sphere}.center_um",
        "µm",
        "required",
        "finite [x, y, z]",
        "Centre.",
    ),
    k(
        "sources[].region{sphere}.radius_um",
        "µm",
        "required",
        "> 0",
        "Radius.",
    ),
    k(
        "sources[].region{shell}.width_um",
        "µm",
        "required",
        "> 0",
        "Width of the strip along every outer face.",
    ),
    k(
        "sources[].region{field}.species",
        "-",
        "required",
        "a species name",
        "Field whose value scales the rates voxel by voxel.",
    ),
];

/// The reference as a Markdown table.
pub fn markdown_table() -> String {
    let mut s =
        String::from("| key | unit | default | allowed | meaning |\n|---|---|---|---|---|\n");
    for key in KEYS {
        s.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            key.path, key.unit, key.default, key.allowed, key.meaning
        ));
    }
    s
}

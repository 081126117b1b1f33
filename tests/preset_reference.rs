//! docs/preset-format.md lists exactly the keys the preset schema has, so it cannot drift.

use std::collections::BTreeSet;

use osteoniche::preset::reference::{KEYS, markdown_table};

/// Key paths of a TOML value, with `[]` for arrays of tables and `{kind}` for tagged tables.
fn walk(prefix: &str, value: &toml::Value, out: &mut BTreeSet<String>) {
    match value {
        toml::Value::Table(t) => {
            let tagged = prefix.ends_with(".initial")
                || prefix.ends_with(".region")
                || prefix.ends_with(".segmentation")
                || prefix == "lattice";
            let tag = t.get("kind").and_then(|k| k.as_str()).filter(|_| tagged);
            for (k, v) in t {
                let base = match tag {
                    Some(tag) if k != "kind" => format!("{prefix}{{{tag}}}"),
                    _ => prefix.to_string(),
                };
                let path = if base.is_empty() {
                    k.clone()
                } else {
                    format!("{base}.{k}")
                };
                match v {
                    toml::Value::Table(_) => walk(&path, v, out),
                    toml::Value::Array(a) if a.first().is_some_and(|x| x.is_table()) => {
                        for item in a {
                            walk(&format!("{path}[]"), item, out);
                        }
                    }
                    _ => {
                        out.insert(path);
                    }
                }
            }
        }
        _ => unreachable!("walk starts at a table"),
    }
}

/// A preset that uses every key and every variant.
const FULL: &str = r#"
name = "full"
description = "all keys"
seed = 3
grid = { size = [4, 4, 4], voxel_um = 20.0 }
time = { dt = "1 min", duration = "2 min", scheme = "crank-nicolson", implicit_tolerance = 1e-6 }
output = { metrics_every = "1 min", snapshot_every = "2 min" }
switches = { sources = true, transport = true, reactions = false }
lattice = { kind = "procedural", bv_tv = 0.2, tb_th_um = 30.0, anisotropy = 1.2, axis = "x", plate_fraction = 0.3, cortical = { faces = ["z_min"], thickness_um = 20.0 }, vessels = { density = 0.05, calibre_um = 20.0 } }
[[species]]
name = "a"
source = "test"
kind = "factor"
unit = "nM"
diffusion = 1.0
decay = 0.1
bone_permeability = 0.5
growth = 0.0
capacity = 1.0
initial = { kind = "uniform", value = 1.0 }
dirichlet = { x_min = 1.0, x_max = 1.0, y_min = 1.0, y_max = 1.0, z_min = 1.0, z_max = 1.0 }
[[species]]
name = "b"
initial = { kind = "gaussian", center_um = [1.0, 1.0, 1.0], sigma_um = 1.0, amplitude = 1.0, background = 0.0 }
[[species]]
name = "c"
initial = { kind = "box", min_um = [0.0, 0.0, 0.0], max_um = [1.0, 1.0, 1.0], value = 1.0, background = 0.0 }
[[species]]
name = "d"
initial = { kind = "cosine", axis = "x", mean = 1.0, amplitude = 1.0, modes = 2 }
[[species]]
name = "e"
initial = { kind = "lattice", of = "bone", scale = 1.0 }
[[species]]
name = "e2"
kind = "geometry"
initial = { kind = "lattice", of = "surface", scale = 1.0, layer_um = 40.0 }
[[sources]]
species = "a"
region = { kind = "everywhere" }
supply_rate = 1.0
target = 1.0
uptake_rate = 1.0
[[sources]]
species = "a"
region = { kind = "box", min_um = [0.0, 0.0, 0.0], max_um = [1.0, 1.0, 1.0] }
[[sources]]
species = "a"
region = { kind = "sphere", center_um = [0.0, 0.0, 0.0], radius_um = 1.0 }
[[sources]]
species = "a"
region = { kind = "shell", width_um = 1.0 }
[[sources]]
species = "a"
region = { kind = "field", species = "b" }
"#;

/// The file lattice variant, with every key (the file need not exist to parse).
const FILE_LATTICE: &str = r#"lattice = { kind = "file", path = "scan.raw", raw = { size = [4, 4, 4], type = "u16", spacing_um = [10.0, 10.0, 10.0], big_endian = true, header_bytes = 0 }, segmentation = { kind = "calibrated", marrow = 0.0, bone = 1000.0 }, roi = { origin_um = [0.0, 0.0, 0.0], size_um = [40.0, 40.0, 40.0] }, vessels = { density = 0.05, calibre_um = 20.0 } }"#;

/// A file lattice segmented by threshold.
const THRESHOLD_LATTICE: &str = r#"lattice = { kind = "file", path = "scan.nrrd", segmentation = { kind = "threshold", threshold = 500.0 } }"#;

/// A procedural lattice given by thickness and separation.
const SPACING_LATTICE: &str =
    r#"lattice = { kind = "procedural", tb_th_um = 30.0, tb_sp_um = 150.0 }"#;

/// A preset with a model and every model key.
const MODEL: &str = r#"name = "m"
[grid]
size = [4, 4, 4]
voxel_um = 20.0
[time]
dt = "1 h"
duration = "2 h"
implicit_tolerance = 1e-4
[model]
file = "presets/model/bone-metastasis.toml"
well_mixed = false
mechanisms = { M4 = false }
set = { alpha1 = 3.0 }
[model.initial]
bone = { kind = "uniform", value = 0.1 }
vessels = { kind = "uniform", value = 0.1 }
osteoclast = { kind = "uniform", value = 0.0 }
osteoblast = { kind = "uniform", value = 0.0 }
[[species]]
name = "x"
source = "test"
[pharmacology]
library = "presets/model/drugs.toml"
body_weight_kg = 0.02
drugs = ["anti_pd1"]
[[dose]]
drug = "docetaxel"
route = "local"
mg = 0.001
start = "1 h"
every = "1 h"
count = 2
point_um = [40.0, 40.0, 40.0]
volume_nl = 0.0001
[[dose]]
drug = "docetaxel"
route = "iv-infusion"
mg_per_kg = 1.0
start = "0 h"
duration = "1 h"
"#;

/// Map-valued keys of `[model]` as the reference names them.
fn generic_model_key(key: &str) -> String {
    for (prefix, generic) in [
        ("model.mechanisms.", "model.mechanisms.<Mk>"),
        ("model.set.", "model.set.<parameter>"),
        ("model.initial.", "model.initial.<field>"),
    ] {
        if key.starts_with(prefix) {
            return generic.to_string();
        }
    }
    key.to_string()
}

#[test]
fn reference_lists_exactly_the_schema_keys() {
    let procedural = FULL
        .lines()
        .find(|l| l.starts_with("lattice = "))
        .expect("FULL has a lattice line");
    let mut schema = BTreeSet::new();
    for lattice in [procedural, FILE_LATTICE, THRESHOLD_LATTICE, SPACING_LATTICE] {
        let text = FULL.replace(procedural, lattice);
        // The vessels initial condition needs vessels in the lattice.
        let text = if lattice.contains("vessels") {
            text.replace("of = \"bone\", scale", "of = \"vessels\", scale")
        } else {
            text
        };
        let preset =
            osteoniche::preset::Preset::parse(&text, "<full>").unwrap_or_else(|e| panic!("{e}"));
        // Round-trip through the schema's own serialisation: keys the structs know.
        let value: toml::Value = toml::from_str(&preset.to_toml()).unwrap();
        walk("", &value, &mut schema);
    }
    let model =
        osteoniche::preset::Preset::parse(MODEL, "<model>").unwrap_or_else(|e| panic!("{e}"));
    let value: toml::Value = toml::from_str(&model.to_toml()).unwrap();
    let mut model_keys = BTreeSet::new();
    walk("", &value, &mut model_keys);
    schema.extend(
        model_keys
            .iter()
            .filter(|k| {
                k.starts_with("model.") || k.starts_with("pharmacology.") || k.starts_with("dose[]")
            })
            .map(|k| generic_model_key(k)),
    );
    // `extends` is resolved (and removed) before the schema sees the file.
    schema.insert("extends".into());
    // The tag keys of tagged tables are documented once per table.
    schema.insert("species[].initial.kind".into());
    schema.insert("sources[].region.kind".into());
    schema.retain(|k| !k.ends_with("}.kind"));
    let documented: BTreeSet<String> = KEYS.iter().map(|k| k.path.to_string()).collect();
    let missing: Vec<_> = schema.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&schema).collect();
    assert!(
        missing.is_empty(),
        "keys without documentation: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "documented keys the schema lacks: {stale:?}"
    );
}

#[test]
fn docs_embed_the_generated_table() {
    let doc = std::fs::read_to_string("docs/preset-format.md").expect("docs/preset-format.md");
    assert!(
        doc.contains(&markdown_table()),
        "docs/preset-format.md is out of date: regenerate its table with `osteoniche reference`"
    );
}

#[test]
fn model_docs_embed_the_generated_reference() {
    let model = osteoniche::preset::ModelData::load("presets/model/bone-metastasis.toml".as_ref())
        .unwrap_or_else(|e| panic!("{e}"));
    let doc = std::fs::read_to_string("docs/model.md").expect("docs/model.md");
    assert!(
        doc.contains(&model.file.reference_markdown()),
        "docs/model.md is out of date: regenerate its reference with \
         `osteoniche reference --model presets/model/bone-metastasis.toml`"
    );
    for (name, _, _) in osteoniche::model::biology::MODEL_FIELDS {
        assert!(
            doc.contains(&format!("| `{name}` |")),
            "docs/model.md lists {name}"
        );
    }
    // Every registered parameter appears once in the reference.
    for d in osteoniche::model::parameters::PARAMS {
        assert!(doc.contains(&format!("| `{}` |", d.name)), "{}", d.name);
    }
}

#[test]
fn drug_docs_are_the_generated_reference() {
    let lib = osteoniche::pharma::DrugLibrary::load("presets/model/drugs.toml".as_ref())
        .unwrap_or_else(|e| panic!("{e}"));
    let doc = std::fs::read_to_string("docs/drugs.md").expect("docs/drugs.md");
    assert_eq!(
        doc,
        lib.markdown(),
        "docs/drugs.md is out of date: regenerate it with \
         `osteoniche reference --drugs presets/model/drugs.toml > docs/drugs.md`"
    );
    for name in lib.drugs.keys() {
        assert!(doc.contains(&format!("## `{name}`")), "{name}");
    }
}

//! Bad presets are refused with a message naming the file, line and key; never a panic.

use osteoniche::preset::Preset;

const GOOD: &str = r#"name = "ok"
[grid]
size = [8, 8, 8]
voxel_um = 20.0
[time]
dt = "1 min"
duration = "10 min"
[[species]]
name = "u"
diffusion = 100.0
"#;

/// (what is wrong, preset text, fragments the message must contain)
fn cases() -> Vec<(&'static str, String, Vec<&'static str>)> {
    let with = |from: &str, to: &str| GOOD.replacen(from, to, 1);
    vec![
        (
            "malformed TOML",
            with("voxel_um = 20.0", "voxel_um = = 20.0"),
            vec!["<test>:4"],
        ),
        (
            "unknown key with suggestion",
            with("diffusion = 100.0", "difusion = 100.0"),
            vec![
                "<test>:10",
                "unknown field `difusion`",
                "did you mean `diffusion`",
            ],
        ),
        (
            "unknown table",
            format!("{GOOD}[extra]\nx = 1\n"),
            vec!["unknown field `extra`"],
        ),
        (
            "missing required key",
            with("voxel_um = 20.0\n", ""),
            vec!["missing field `voxel_um`"],
        ),
        (
            "negative D",
            with("diffusion = 100.0", "diffusion = -1.0"),
            vec!["<test>:10", "species[0].diffusion", "-1", "0..=1e7"],
        ),
        (
            "negative decay",
            with("diffusion = 100.0", "diffusion = 1.0\ndecay = -0.5"),
            vec!["<test>:11", "species[0].decay"],
        ),
        (
            "dt zero",
            with("dt = \"1 min\"", "dt = \"0 min\""),
            vec!["<test>:6", "time.dt", "> 0"],
        ),
        (
            "dt negative",
            with("dt = \"1 min\"", "dt = \"-1 min\""),
            vec!["<test>:6", "time.dt"],
        ),
        (
            "dt without unit",
            with("dt = \"1 min\"", "dt = 1.0"),
            vec!["<test>:6", "unit"],
        ),
        (
            "dt unknown unit",
            with("dt = \"1 min\"", "dt = \"1 fortnight\""),
            vec!["unknown time unit `fortnight`"],
        ),
        (
            "dt longer than duration",
            with("dt = \"1 min\"", "dt = \"1 h\""),
            vec!["time.dt", "must not exceed time.duration"],
        ),
        (
            "voxel zero",
            with("voxel_um = 20.0", "voxel_um = 0.0"),
            vec!["<test>:4", "grid.voxel_um"],
        ),
        (
            "NaN value",
            with("diffusion = 100.0", "diffusion = nan"),
            vec!["species[0].diffusion", "finite"],
        ),
        (
            "infinite value",
            with("diffusion = 100.0", "diffusion = inf"),
            vec!["species[0].diffusion", "finite"],
        ),
        (
            "grid axis zero",
            with("size = [8, 8, 8]", "size = [8, 0, 8]"),
            vec!["<test>:3", "grid.size[1]", "1..=4096"],
        ),
        (
            "grid too many axes",
            with("size = [8, 8, 8]", "size = [8, 8]"),
            vec!["<test>:3"],
        ),
        (
            "permeability above 1",
            with(
                "diffusion = 100.0",
                "diffusion = 1.0\nbone_permeability = 1.5",
            ),
            vec!["species[0].bone_permeability", "0..=1"],
        ),
        (
            "capacity zero",
            with("diffusion = 100.0", "diffusion = 1.0\ncapacity = 0.0"),
            vec!["species[0].capacity"],
        ),
        (
            "bad species name",
            with("name = \"u\"", "name = \"1u\""),
            vec!["species[0].name", "starts with a letter"],
        ),
        (
            "duplicate species",
            format!("{GOOD}[[species]]\nname = \"u\"\n"),
            vec!["species[1].name", "duplicate"],
        ),
        (
            "unknown kind",
            with("diffusion = 100.0", "diffusion = 1.0\nkind = \"virus\""),
            vec!["unknown variant `virus`"],
        ),
        (
            "source on unknown species",
            format!("{GOOD}[[sources]]\nspecies = \"uu\"\nregion = {{ kind = \"everywhere\" }}\n"),
            vec!["sources[0].species", "did you mean \"u\""],
        ),
        (
            "negative supply",
            format!(
                "{GOOD}[[sources]]\nspecies = \"u\"\nregion = {{ kind = \"everywhere\" }}\nsupply_rate = -2.0\n"
            ),
            vec!["sources[0].supply_rate"],
        ),
        (
            "sphere radius zero",
            format!(
                "{GOOD}[[sources]]\nspecies = \"u\"\nregion = {{ kind = \"sphere\", center_um = [0.0, 0.0, 0.0], radius_um = 0.0 }}\n"
            ),
            vec!["sources[0].region.radius_um"],
        ),
        (
            "lattice IC without lattice",
            with(
                "diffusion = 100.0",
                "diffusion = 1.0\ninitial = { kind = \"lattice\", of = \"bone\" }",
            ),
            vec!["needs a [lattice] table"],
        ),
        (
            "BV/TV above 1",
            format!("{GOOD}[lattice]\nkind = \"procedural\"\nbv_tv = 1.5\ntb_th_um = 40.0\n"),
            vec!["<test>:13", "lattice.bv_tv", "0.01..=0.6"],
        ),
        (
            "one morphometric target",
            format!("{GOOD}[lattice]\nkind = \"procedural\"\nbv_tv = 0.2\n"),
            vec!["exactly two of bv_tv, tb_th_um, tb_sp_um"],
        ),
        (
            "lattice without kind",
            format!("{GOOD}[lattice]\nbv_tv = 0.2\n"),
            vec!["missing field `kind`"],
        ),
        (
            "unknown lattice kind",
            format!("{GOOD}[lattice]\nkind = \"gyroid\"\n"),
            vec!["unknown variant `gyroid`"],
        ),
        (
            "anisotropy below 1",
            format!("{GOOD}[lattice]\nkind = \"procedural\"\nanisotropy = 0.5\n"),
            vec!["lattice.anisotropy", "1..=10"],
        ),
        (
            "calibration without contrast",
            format!(
                "{GOOD}[lattice]\nkind = \"file\"\npath = \"x.nrrd\"\nsegmentation = {{ kind = \"calibrated\", marrow = 5.0, bone = 5.0 }}\n"
            ),
            vec!["segmentation.bone", "must differ"],
        ),
        (
            "vessels IC without vessels",
            with(
                "diffusion = 100.0",
                "diffusion = 1.0\ninitial = { kind = \"lattice\", of = \"vessels\" }",
            )
            .replace(
                "[[species]]",
                "[lattice]\nkind = \"procedural\"\n[[species]]",
            ),
            vec!["needs `vessels"],
        ),
        (
            "surface IC without a layer depth or a model",
            with(
                "diffusion = 100.0",
                "diffusion = 1.0\ninitial = { kind = \"lattice\", of = \"surface\" }",
            )
            .replace(
                "[[species]]",
                "[lattice]\nkind = \"procedural\"\n[[species]]",
            ),
            vec!["initial.of", "needs `layer_um`"],
        ),
        (
            "layer depth on a bone IC",
            with(
                "diffusion = 100.0",
                "diffusion = 1.0\ninitial = { kind = \"lattice\", of = \"bone\", layer_um = 40.0 }",
            )
            .replace(
                "[[species]]",
                "[lattice]\nkind = \"procedural\"\n[[species]]",
            ),
            vec!["initial.layer_um", "of = \"surface\" only"],
        ),
        (
            "cosine amplitude above mean",
            with(
                "diffusion = 100.0",
                "diffusion = 1.0\ninitial = { kind = \"cosine\", axis = \"x\", mean = 1.0, amplitude = 2.0 }",
            ),
            vec!["initial.amplitude"],
        ),
        (
            "Dirichlet on immobile species",
            with(
                "diffusion = 100.0",
                "diffusion = 0.0\ndirichlet = { x_min = 1.0 }",
            ),
            vec!["dirichlet.x_min", "mobile"],
        ),
        (
            "no species",
            GOOD.split("[[species]]").next().unwrap().to_string(),
            vec!["at least one [[species]] is needed"],
        ),
        (
            "two bone fields",
            format!(
                "{GOOD}[[species]]\nname = \"b1\"\nkind = \"bone\"\n[[species]]\nname = \"b2\"\nkind = \"bone\"\n"
            ),
            vec!["species[2].kind", "only one"],
        ),
        (
            "wrong type",
            with("diffusion = 100.0", "diffusion = \"fast\""),
            vec!["<test>:10"],
        ),
        (
            "empty name",
            with("name = \"ok\"", "name = \"\""),
            vec!["name", "must not be empty"],
        ),
    ]
    .into_iter()
    .chain(implausible())
    .collect()
}

/// Twenty species and source values outside their plausible ranges (or not numbers at
/// all), each refused with the key and the range.
fn implausible() -> Vec<(&'static str, String, Vec<&'static str>)> {
    const SOURCE: &str = "[[sources]]\nspecies = \"u\"\nregion = { kind = \"everywhere\" }\n";
    // (key, the value as written, as the message shows it, the range)
    let species = |key: &'static str, value: &str, shown: &'static str, range: &'static str| {
        (
            key,
            GOOD.replacen(
                "diffusion = 100.0",
                &format!("diffusion = 100.0\n{key} = {value}"),
                1,
            ),
            vec!["<test>:11", key, shown, range, "plausible range"],
        )
    };
    let source = |key: &'static str, value: &str, shown: &'static str, range: &'static str| {
        (
            key,
            format!("{GOOD}{SOURCE}{key} = {value}\n"),
            vec!["<test>:14", key, shown, range, "plausible range"],
        )
    };
    let mut v = vec![
        (
            "diffusion",
            GOOD.replacen("diffusion = 100.0", "diffusion = 1e300", 1),
            vec![
                "<test>:10",
                "species[0].diffusion",
                "1e300",
                "0..=1e7",
                "plausible range",
            ],
        ),
        (
            "diffusion",
            GOOD.replacen("diffusion = 100.0", "diffusion = 2e7", 1),
            vec!["<test>:10", "species[0].diffusion", "0..=1e7"],
        ),
    ];
    v.extend([
        species("decay", "1e300", "1e300", "0..=1e4"),
        species("decay", "20000.0", "20000", "0..=1e4"),
        species("decay", "-1e-9", "-1e-9", "0..=1e4"),
        species("growth", "1e300", "1e300", "0..=10"),
        species("growth", "11.0", "11", "0..=10"),
        species("growth", "-0.1", "-0.1", "0..=10"),
        species("capacity", "0.0", "0", "> 0, <= 1e12"),
        species("capacity", "-1.0", "-1", "> 0, <= 1e12"),
        species("capacity", "1e13", "1e13", "> 0, <= 1e12"),
        species("capacity", "1e300", "1e300", "> 0, <= 1e12"),
        source("supply_rate", "1e300", "1e300", "0..=1e4"),
        source("supply_rate", "2e4", "20000", "0..=1e4"),
        source("supply_rate", "-1.0", "-1", "0..=1e4"),
        source("uptake_rate", "1e300", "1e300", "0..=1e4"),
        source("uptake_rate", "10001.0", "10001", "0..=1e4"),
        source("uptake_rate", "-3.0", "-3", "0..=1e4"),
        source("target", "1e300", "1e300", "0..=1e12"),
        source("target", "-2.0", "-2", "0..=1e12"),
    ]);
    assert_eq!(v.len(), 20);
    v
}

#[test]
fn every_bad_preset_gets_a_clear_message() {
    let table = cases();
    assert!(table.len() >= 30);
    println!("{} bad presets, each refused with its message", table.len());
    assert!(
        Preset::parse(GOOD, "<test>").is_ok(),
        "the base preset is valid"
    );
    for (what, text, fragments) in table {
        let result =
            std::panic::catch_unwind(|| Preset::parse(&text, "<test>").map_err(|e| e.to_string()));
        let err = match result {
            Ok(Err(e)) => e,
            Ok(Ok(_)) => panic!("{what}: accepted\n{text}"),
            Err(_) => panic!("{what}: panicked"),
        };
        for f in &fragments {
            assert!(err.contains(f), "{what}: message `{err}` lacks `{f}`");
        }
    }
}

#[test]
fn a_missing_file_names_the_path() {
    let err = Preset::load("no/such/preset.toml".as_ref())
        .unwrap_err()
        .to_string();
    assert!(err.contains("no/such/preset.toml"), "{err}");
}

#[test]
fn shipped_presets_are_valid() {
    let mut n = 0;
    for entry in std::fs::read_dir("presets").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            Preset::load(&path).unwrap_or_else(|e| panic!("{e}"));
            n += 1;
        }
    }
    assert!(n >= 3);
}

#[test]
fn grids_too_large_for_the_host_are_refused_before_allocating() {
    use osteoniche::launch::BackendChoice;
    use osteoniche::sim::Simulation;
    let refuse = |size: &str| {
        let text = GOOD.replace("size = [8, 8, 8]", size);
        let sc = Preset::parse(&text, "<test>")
            .unwrap()
            .scenario(None, None)
            .unwrap();
        match Simulation::new(sc, BackendChoice::Cpu) {
            Ok(_) => panic!("{size}: accepted"),
            Err(e) => e.to_string(),
        }
    };
    // 3.4e9 voxels: far more memory than a test machine has.
    let err = refuse("size = [1500, 1500, 1500]");
    assert!(err.contains("GiB") && err.contains("--resolution"), "{err}");
    // 6.9e10 values do not fit 32-bit indices at all.
    let err = refuse("size = [4096, 4096, 4096]");
    assert!(
        err.contains("2^32") && err.contains("--resolution"),
        "{err}"
    );
}

/// A preset using the model file at `model` (relative to the preset), with `extra` lines.
fn model_preset(extra: &str, grid: &str) -> String {
    format!(
        "name = \"m\"\n[grid]\nsize = {grid}\nvoxel_um = 20.0\n[time]\ndt = \"1 h\"\nduration = \"1 d\"\n\
         [model]\nfile = \"model.toml\"\n{extra}\n[model.initial]\nbone = {{ kind = \"uniform\", value = 0.2 }}\n\
         vessels = {{ kind = \"uniform\", value = 0.0 }}\nosteoclast = {{ kind = \"uniform\", value = 0.0 }}\n\
         osteoblast = {{ kind = \"uniform\", value = 0.0 }}\n"
    )
}

#[test]
fn model_files_and_model_tables_are_checked_with_located_messages() {
    let shipped = std::fs::read_to_string("presets/model/bone-metastasis.toml").unwrap();
    let good = model_preset("", "[2, 2, 2]");
    let cases: Vec<(&str, String, String, Vec<&str>)> = vec![
        (
            "missing parameter",
            shipped
                .lines()
                .filter(|l| !l.starts_with("alpha1 ="))
                .collect::<Vec<_>>()
                .join("\n"),
            good.clone(),
            vec!["model.toml", "missing: the model needs `alpha1`", "1/day"],
        ),
        (
            "wrong unit",
            shipped.replace(
                "alpha1 = { value = 3.0, unit = \"1/day\"",
                "alpha1 = { value = 3.0, unit = \"1/h\"",
            ),
            good.clone(),
            vec![
                "model.toml:",
                "parameters.alpha1",
                "the unit of `alpha1` is \"1/day\"",
            ],
        ),
        (
            "unknown parameter",
            format!("{shipped}alpah1 = {{ value = 1.0, unit = \"1/day\", source = \"x\" }}\n"),
            good.clone(),
            vec!["parameters.alpah1", "did you mean `alpha1`"],
        ),
        (
            "no source",
            shipped.replace("source = \"Komarova 2003 Fig. 2\" }", "source = \" \" }"),
            good.clone(),
            vec!["names its source"],
        ),
        (
            "model field missing",
            shipped.replacen("name = \"tumour\"", "name = \"tumor\"", 1),
            good.clone(),
            vec!["the model needs a field \"tumour\" of kind cell"],
        ),
        (
            "negative rate",
            shipped.replace("beta1 = { value = 0.2,", "beta1 = { value = -0.2,"),
            good.clone(),
            vec!["parameters.beta1", "must be > 0"],
        ),
        (
            "bad mechanism name",
            shipped.clone(),
            model_preset("mechanisms = { M20 = false }", "[2, 2, 2]"),
            vec!["preset.toml:", "model.mechanisms.M20", "M1..M19"],
        ),
        (
            "blockade above 1",
            shipped.clone(),
            model_preset("set = { blockade_pd1 = 1.5 }", "[2, 2, 2]"),
            vec!["model.set.blockade_pd1", "must be within 0..=1"],
        ),
        (
            "unknown parameter in set",
            shipped.clone(),
            model_preset("set = { tumor_growth = 0.1 }", "[2, 2, 2]"),
            vec!["model.set.tumor_growth", "did you mean `tumour_growth`"],
        ),
        (
            "well mixed on a grid",
            shipped.clone(),
            model_preset("well_mixed = true", "[2, 2, 2]"),
            vec!["model.well_mixed", "grid.size = [1, 1, 1]"],
        ),
        (
            "preset redefines a model field",
            shipped.clone(),
            format!("{good}[[species]]\nname = \"rankl\"\n"),
            vec!["species[0].name", "already defines this field"],
        ),
        (
            "initial of an unknown field",
            shipped.clone(),
            good.replace(
                "[model.initial]\n",
                "[model.initial]\ntgfb = { kind = \"uniform\", value = 1.0 }\n",
            ),
            vec!["model.initial.tgfb", "did you mean \"tgf_beta\""],
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("model.toml"), &shipped).unwrap();
    std::fs::write(dir.path().join("preset.toml"), &good).unwrap();
    Preset::load(&dir.path().join("preset.toml")).unwrap_or_else(|e| panic!("base case: {e}"));
    for (what, model, preset, fragments) in &cases {
        std::fs::write(dir.path().join("model.toml"), model).unwrap();
        std::fs::write(dir.path().join("preset.toml"), preset).unwrap();
        let err = match Preset::load(&dir.path().join("preset.toml")) {
            Ok(_) => panic!("{what}: accepted"),
            Err(e) => e.to_string(),
        };
        for f in fragments {
            assert!(err.contains(f), "{what}: message `{err}` lacks `{f}`");
        }
    }
    std::fs::remove_file(dir.path().join("model.toml")).unwrap();
    let err = Preset::load(&dir.path().join("preset.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("model.file") && err.contains("no such file"),
        "{err}"
    );
    println!(
        "{} bad model files and [model] tables, each refused with its message",
        cases.len() + 1
    );
}

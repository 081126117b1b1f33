//! The house rules the code's own text can be held to: every `crate::` path in `src/` points
//! to a lower layer (or within its own folder), and no source file is over 650 lines.
//! The layer table is written once, here; docs/architecture.md explains it.

use std::path::{Path, PathBuf};

/// The library's top-level modules, lowest first; a module may use only modules of a
/// lower number (and itself). `cli` (the binary) sits above all of them and reaches the
/// library through `osteoniche::`.
const LAYERS: &[(&str, u32)] = &[
    ("error", 0),
    ("grid", 1),
    ("lanes", 1),
    ("numerics", 1),
    ("kernels", 2),
    ("atomic", 1),
    ("locate", 1),
    ("wgsl", 1),
    ("model", 2),
    ("pharma", 3),
    ("lattice", 3),
    ("preset", 4),
    ("sim", 5),
    ("cpu", 6),
    ("gpu", 6),
    ("io", 7),
    ("render", 7),
    ("report", 8),
    ("launch", 9),
    ("run", 10),
    ("study", 11),
    ("claims", 12),
    ("converge", 12),
    ("sweep", 12),
    ("checks", 13),
    ("viewer", 13),
];

const MAX_LINES: usize = 650;

fn layer(module: &str) -> Option<u32> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`src/sim/setup.rs` -> `sim`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// `(line, module)` of every `crate::<module>` in code (comments left out).
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
                .collect();
            if !name.is_empty() {
                out.push((n + 1, name));
            }
            rest = after;
        }
    }
    out
}

/// Imports that point up or sideways between layers, as "file:line: a -> b".
fn violations(src: &Path, files: &[(PathBuf, String)]) -> Vec<String> {
    let mut bad = Vec::new();
    for (file, text) in files {
        let from = module_of(src, file);
        if from == "main" || from == "cli" || from == "lib" {
            continue;
        }
        let Some(lf) = layer(&from) else {
            bad.push(format!(
                "{}: module `{from}` is not in the layer table",
                file.display()
            ));
            continue;
        };
        for (line, to) in crate_paths(text) {
            if to == from {
                continue;
            }
            match layer(&to) {
                Some(lt) if lt < lf => {}
                Some(lt) => bad.push(format!(
                    "{}:{line}: `{from}` (layer {lf}) uses `crate::{to}` (layer {lt})",
                    file.display()
                )),
                // `crate::Error`, `crate::Result` and the like: re-exports at the root.
                None if to.chars().next().is_some_and(|c| c.is_ascii_uppercase()) => {}
                None => bad.push(format!(
                    "{}:{line}: `crate::{to}` is not in the layer table",
                    file.display()
                )),
            }
        }
    }
    bad
}

fn read_src() -> (PathBuf, Vec<(PathBuf, String)>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let texts = files
        .into_iter()
        .map(|f| {
            let t = std::fs::read_to_string(&f).unwrap();
            (f, t)
        })
        .collect();
    (src, texts)
}

#[test]
fn imports_only_point_down() {
    let (src, files) = read_src();
    assert!(
        files.len() > 50,
        "found {} files under {}",
        files.len(),
        src.display()
    );
    let bad = violations(&src, &files);
    assert!(
        bad.is_empty(),
        "imports against the layers:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_check_catches_an_upward_import() {
    // The same walk over a scratch file that reaches up: model using sim.
    let src = Path::new("/x/src");
    let scratch = vec![
        (
            src.join("model/scratch.rs"),
            "// crate::sim in a comment is fine\nuse crate::sim::Simulation;\nuse crate::grid::Grid;\n"
                .to_string(),
        ),
        (
            src.join("cpu/scratch.rs"),
            "fn f() { crate::gpu::x(); crate::Error::Invalid(String::new()); }\n".to_string(),
        ),
    ];
    let bad = violations(src, &scratch);
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert!(bad[0].contains("model/scratch.rs:2: `model` (layer 2) uses `crate::sim` (layer 5)"));
    assert!(bad[1].contains("`cpu` (layer 6) uses `crate::gpu` (layer 6)"));
}

#[test]
fn every_library_module_has_a_layer() {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    for line in lib.lines() {
        if let Some(m) = line.trim().strip_prefix("pub mod ") {
            let m = m.trim_end_matches(';');
            assert!(
                layer(m).is_some(),
                "src/lib.rs declares `{m}` without a layer here"
            );
        }
    }
}

#[test]
fn no_source_file_is_over_650_lines() {
    let (_, files) = read_src();
    let long: Vec<String> = files
        .iter()
        .map(|(f, t)| (f, t.lines().count()))
        .filter(|(_, n)| *n > MAX_LINES)
        .map(|(f, n)| format!("{}: {n} lines", f.display()))
        .collect();
    assert!(
        long.is_empty(),
        "over {MAX_LINES} lines:\n{}",
        long.join("\n")
    );
}

/// String literals equal to a kernel's name that are not references to the kernel: another
/// namespace that happens to use the same word. (file under src/, name, what it is there)
const OTHER_NAMESPACES: &[(&str, &str, &str)] = &[
    (
        "model/biology.rs",
        "surface",
        "the model's bone-surface field",
    ),
    ("model/parameters.rs", "motility", "a parameter group"),
    ("model/reference.rs", "motility", "a parameter group"),
    (
        "model/reactions.rs",
        "implicit",
        "a member of the WGSL struct SpeciesRates",
    ),
    (
        "preset/validate/mod.rs",
        "sources",
        "the preset's [[sources]] key",
    ),
];

/// Lines of `files` (outside the kernel table and the other namespaces) that write a
/// kernel's name as a string literal, as "src/file:line: text".
fn kernel_literals(src: &Path, files: &[(PathBuf, String)]) -> Vec<String> {
    let table = src.join("kernels.rs");
    let mut found = Vec::new();
    for spec in osteoniche::kernels::TABLE.iter() {
        let literal = format!("\"{}\"", spec.name);
        for (file, text) in files {
            if *file == table {
                continue;
            }
            let rel = file
                .strip_prefix(src)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if OTHER_NAMESPACES
                .iter()
                .any(|(f, n, _)| rel == *f && *n == spec.name)
            {
                continue;
            }
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                if code.contains(&literal) {
                    found.push(format!("src/{rel}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    found
}

#[test]
fn a_kernel_name_is_written_in_the_kernel_table_only() {
    let (src, files) = read_src();
    let table = std::fs::read_to_string(src.join("kernels.rs")).unwrap();
    for spec in osteoniche::kernels::TABLE.iter() {
        // The table holds it, and its shader file exists by that name.
        assert!(table.contains(&format!("name: \"{}\"", spec.name)));
        let wgsl = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("shaders")
            .join(format!("{}.wgsl", spec.name));
        assert!(wgsl.is_file(), "{}", wgsl.display());
    }
    let found = kernel_literals(&src, &files);
    assert!(
        found.is_empty(),
        "kernel names written outside src/kernels.rs (use Kernel::X.name()):\n{}",
        found.join("\n")
    );
    // The walk sees one: a scratch file naming a kernel by its string.
    let scratch = vec![(
        src.join("gpu/scratch.rs"),
        "// \"react\" in a comment is fine\nlet p = compute_pass(enc, \"react\");\n".to_string(),
    )];
    let found = kernel_literals(&src, &scratch);
    assert_eq!(
        found,
        ["src/gpu/scratch.rs:2: let p = compute_pass(enc, \"react\");"]
    );
}

//! The desktop viewer under Xvfb, on Vulkan (lavapipe) and on GL (llvmpipe): a scripted
//! session doses a drug by vein and by a click-placed local injection, exports, resizes,
//! minimises and takes a screenshot that must show the lattice and the overlay.
#![cfg(feature = "viewer")]

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_osteoniche");
const PRESET: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/presets/therapy/breast-nanodocetaxel-denosumab.toml"
);
const DRUG: &str = "docetaxel_nc_bone";

/// True when Xvfb can run here; with OSTEONICHE_REQUIRE_GPU=1 its absence fails the test.
fn have_xvfb(test: &str) -> bool {
    let ok = Command::new("xvfb-run")
        .arg("--help")
        .output()
        .is_ok_and(|o| o.status.success() || !o.stdout.is_empty() || !o.stderr.is_empty());
    if !ok {
        if std::env::var("OSTEONICHE_REQUIRE_GPU").is_ok_and(|v| v == "1") {
            panic!(
                "{test}: OSTEONICHE_REQUIRE_GPU=1 but xvfb-run is missing (apt-get install xvfb)"
            );
        }
        eprintln!("SKIPPED {test}: xvfb-run is missing (apt-get install xvfb)");
    }
    ok
}

/// An RGB PNG as written by the viewer (8-bit RGB), read by the `png` crate.
fn read_png(path: &Path) -> (usize, usize, Vec<u8>) {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut reader = png::Decoder::new(file).read_info().unwrap();
    let mut rgb = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut rgb).unwrap();
    assert_eq!(
        (info.color_type, info.bit_depth),
        (png::ColorType::Rgb, png::BitDepth::Eight),
        "8-bit RGB"
    );
    rgb.truncate(info.buffer_size());
    (info.width as usize, info.height as usize, rgb)
}

/// Metrics CSV columns by name.
fn columns(path: &Path) -> std::collections::HashMap<String, Vec<f64>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let mut cols = vec![Vec::new(); header.len()];
    for l in lines {
        for (c, v) in cols.iter_mut().zip(l.split(',')) {
            c.push(v.parse::<f64>().unwrap());
        }
    }
    header.into_iter().map(String::from).zip(cols).collect()
}

fn session(backend: &str) {
    let test = format!("viewer_session_{backend}");
    if !have_xvfb(&test) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let script = d.join("session.txt");
    std::fs::write(
        &script,
        format!(
            "frames 3
field {DRUG}
colormap magma
step 2
dose {DRUG} iv-bolus 10 mg/kg
step 3
slice x on 0.35
pick 0.5 0.45
dose {DRUG} local 0.05 mg nl 50
step 2
resize 1000 640
frames 3
minimize on
frames 2
minimize off
frames 3
export-csv {csv}
export-vti {vti}
screenshot {png}
quit
",
            csv = d.join("metrics.csv").display(),
            vti = d.join("fields.vti").display(),
            png = d.join("shot.png").display(),
        ),
    )
    .unwrap();
    let xdg = d.join("xdg");
    std::fs::create_dir_all(&xdg).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&xdg, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let out = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x800x24", BIN, "view", PRESET])
        .args([
            "--resolution",
            "20",
            "--backend",
            "cpu",
            "--size",
            "1100x700",
        ])
        .arg("--script")
        .arg(&script)
        .arg("--export-dir")
        .arg(d.join("exports"))
        .env("WGPU_BACKEND", backend)
        .env("XDG_RUNTIME_DIR", &xdg)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{test}:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    // The session's summary is a result: stdout (stderr holds only warnings and errors).
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains("viewer: "),
        "stdout: {summary}\nstderr: {err}"
    );

    // The screenshot shows the overlay (panel grey with text) and the lattice (ivory bone
    // and colour-mapped slices), in many colours.
    let (w, h, rgb) = read_png(&d.join("shot.png"));
    assert!(w >= 900 && h >= 500, "{w}x{h}");
    let px = |x: usize, y: usize| {
        let i = 3 * (y * w + x);
        [rgb[i] as i32, rgb[i + 1] as i32, rgb[i + 2] as i32]
    };
    let mut colours = std::collections::HashSet::new();
    let (mut panel, mut text, mut bone, mut view_px) = (0, 0, 0, 0);
    for y in (0..h).step_by(2) {
        for x in (0..w).step_by(2) {
            let [r, g, b] = px(x, y);
            colours.insert((r, g, b));
            if x < 200 {
                let grey = (r - g).abs() < 6 && (g - b).abs() < 6;
                panel += (grey && r < 60) as usize;
                text += (grey && r > 150) as usize;
            } else if x > 420 && y < h * 2 / 3 {
                view_px += 1;
                bone += (r > 140 && g > 120 && b > 80 && r - b > 25) as usize;
            }
        }
    }
    let left = (200 / 2) * h.div_ceil(2);
    assert!(
        colours.len() > 300,
        "{test}: only {} colours",
        colours.len()
    );
    assert!(
        panel * 2 > left,
        "{test}: the overlay panel is missing ({panel} of {left})"
    );
    assert!(text > 200, "{test}: no text in the panel ({text})");
    assert!(
        bone * 50 > view_px,
        "{test}: no bone surface in the view ({bone} of {view_px})"
    );

    // The doses reached the run: plasma rose after the bolus, the tissue jumped at the
    // local injection, and the drug's field holds more than before.
    let m = columns(&d.join("metrics.csv"));
    let step = &m["step"];
    let plasma = &m[&format!("{DRUG}_plasma_nM")];
    let tissue = &m[&format!("{DRUG}_tissue_nM")];
    let integral = &m[&format!("{DRUG}_integral")];
    let first_at = |s: f64| step.iter().position(|v| *v == s).unwrap();
    assert_eq!(plasma[first_at(2.0)], 0.0, "nothing before the dose");
    let after = first_at(3.0);
    assert!(
        plasma[after] > 0.0,
        "plasma after the bolus: {}",
        plasma[after]
    );
    assert!(integral[after] > integral[first_at(2.0)]);
    let before_local = first_at(5.0);
    let last = step.len() - 1;
    assert!(
        tissue[last] > 2.0 * tissue[before_local],
        "local injection: tissue {} -> {}",
        tissue[before_local],
        tissue[last]
    );
    let vti = std::fs::read(d.join("fields.vti")).unwrap();
    let name = format!("Name=\"{DRUG}\"");
    assert!(vti.windows(name.len()).any(|w| w == name.as_bytes()));
}

#[test]
fn viewer_session_on_vulkan() {
    session("vulkan");
}

#[test]
fn viewer_session_on_gl() {
    session("gl");
}

#[test]
fn without_a_display_the_viewer_says_what_to_do_instead() {
    let out = Command::new(BIN)
        .args(["view", PRESET])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("cannot open a window") && err.contains("osteoniche run"),
        "{err}"
    );
}

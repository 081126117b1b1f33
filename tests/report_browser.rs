//! A three-arm `compare` report opened in a real browser (headless Chromium, Debian's
//! `chromium` package, which `.ci/run` installs): the screenshot shows every plot drawn.
//!
//! Chromium is `OSTEONICHE_CHROMIUM` or `chromium` on the PATH; without one the test says
//! SKIPPED, and fails instead where `OSTEONICHE_REQUIRE_CHROMIUM` is set.

use std::path::{Path, PathBuf};
use std::process::Command;

use osteoniche::report::plot::PALETTE;

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("OSTEONICHE_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("chromium"))
        .find(|p| p.is_file())
}

/// Whether pixel `p` (RGB first) is within a small distance of one of `colours`.
fn near(p: &[u8], colours: &[[u8; 3]]) -> bool {
    colours.iter().any(|c| {
        (0..3)
            .map(|k| (p[k] as i32 - c[k] as i32).abs())
            .sum::<i32>()
            <= 24
    })
}

/// Dark grey: the frames' ink, anti-aliased (not a dark line colour, not a light border).
fn ink(p: &[u8]) -> bool {
    let (lo, hi) = (p[..3].iter().min().unwrap(), p[..3].iter().max().unwrap());
    *hi < 160 && hi - lo < 30
}

/// The plot frames of a screenshot (`channels` bytes per pixel), by their left edges: each
/// plot's axes box is a dark 1 px rectangle 330 px tall, and its left edge is the page's
/// only long dark vertical line (plot lines cross it only at a point; table borders are
/// light grey). Returns (top row, bottom row, x of the edge) per box, from the column that
/// holds the most such edges.
fn frames(pixels: &[u8], width: usize, channels: usize) -> Vec<(usize, usize, usize)> {
    let height = pixels.len() / (channels * width);
    let at = |x: usize, y: usize| &pixels[channels * (y * width + x)..][..3];
    let mut best: Vec<(usize, usize, usize)> = Vec::new();
    for x in 0..width {
        let mut edges = Vec::new();
        let mut start = None;
        for y in 0..=height {
            match (y < height && ink(at(x, y)), start) {
                (true, None) => start = Some(y),
                (false, Some(s)) => {
                    if y - s >= 300 {
                        edges.push((s, y - 1, x));
                    }
                    start = None;
                }
                _ => {}
            }
        }
        if edges.len() > best.len() {
            best = edges;
        }
    }
    best
}

#[test]
fn chromium_shows_every_plot_of_a_three_arm_report() {
    let Some(chromium) = chromium() else {
        assert!(
            std::env::var_os("OSTEONICHE_REQUIRE_CHROMIUM").is_none(),
            "OSTEONICHE_REQUIRE_CHROMIUM is set but no chromium was found"
        );
        eprintln!(
            "SKIPPED chromium_shows_every_plot_of_a_three_arm_report: no chromium (apt-get \
             install chromium, or set OSTEONICHE_CHROMIUM)"
        );
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cmp");
    let arms = [
        "presets/breast-osteolytic.toml",
        "presets/therapy/breast-icb-denosumab.toml",
        "presets/therapy/breast-zoledronate.toml",
    ];
    let o = Command::new(env!("CARGO_BIN_EXE_osteoniche"))
        .arg("compare")
        .args(arms.iter().map(|a| root.join(a)))
        .args([
            "--days",
            "3",
            "--resolution",
            "8",
            "--backend",
            "cpu",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let figures = html.matches("<figure>").count();
    assert!(figures >= 8, "{figures} figures");
    // Tall enough for the tables and every figure at full size.
    let (width, height) = (1100usize, 2000 + 560 * figures);
    let shot = dir.path().join("shot.png");
    let o = Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", out.join("report.html").display()))
        .output()
        .unwrap();
    assert!(
        o.status.success() && shot.exists(),
        "chromium: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("screenshot in {other:?}"),
    };
    assert_eq!((info.width as usize, info.height as usize), (width, height));
    // One frame per figure, each a whole plot tall, with the arms' lines drawn in it.
    let boxes = frames(&buf, width, channels);
    assert_eq!(boxes.len(), figures, "plot frames seen: {boxes:?}");
    for &(top, bottom, left) in &boxes {
        // The axes box is 530 px wide (plot::RIGHT - plot::LEFT).
        let right = left + 530;
        assert!(
            bottom - top >= 300,
            "a plot frame only {} rows tall at {top}",
            bottom - top
        );
        let drawn = (top.saturating_sub(2)..bottom + 3)
            .flat_map(|y| (left..right).map(move |x| (y, x)))
            .filter(|&(y, x)| {
                let i = channels * (y * width + x);
                near(&buf[i..i + 3], &PALETTE[..3])
            })
            .count();
        assert!(drawn > 100, "the plot at row {top} has {drawn} line pixels");
    }
    // The tables: the last arm's name is in them, and they are drawn above the plots.
    assert!(html.contains("breast-zoledronate"));
    let first_plot = boxes[0].0;
    let borders = buf[..channels * width * first_plot]
        .chunks(channels)
        .filter(|p| near(p, &[[204, 204, 204]]))
        .count();
    assert!(
        borders > 5000,
        "table borders above the plots: {borders} pixels"
    );
}

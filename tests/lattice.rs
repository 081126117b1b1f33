//! Bone lattices: morphometrics on shapes with known answers, the procedural generator
//! against its targets, and scan import (NRRD written by hand here, raw volumes).

use std::io::Write;
use std::path::Path;

use osteoniche::grid::Grid;
use osteoniche::lattice::generate::{Face, TrabecularParams, trabecular};
use osteoniche::lattice::import::{RawSpec, Segmentation, crop, read_raw, resample, segment};
use osteoniche::lattice::morphometry::{euler_characteristic, mean_thickness, measure};
use osteoniche::lattice::nrrd::{SampleType, Volume, read_nrrd};

fn shape(grid: &Grid, inside: impl Fn([f64; 3]) -> bool + Sync) -> Vec<f32> {
    (0..grid.len())
        .map(|v| {
            let p = grid.center(
                v % grid.nx,
                (v / grid.nx) % grid.ny,
                v / (grid.nx * grid.ny),
            );
            f32::from(u8::from(inside(p)))
        })
        .collect()
}

fn close(what: &str, got: f64, want: f64, rel: f64) {
    assert!(
        (got - want).abs() <= rel * want.abs(),
        "{what}: {got} vs {want} (±{:.0}%)",
        rel * 100.0
    );
}

#[test]
fn slab_has_the_known_indices() {
    let g = Grid::cube(40, 10.0);
    let bone = shape(&g, |p| (100.0..160.0).contains(&p[0]));
    let m = measure(&g, &bone);
    close("BV/TV", m.bv_tv, 0.15, 1e-9);
    // Exact but for the voxels at the box faces (outside counts as the other phase).
    close("Tb.Th", m.tb_th_um, 60.0, 0.01);
    // Marrow layers of 10 and 24 voxels, volume-weighted; the marrow touches the box on
    // every face, which trims the spheres there by a few percent.
    close(
        "Tb.Sp",
        m.tb_sp_um,
        10.0 * (10.0 * 10.0 + 24.0 * 24.0) / 34.0,
        0.07,
    );
    close("BS/TV", m.bs_tv_per_mm, 5.0, 1e-6);
    assert_eq!(m.euler, 1);
    close("MIL x", m.mil_um[0], 60.0, 1e-9);
    assert!(m.mil_um[1].is_infinite() && m.mil_um[2].is_infinite());
}

#[test]
fn sphere_shell_and_torus() {
    let g = Grid::cube(40, 10.0);
    let c = 200.0;
    let r2 = |p: [f64; 3]| (p[0] - c).powi(2) + (p[1] - c).powi(2) + (p[2] - c).powi(2);
    let ball = shape(&g, |p| r2(p) < 100.0f64.powi(2));
    let m = measure(&g, &ball);
    close(
        "sphere BV/TV",
        m.bv_tv,
        std::f64::consts::PI / 6.0 * 200f64.powi(3) / 400f64.powi(3),
        0.03,
    );
    close("sphere Tb.Th", m.tb_th_um, 200.0, 0.10);
    close(
        "sphere BS/TV",
        m.bs_tv_per_mm,
        std::f64::consts::PI * 200f64.powi(2) / 400f64.powi(3) * 1e3,
        0.10,
    );
    assert_eq!(m.euler, 1);
    let shell = shape(&g, |p| (80.0f64.powi(2)..120.0f64.powi(2)).contains(&r2(p)));
    let mask: Vec<bool> = shell.iter().map(|&b| b > 0.5).collect();
    assert_eq!(
        euler_characteristic(&g, &mask),
        2,
        "a hollow ball: one component, one cavity"
    );
    close("shell Tb.Th", mean_thickness(&g, &mask), 40.0, 0.15);
    let torus = shape(&g, |p| {
        let q = ((p[0] - c).powi(2) + (p[1] - c).powi(2)).sqrt() - 120.0;
        q * q + (p[2] - c).powi(2) < 40.0f64.powi(2)
    });
    let mask: Vec<bool> = torus.iter().map(|&b| b > 0.5).collect();
    assert_eq!(euler_characteristic(&g, &mask), 0, "a torus has one handle");
}

#[test]
fn rod_lattice_has_known_connectivity_and_thickness() {
    // Rods of diameter 80 µm along x, y and z through centres 100, 300, 500 µm.
    let g = Grid::cube(60, 10.0);
    let near = |a: f64, b: f64| {
        [100.0, 300.0, 500.0].iter().any(|&c| (a - c).abs() < 60.0)
            && [100.0, 300.0, 500.0].iter().any(|&c| (b - c).abs() < 60.0)
    };
    let on_rod = |a: f64, b: f64| {
        [100.0f64, 300.0, 500.0]
            .iter()
            .flat_map(|&ca| [100.0f64, 300.0, 500.0].map(move |cb| (ca, cb)))
            .any(|(ca, cb)| (a - ca).powi(2) + (b - cb).powi(2) < 40.0f64.powi(2))
    };
    let bone = shape(&g, |p| {
        near(p[1], p[2]) && on_rod(p[1], p[2]) || on_rod(p[0], p[2]) || on_rod(p[0], p[1])
    });
    let m = measure(&g, &bone);
    // 27 nodes joined by 54 inner rods (rod ends at the faces add no loops): 27 - 54.
    assert_eq!(m.euler, -27);
    close("rod Tb.Th", m.tb_th_um, 80.0, 0.15);
    close("Conn.D", m.conn_d_per_mm3, 28.0 / 0.216, 1e-9);
}

fn params(bv_tv: f64, tb_th: f64) -> TrabecularParams {
    TrabecularParams {
        bv_tv,
        tb_th_um: tb_th,
        anisotropy: 1.0,
        axis: 2,
        plate_fraction: 0.5,
        cortical: vec![],
    }
}

/// Mouse-like, human-like and osteoporotic targets, three seeds each, at a voxel size that
/// puts eight voxels across a trabecula (as micro-CT resolves them; at six, rods measure
/// about 10 % thin because a voxelised circle fits a smaller sphere).
#[test]
fn generated_lattices_hit_their_targets() {
    let sets = [
        ("mouse", 0.15, 45.0, Grid::cube(64, 45.0 / 8.0)),
        ("human", 0.20, 150.0, Grid::cube(64, 150.0 / 8.0)),
        ("osteoporotic", 0.07, 110.0, Grid::cube(64, 110.0 / 8.0)),
    ];
    for (name, bv_tv, tb_th, grid) in sets {
        for seed in [1, 2, 3] {
            let bone = trabecular(grid, &params(bv_tv, tb_th), seed);
            let m = measure(&grid, &bone);
            println!(
                "{name} seed {seed}: BV/TV {:.4} (target {bv_tv}), Tb.Th {:.1} µm (target {tb_th}), Tb.Sp {:.0} µm, Conn.D {:.1}/mm^3",
                m.bv_tv, m.tb_th_um, m.tb_sp_um, m.conn_d_per_mm3
            );
            close(&format!("{name} seed {seed} BV/TV"), m.bv_tv, bv_tv, 0.10);
            close(
                &format!("{name} seed {seed} Tb.Th"),
                m.tb_th_um,
                tb_th,
                0.15,
            );
        }
    }
}

#[test]
fn anisotropy_shows_in_directional_intercepts() {
    // Mean intercept lengths averaged over three seeds (one small box is a noisy sample).
    let grid = Grid::cube(48, 10.0);
    let mean_mil = |anisotropy: f64| {
        let mut sum = [0.0; 3];
        for seed in [4, 5, 6] {
            let mut p = params(0.2, 50.0);
            p.anisotropy = anisotropy;
            p.axis = 2;
            let m = measure(&grid, &trabecular(grid, &p, seed));
            for (acc, mil) in sum.iter_mut().zip(m.mil_um) {
                *acc += mil / 3.0;
            }
        }
        sum
    };
    let iso = mean_mil(1.0);
    let aniso = mean_mil(2.0);
    let da = |m: [f64; 3]| {
        m.iter().cloned().fold(0.0, f64::max) / m.iter().cloned().fold(f64::INFINITY, f64::min)
    };
    println!(
        "mean MIL isotropic {iso:.1?} (DA {:.2}); anisotropy 2 along z {aniso:.1?} (DA {:.2})",
        da(iso),
        da(aniso)
    );
    assert!(da(iso) < 1.3, "isotropic DA {}", da(iso));
    assert!(
        aniso[2] > 1.4 * aniso[0] && aniso[2] > 1.4 * aniso[1],
        "{aniso:?}"
    );
}

#[test]
fn plates_and_rods_differ_and_cortex_is_solid() {
    let grid = Grid::cube(40, 10.0);
    let mut p = params(0.2, 40.0);
    p.plate_fraction = 1.0;
    let plates = measure(&grid, &trabecular(grid, &p, 9));
    p.plate_fraction = 0.0;
    let rods = measure(&grid, &trabecular(grid, &p, 9));
    println!(
        "plates: Tb.Sp {:.0} Conn.D {:.0}; rods: Tb.Sp {:.0} Conn.D {:.0}",
        plates.tb_sp_um, plates.conn_d_per_mm3, rods.tb_sp_um, rods.conn_d_per_mm3
    );
    // At the same BV/TV and thickness, rods are more numerous and closer: a smaller spacing.
    assert!(rods.tb_sp_um < plates.tb_sp_um);
    p.cortical = vec![(Face::ZMin, 60.0)];
    let bone = trabecular(grid, &p, 9);
    for (v, &b) in bone.iter().enumerate().take(grid.nx * grid.ny * 5) {
        assert_eq!(b, 1.0, "voxel {v} within 50 µm of z = 0 is cortex");
    }
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::File::create(path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
}

fn test_volume() -> (Vec<u16>, [usize; 3]) {
    let size = [6, 5, 4];
    ((0..120u16).map(|i| i * 10).collect(), size)
}

#[test]
fn nrrd_written_by_hand_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let (data, size) = test_volume();
    let header = |ty: &str, enc: &str, endian: &str| {
        format!(
            "NRRD0004\n# hand-written\ntype: {ty}\ndimension: 3\nsizes: {} {} {}\nspacings: 10 10 20\nendian: {endian}\nencoding: {enc}\n\n",
            size[0], size[1], size[2]
        )
    };
    // Raw, big-endian unsigned short.
    let mut bytes = header("unsigned short", "raw", "big").into_bytes();
    for v in &data {
        bytes.extend_from_slice(&v.to_be_bytes());
    }
    write(&dir.path().join("a.nrrd"), &bytes);
    let v = read_nrrd(&dir.path().join("a.nrrd")).unwrap();
    assert_eq!(v.size, size);
    assert_eq!(v.spacing_um, [10.0, 10.0, 20.0]);
    assert_eq!(v.data, data.iter().map(|&x| x as f32).collect::<Vec<_>>());
    // Gzip, little-endian float.
    let mut bytes = header("float", "gzip", "little").into_bytes();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for v in &data {
        gz.write_all(&(*v as f32 * 0.5).to_le_bytes()).unwrap();
    }
    bytes.extend(gz.finish().unwrap());
    write(&dir.path().join("b.nrrd"), &bytes);
    let v = read_nrrd(&dir.path().join("b.nrrd")).unwrap();
    assert_eq!(
        v.data,
        data.iter().map(|&x| x as f32 * 0.5).collect::<Vec<_>>()
    );
    // Detached header with its data file next to it.
    let hdr = header("uint16", "raw", "little")
        .replace("encoding: raw\n", "encoding: raw\ndata file: c.raw\n");
    write(&dir.path().join("c.nhdr"), hdr.as_bytes());
    write(
        &dir.path().join("c.raw"),
        &data
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<_>>(),
    );
    assert_eq!(
        read_nrrd(&dir.path().join("c.nhdr")).unwrap().data.len(),
        120
    );
    // Our own writer reads back.
    let vol = Volume {
        size,
        spacing_um: [10.0, 10.0, 20.0],
        data: v.data.clone(),
    };
    osteoniche::lattice::nrrd::write_nrrd(&dir.path().join("d.nrrd"), &vol, true).unwrap();
    assert_eq!(read_nrrd(&dir.path().join("d.nrrd")).unwrap(), vol);
}

#[test]
fn malformed_nrrd_files_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let good = "NRRD0004\ntype: uint8\ndimension: 3\nsizes: 2 2 2\nencoding: raw\n\n";
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("not nrrd", b"P6\n2 2\n".to_vec(), "not a NRRD file"),
        (
            "truncated data",
            [good.as_bytes(), &[1u8; 5]].concat(),
            "truncated",
        ),
        (
            "too much data",
            [good.as_bytes(), &[1u8; 9]].concat(),
            "need 8",
        ),
        (
            "truncated header",
            b"NRRD0004\ntype: uint8\n".to_vec(),
            "header ends",
        ),
        (
            "malformed line",
            good.replace("dimension: 3", "dimension 3").into_bytes(),
            "is not `field: value`",
        ),
        (
            "wrong type",
            good.replace("uint8", "complex").into_bytes(),
            "unsupported type `complex`",
        ),
        (
            "2-D",
            good.replace("dimension: 3", "dimension: 2").into_bytes(),
            "only 3-D",
        ),
        (
            "missing sizes",
            good.replace("sizes: 2 2 2\n", "").into_bytes(),
            "`sizes` is missing",
        ),
        (
            "bad sizes",
            good.replace("2 2 2", "2 x 2").into_bytes(),
            "not whole numbers",
        ),
        (
            "absurd size",
            good.replace("2 2 2", "100000 100000 100000").into_bytes(),
            "more than",
        ),
        (
            "missing endian",
            good.replace("uint8", "uint16").into_bytes(),
            "`endian` is missing",
        ),
        (
            "bad encoding",
            good.replace("raw", "bzip2").into_bytes(),
            "encoding `bzip2`",
        ),
        (
            "corrupt gzip",
            [good.replace("raw", "gzip").as_bytes(), b"not gzip at all"].concat(),
            "gzip data is corrupt",
        ),
        (
            "bad spacing",
            good.replace("encoding", "spacings: 1 0 1\nencoding")
                .into_bytes(),
            "spacings",
        ),
    ];
    for (what, bytes, expect) in cases {
        let path = dir.path().join(format!("{}.nrrd", what.replace(' ', "_")));
        write(&path, &bytes);
        let err = std::panic::catch_unwind(|| read_nrrd(&path).map_err(|e| e.to_string()))
            .unwrap_or_else(|_| panic!("{what}: panicked"))
            .expect_err(what);
        assert!(err.contains(expect), "{what}: `{err}` lacks `{expect}`");
        assert!(
            err.contains(&path.display().to_string()),
            "{what}: `{err}` does not name the file"
        );
    }
    let missing = read_nrrd(&dir.path().join("none.nrrd"))
        .unwrap_err()
        .to_string();
    assert!(missing.contains("none.nrrd"));
}

#[test]
fn raw_scans_are_segmented_cropped_and_resampled() {
    let dir = tempfile::tempdir().unwrap();
    // 40^3 samples of 5 µm: a bone slab (value 1000) 40 µm thick at x = 60..100 µm.
    let n = 40;
    let data: Vec<u16> = (0..n * n * n)
        .map(|v| {
            if (13..21).contains(&(v % n)) {
                1000
            } else {
                100
            }
        })
        .collect();
    let path = dir.path().join("scan.raw");
    let mut bytes = vec![0u8; 16];
    bytes.extend(data.iter().flat_map(|v| v.to_le_bytes()));
    write(&path, &bytes);
    let spec = RawSpec {
        size: [n, n, n],
        sample_type: SampleType::U16,
        spacing_um: [5.0; 3],
        big_endian: false,
        header_bytes: 16,
    };
    let vol = read_raw(&path, &spec).unwrap();
    let seg = segment(
        &vol,
        Segmentation::Calibrated {
            marrow: 100.0,
            bone: 1000.0,
        },
    )
    .unwrap();
    let bv = |v: &[f32]| v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
    close("segmented BV/TV", bv(&seg.data), 0.2, 1e-9);
    // Coarsen to 20 µm voxels: partial volumes keep BV/TV.
    let grid = Grid::cube(10, 20.0);
    let coarse = resample(&seg, &grid).unwrap();
    close("resampled BV/TV", bv(&coarse), 0.2, 0.03);
    assert!(
        coarse.iter().any(|&b| b > 0.0 && b < 1.0),
        "partial volumes at the slab faces"
    );
    let roi = crop(&seg, [50.0, 0.0, 0.0], [60.0, 100.0, 100.0]).unwrap();
    assert_eq!(roi.size, [12, 20, 20]);
    close("ROI BV/TV", bv(&roi.data), 8.0 / 12.0, 0.09);
    // Refusals: wrong byte count, ROI outside, grid larger than the scan.
    let bad = RawSpec {
        header_bytes: 0,
        ..spec.clone()
    };
    assert!(
        read_raw(&path, &bad)
            .unwrap_err()
            .to_string()
            .contains("needs")
    );
    assert!(
        crop(&seg, [150.0, 0.0, 0.0], [100.0, 10.0, 10.0])
            .unwrap_err()
            .to_string()
            .contains("leaves the scan")
    );
    assert!(
        resample(&seg, &Grid::cube(30, 20.0))
            .unwrap_err()
            .to_string()
            .contains("covers")
    );
}

#[test]
fn presets_load_lattices_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let vol = Volume {
        size: [20, 20, 20],
        spacing_um: [10.0; 3],
        data: (0..8000)
            .map(|v| if v % 20 < 5 { 1.0 } else { 0.0 })
            .collect(),
    };
    osteoniche::lattice::nrrd::write_nrrd(&dir.path().join("scan.nrrd"), &vol, true).unwrap();
    let text = r#"
name = "from-scan"
grid = { size = [10, 10, 10], voxel_um = 20.0 }
time = { dt = "1 min", duration = "2 min" }
lattice = { kind = "file", path = "scan.nrrd", segmentation = { kind = "threshold", threshold = 0.5 } }
[[species]]
name = "bone"
kind = "bone"
initial = { kind = "lattice", of = "bone" }
"#;
    let preset_path = dir.path().join("p.toml");
    std::fs::write(&preset_path, text).unwrap();
    let sc = osteoniche::preset::Preset::load(&preset_path)
        .unwrap()
        .scenario(None, None)
        .unwrap();
    let mut sim =
        osteoniche::sim::Simulation::new(sc, osteoniche::launch::BackendChoice::Cpu).unwrap();
    let bone = sim.field("bone").unwrap();
    close(
        "BV/TV from the scan",
        bone.iter().map(|&b| b as f64).sum::<f64>() / 1000.0,
        0.25,
        0.05,
    );
    std::fs::write(&preset_path, text.replace("scan.nrrd", "missing.nrrd")).unwrap();
    let sc = osteoniche::preset::Preset::load(&preset_path)
        .unwrap()
        .scenario(None, None)
        .unwrap();
    match osteoniche::sim::Simulation::new(sc, osteoniche::launch::BackendChoice::Cpu) {
        Ok(_) => panic!("a missing scan was accepted"),
        Err(e) => assert!(e.to_string().contains("missing.nrrd"), "{e}"),
    }
}

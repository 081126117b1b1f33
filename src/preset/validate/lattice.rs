//! The checks of a preset's `[lattice]` table (procedural parameters, scan import).

use super::*;

/// Refuses lattice parameters outside their ranges and scan imports that cannot work.
pub(super) fn check_lattice(c: &Checker<'_, '_>, l: &LatticeSpec) -> Result<()> {
    let p = |k: &str| vec![key("lattice"), key(k)];
    let vessels = match l {
        LatticeSpec::Procedural {
            bv_tv,
            tb_th_um,
            tb_sp_um,
            anisotropy,
            plate_fraction,
            cortical,
            vessels,
            ..
        } => {
            if let Some(b) = bv_tv {
                c.within(
                    &p("bv_tv"),
                    *b,
                    0.01,
                    0.6,
                    "BV/TV must be within 0.01..=0.6",
                )?;
            }
            if let Some(t) = tb_th_um {
                c.within(
                    &p("tb_th_um"),
                    *t,
                    1e-3,
                    5000.0,
                    "must be > 0 and <= 5000 µm",
                )?;
            }
            if let Some(t) = tb_sp_um {
                c.within(
                    &p("tb_sp_um"),
                    *t,
                    1e-3,
                    20000.0,
                    "must be > 0 and <= 20000 µm",
                )?;
            }
            if let Err(e) = crate::lattice::procedural_targets(*bv_tv, *tb_th_um, *tb_sp_um) {
                return Err(c.fail(&p("kind"), "\"procedural\"", &e.to_string()));
            }
            if let Ok((b, _)) = crate::lattice::procedural_targets(*bv_tv, *tb_th_um, *tb_sp_um)
                && !(0.01..=0.6).contains(&b)
            {
                return Err(c.fail(
                    &p("tb_sp_um"),
                    format!("{tb_sp_um:?}"),
                    "implies a BV/TV outside 0.01..=0.6",
                ));
            }
            c.within(
                &p("anisotropy"),
                *anisotropy,
                1.0,
                10.0,
                "must be within 1..=10",
            )?;
            c.within(
                &p("plate_fraction"),
                *plate_fraction,
                0.0,
                1.0,
                "must be within 0..=1",
            )?;
            if let Some(cort) = cortical {
                let path = vec![key("lattice"), key("cortical"), key("thickness_um")];
                c.positive(&path, cort.thickness_um)?;
                if cort.faces.is_empty() {
                    return Err(c.fail(
                        &[key("lattice"), key("cortical"), key("faces")],
                        "[]",
                        "name at least one face",
                    ));
                }
            }
            vessels
        }
        LatticeSpec::File {
            raw,
            segmentation,
            roi,
            vessels,
            ..
        } => {
            if let Some(r) = raw {
                for (a, &n) in r.size.iter().enumerate() {
                    if n == 0 {
                        return Err(c.fail(
                            &[key("lattice"), key("raw"), key("size"), Seg::Index(a)],
                            n,
                            "must be > 0",
                        ));
                    }
                }
                for &s in &r.spacing_um {
                    c.positive(&[key("lattice"), key("raw"), key("spacing_um")], s)?;
                }
            }
            if let crate::lattice::import::Segmentation::Calibrated { marrow, bone } = segmentation
            {
                let path = vec![key("lattice"), key("segmentation"), key("bone")];
                c.finite(&path, *bone)?;
                c.finite(&path, *marrow)?;
                if bone == marrow {
                    return Err(c.fail(&path, bone, "must differ from the marrow value"));
                }
            }
            if let Some(r) = roi {
                for v in r.origin_um {
                    c.non_negative(&[key("lattice"), key("roi"), key("origin_um")], v)?;
                }
                for v in r.size_um {
                    c.positive(&[key("lattice"), key("roi"), key("size_um")], v)?;
                }
            }
            vessels
        }
    };
    if let Some(v) = vessels {
        c.within(
            &[key("lattice"), key("vessels"), key("density")],
            v.density,
            1e-4,
            0.5,
            "must be within 0.0001..=0.5",
        )?;
        c.positive(
            &[key("lattice"), key("vessels"), key("calibre_um")],
            v.calibre_um,
        )?;
    }
    Ok(())
}

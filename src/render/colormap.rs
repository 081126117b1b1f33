//! Perceptual colour maps, one table for the shader and the legend: each map is nine sRGB
//! samples at 0, 1/8, ..., 1, linearly interpolated.
//!
//! Samples of matplotlib's viridis, magma and inferno (van der Walt & Smith, "A better
//! default colormap for Matplotlib", SciPy 2015) and cividis (Nuñez, Anderton & Renslow,
//! PLoS ONE 13:e0199239, 2018), read at nine evenly spaced points.

/// A colour map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Colormap {
    /// Perceptually uniform blue-green-yellow.
    #[default]
    Viridis,
    /// Black-purple-orange-cream.
    Magma,
    /// Black-purple-orange-yellow.
    Inferno,
    /// Blue-grey-yellow, safe for colour-vision deficiency.
    Cividis,
}

impl Colormap {
    /// Every map, in menu order.
    pub const ALL: [Colormap; 4] = [
        Colormap::Viridis,
        Colormap::Magma,
        Colormap::Inferno,
        Colormap::Cividis,
    ];

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Colormap::Viridis => "viridis",
            Colormap::Magma => "magma",
            Colormap::Inferno => "inferno",
            Colormap::Cividis => "cividis",
        }
    }

    /// The map of that name.
    pub fn from_name(name: &str) -> Option<Colormap> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The nine samples, 0xRRGGBB.
    pub fn samples(self) -> [u32; 9] {
        match self {
            Colormap::Viridis => [
                0x440154, 0x472c7a, 0x3b528b, 0x2c728e, 0x21918c, 0x27ad81, 0x5cc863, 0xaadc32,
                0xfde725,
            ],
            Colormap::Magma => [
                0x000004, 0x1c1044, 0x4f127b, 0x812581, 0xb5367a, 0xe55064, 0xfb8761, 0xfec287,
                0xfcfdbf,
            ],
            Colormap::Inferno => [
                0x000004, 0x1f0c48, 0x550f6d, 0x88226a, 0xba3655, 0xe35933, 0xf98e09, 0xf9cb35,
                0xfcffa4,
            ],
            Colormap::Cividis => [
                0x00224e, 0x123570, 0x3b496c, 0x575d6d, 0x707173, 0x8a8678, 0xa59c74, 0xc3b369,
                0xfee838,
            ],
        }
    }

    /// The samples as linear-light RGBA for the shader (the render target is sRGB).
    pub fn linear_samples(self) -> [[f32; 4]; 9] {
        self.samples().map(|c| {
            let ch = |s: u32| srgb_to_linear(((c >> s) & 0xff) as f32 / 255.0);
            [ch(16), ch(8), ch(0), 1.0]
        })
    }

    /// sRGB colour at `t` in 0..1 (clamped).
    pub fn at(self, t: f32) -> [u8; 3] {
        let s = self.samples();
        let x = t.clamp(0.0, 1.0) * 8.0;
        let i = (x.floor() as usize).min(7);
        let f = x - i as f32;
        let ch = |c: u32, sh: u32| ((c >> sh) & 0xff) as f32;
        [16, 8, 0].map(|sh| (ch(s[i], sh) * (1.0 - f) + ch(s[i + 1], sh) * f).round() as u8)
    }
}

/// sRGB transfer function, inverted.
pub fn srgb_to_linear(c: f32) -> f32 {
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

/// How field values map to 0..1 before the colour map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transfer {
    /// Value at the bottom of the map.
    pub lo: f32,
    /// Value at the top.
    pub hi: f32,
    /// Map log10 of the value (values at or below zero go to the bottom).
    pub log: bool,
}

impl Transfer {
    /// `v` mapped to 0..1.
    pub fn apply(&self, v: f32) -> f32 {
        let (v, lo, hi) = if self.log {
            let l = |x: f32| x.max(1e-30).log10();
            (l(v), l(self.lo), l(self.hi))
        } else {
            (v, self.lo, self.hi)
        };
        if hi > lo && v.is_finite() {
            ((v - lo) / (hi - lo)).clamp(0.0, 1.0)
        } else {
            0.0
        }
    }

    /// The automatic range of `data`: finite minimum and maximum (for log, of the positive
    /// values, at most twelve decades below the maximum).
    pub fn auto(data: &[f32], log: bool) -> Transfer {
        let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
        for &v in data.iter().filter(|v| v.is_finite() && (!log || **v > 0.0)) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if !(lo.is_finite() && hi.is_finite()) {
            (lo, hi) = (0.0, 1.0);
        }
        if log {
            lo = lo.max(hi * 1e-12);
        }
        if hi <= lo {
            hi = lo + if log { lo.abs().max(1e-30) * 9.0 } else { 1.0 };
        }
        Transfer { lo, hi, log }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_interpolate_their_samples_and_transfer_clamps() {
        assert_eq!(Colormap::Viridis.at(0.0), [0x44, 0x01, 0x54]);
        assert_eq!(Colormap::Viridis.at(1.0), [0xfd, 0xe7, 0x25]);
        assert_eq!(Colormap::Magma.at(0.5), [0xb5, 0x36, 0x7a]);
        assert_eq!(Colormap::from_name("cividis"), Some(Colormap::Cividis));
        let t = Transfer {
            lo: 1.0,
            hi: 100.0,
            log: true,
        };
        assert!((t.apply(10.0) - 0.5).abs() < 1e-6);
        assert_eq!(t.apply(0.0), 0.0);
        assert_eq!(t.apply(1e6), 1.0);
        let a = Transfer::auto(&[0.0, 2.0, f32::NAN, 5.0], false);
        assert_eq!((a.lo, a.hi), (0.0, 5.0));
        let a = Transfer::auto(&[0.0, 1e-3, 10.0], true);
        assert_eq!((a.lo, a.hi), (1e-3, 10.0));
    }
}

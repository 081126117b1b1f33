//! The report's PNGs: each plot's own SVG rasterised by resvg (usvg's text layout with
//! the embedded DejaVu Sans, so µ, ³, lower case and every legend name render as the SVG
//! has them), encoded by the `png` crate. One drawing path per figure: the SVG; the PNG is
//! a picture of it. Viewer screenshots go through the same encoder.

use std::sync::{Arc, OnceLock};

use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg;

use crate::error::{Error, Result};

/// DejaVu Sans (Bitstream Vera licence, `assets/fonts/DejaVuSans-LICENSE.txt`): the font of
/// every PNG, whatever fonts the machine has.
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// Its family name, which the SVG's generic `sans-serif` resolves to.
const FAMILY: &str = "DejaVu Sans";

/// The embedded font, parsed once per process and shared by every plot.
fn fonts() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_font_data(FONT.to_vec());
            db.set_sans_serif_family(FAMILY);
            Arc::new(db)
        })
        .clone()
}

/// `svg` (a complete document) as a PNG of its own size.
pub fn svg_to_png(svg: &str) -> Result<Vec<u8>> {
    let options = usvg::Options {
        font_family: FAMILY.into(),
        fontdb: fonts(),
        ..Default::default()
    };
    let tree = usvg::Tree::from_str(svg, &options)
        .map_err(|e| Error::Invalid(format!("plot SVG does not parse: {e}")))?;
    let size = tree.size().to_int_size();
    let mut pixmap = Pixmap::new(size.width(), size.height())
        .ok_or_else(|| Error::Invalid(format!("plot SVG has no area ({size:?})")))?;
    resvg::render(&tree, Transform::default(), &mut pixmap.as_mut());
    let rgba: Vec<u8> = pixmap
        .pixels()
        .iter()
        .flat_map(|p| {
            let c = p.demultiply();
            [c.red(), c.green(), c.blue(), c.alpha()]
        })
        .collect();
    Ok(encode(
        size.width(),
        size.height(),
        png::ColorType::Rgba,
        &rgba,
    ))
}

/// An 8-bit RGB image (`w * h * 3` bytes, rows top to bottom) as a PNG file.
pub fn encode_png(w: usize, h: usize, rgb: &[u8]) -> Vec<u8> {
    assert_eq!(rgb.len(), w * h * 3, "RGB bytes of a {w}x{h} image");
    encode(w as u32, h as u32, png::ColorType::Rgb, rgb)
}

fn encode(w: u32, h: u32, colour: png::ColorType, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(colour);
        encoder.set_depth(png::BitDepth::Eight);
        // Writing into memory cannot fail but for a size mismatch, checked by the callers.
        let mut writer = encoder.write_header().expect("PNG header into memory");
        writer
            .write_image_data(bytes)
            .expect("PNG data of the stated size into memory");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    /// Dark pixels of an RGBA image inside a box.
    fn ink(rgba: &[u8], w: u32, (x0, y0, x1, y1): (u32, u32, u32, u32)) -> usize {
        let mut n = 0;
        for y in y0..y1 {
            for x in x0..x1 {
                let p = &rgba[4 * (y * w + x) as usize..][..3];
                n += usize::from(p.iter().all(|&c| c < 128));
            }
        }
        n
    }

    /// Text renders from the embedded font: a lower-case, µ and ³ label puts ink where the
    /// SVG places it and nowhere else, and a different string gives different pixels.
    #[test]
    fn text_renders_with_the_embedded_font() {
        let doc = |label: &str| {
            format!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="60" font-family="sans-serif"><rect width="200" height="60" fill="white"/><text x="10" y="40" font-size="20" fill="black">{label}</text></svg>"#
            )
        };
        let (w, h, a) = decode(&svg_to_png(&doc("tumour (mm³) µm")).unwrap());
        assert_eq!((w, h), (200, 60));
        assert!(ink(&a, w, (10, 20, 190, 45)) > 150, "the label is drawn");
        assert_eq!(ink(&a, w, (0, 0, 200, 15)), 0, "nothing above it");
        let (_, _, b) = decode(&svg_to_png(&doc("tumour (mm3) um")).unwrap());
        assert_ne!(a, b, "³ and µ are glyphs of their own");
        assert!(svg_to_png("<svg").is_err());
    }

    /// RGB screenshots round-trip.
    #[test]
    fn rgb_round_trips() {
        let rgb: Vec<u8> = (0..4 * 3 * 3).map(|i| (i * 7) as u8).collect();
        let (w, h, back) = decode(&encode_png(4, 3, &rgb));
        assert_eq!((w, h), (4, 3));
        assert_eq!(back, rgb);
    }
}

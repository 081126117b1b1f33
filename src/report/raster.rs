//! A small RGB raster for PNG plots: anti-aliased lines, filled rectangles, text in a 5x7
//! bitmap font (upper case; lower case is drawn as upper case), and a PNG encoder
//! (zlib via flate2).

use std::io::Write;

use super::plot::{Anchor, Canvas, Rgb};

/// An RGB image, row-major, floating point while drawing.
pub struct Raster {
    w: usize,
    h: usize,
    px: Vec<[f32; 3]>,
}

impl Raster {
    /// A black image of `w x h` pixels.
    pub fn new(w: usize, h: usize) -> Raster {
        Raster {
            w,
            h,
            px: vec![[0.0; 3]; w * h],
        }
    }

    /// Pixel (x, y) as 8-bit RGB.
    pub fn pixel(&self, x: usize, y: usize) -> Rgb {
        self.px[y * self.w + x].map(|c| c.round().clamp(0.0, 255.0) as u8)
    }

    fn blend(&mut self, x: i64, y: i64, c: Rgb, a: f32) {
        if x < 0 || y < 0 || x >= self.w as i64 || y >= self.h as i64 || a <= 0.0 {
            return;
        }
        let p = &mut self.px[y as usize * self.w + x as usize];
        for k in 0..3 {
            p[k] += (c[k] as f32 - p[k]) * a.min(1.0);
        }
    }

    /// The image as a PNG file (8-bit RGB, no filtering).
    pub fn png(&self) -> Vec<u8> {
        let rgb: Vec<u8> = (0..self.w * self.h)
            .flat_map(|i| self.pixel(i % self.w, i / self.w))
            .collect();
        encode_png(self.w, self.h, &rgb)
    }

    fn segment(&mut self, (x0, y0): (f64, f64), (x1, y1): (f64, f64), c: Rgb, width: f64) {
        let r = width / 2.0 + 1.0;
        let (lx, hx) = (x0.min(x1) - r, x0.max(x1) + r);
        let (ly, hy) = (y0.min(y1) - r, y0.max(y1) + r);
        let (dx, dy) = (x1 - x0, y1 - y0);
        let len2 = dx * dx + dy * dy;
        for y in ly.floor() as i64..=hy.ceil() as i64 {
            for x in lx.floor() as i64..=hx.ceil() as i64 {
                let (cx, cy) = (x as f64 + 0.5, y as f64 + 0.5);
                let t = if len2 > 0.0 {
                    (((cx - x0) * dx + (cy - y0) * dy) / len2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let d = ((cx - x0 - t * dx).powi(2) + (cy - y0 - t * dy).powi(2)).sqrt();
                let cover = (width / 2.0 + 0.5 - d).clamp(0.0, 1.0);
                self.blend(x, y, c, cover as f32);
            }
        }
    }
}

/// A PNG file of `w x h` 8-bit RGB pixels (rows top to bottom, no filtering).
pub fn encode_png(w: usize, h: usize, rgb: &[u8]) -> Vec<u8> {
    assert_eq!(rgb.len(), 3 * w * h, "RGB data of the image's size");
    let mut raw = Vec::with_capacity(h * (3 * w + 1));
    for row in rgb.chunks_exact(3 * w) {
        raw.push(0); // filter: none
        raw.extend_from_slice(row);
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&raw).expect("compressing into memory");
    let idat = z.finish().expect("compressing into memory");
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&(w as u32).to_be_bytes());
    ihdr.extend_from_slice(&(h as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8 bits, RGB, deflate, no filter, no interlace
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [
        (b"IHDR", &ihdr[..]),
        (b"IDAT", &idat[..]),
        (b"IEND", &[][..]),
    ] {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    out
}

impl Canvas for Raster {
    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: Rgb) {
        for py in y.round() as i64..(y + h).round() as i64 {
            for px in x.round() as i64..(x + w).round() as i64 {
                self.blend(px, py, fill, 1.0);
            }
        }
    }

    fn polyline(&mut self, pts: &[(f64, f64)], stroke: Rgb, width: f64) {
        if pts.len() == 1 {
            self.segment(pts[0], pts[0], stroke, width);
        }
        for w in pts.windows(2) {
            self.segment(w[0], w[1], stroke, width);
        }
    }

    fn text(&mut self, x: f64, y: f64, s: &str, size: f64, anchor: Anchor, color: Rgb) {
        let scale = (size / 8.0).round().max(1.0) as i64;
        let advance = 6 * scale;
        let width = advance * s.chars().count() as i64 - scale;
        let left = match anchor {
            Anchor::Start => x.round() as i64,
            Anchor::Middle => x.round() as i64 - width / 2,
            Anchor::End => x.round() as i64 - width,
        };
        let top = y.round() as i64 - 7 * scale;
        for (i, ch) in s.chars().enumerate() {
            let rows = glyph(ch);
            let gx = left + i as i64 * advance;
            for (r, bits) in rows.iter().enumerate() {
                for col in 0..5 {
                    if bits & (0x10 >> col) != 0 {
                        for sy in 0..scale {
                            for sx in 0..scale {
                                let px = gx + col * scale + sx;
                                let py = top + r as i64 * scale + sy;
                                self.blend(px, py, color, 1.0);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Rows of a 5x7 glyph, bit 4 leftmost; lower case as upper case, a few symbols mapped to
/// their nearest, anything else as '?'.
fn glyph(c: char) -> [u8; 7] {
    let c = match c {
        'µ' => 'U',
        '³' => '3',
        '²' => '2',
        '·' => '.',
        'β' => 'B',
        c => c.to_ascii_uppercase(),
    };
    match c {
        ' ' => [0; 7],
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        'A' => [0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11],
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'N' => [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        'O' => [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'Q' => [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'U' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'V' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        'Y' => [0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04],
        'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        ',' => [0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08],
        '-' => [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        '+' => [0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00],
        '%' => [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03],
        '(' => [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
        ')' => [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08],
        '/' => [0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00],
        ':' => [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00],
        '=' => [0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00],
        '^' => [0x04, 0x0A, 0x11, 0x00, 0x00, 0x00, 0x00],
        '_' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F],
        '*' => [0x00, 0x04, 0x15, 0x0E, 0x15, 0x04, 0x00],
        '<' => [0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02],
        '>' => [0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08],
        '[' => [0x0E, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0E],
        ']' => [0x0E, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0E],
        '#' => [0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A],
        '\'' => [0x04, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00],
        '|' => [0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        _ => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_has_valid_chunks_and_crc() {
        let mut r = Raster::new(7, 5);
        r.rect(0.0, 0.0, 7.0, 5.0, [255, 0, 0]);
        let png = r.png();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        // Walk the chunks, checking each CRC.
        let mut at = 8;
        let mut kinds = Vec::new();
        while at < png.len() {
            let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
            let body = &png[at + 4..at + 8 + len];
            let mut crc = flate2::Crc::new();
            crc.update(body);
            let stored = u32::from_be_bytes(png[at + 8 + len..at + 12 + len].try_into().unwrap());
            assert_eq!(crc.sum(), stored);
            kinds.push(String::from_utf8_lossy(&body[..4]).to_string());
            at += 12 + len;
        }
        assert_eq!(kinds, ["IHDR", "IDAT", "IEND"]);
        // The image data inflates to 5 rows of filter byte + 7 red pixels.
        let idat_len = u32::from_be_bytes(png[33..37].try_into().unwrap()) as usize;
        let mut raw = Vec::new();
        use std::io::Read;
        flate2::read::ZlibDecoder::new(&png[41..41 + idat_len])
            .read_to_end(&mut raw)
            .unwrap();
        assert_eq!(raw.len(), 5 * (1 + 21));
        assert_eq!(&raw[1..4], &[255, 0, 0]);
    }

    #[test]
    fn lines_and_text_mark_pixels() {
        let mut r = Raster::new(40, 20);
        r.rect(0.0, 0.0, 40.0, 20.0, [255, 255, 255]);
        r.polyline(&[(2.0, 10.5), (38.0, 10.5)], [0, 0, 0], 1.0);
        assert_eq!(r.pixel(20, 10), [0, 0, 0]);
        assert_eq!(r.pixel(20, 3), [255, 255, 255]);
        r.text(1.0, 8.0, "1", 8.0, Anchor::Start, [0, 0, 255]);
        // '1' has its stem in column 2 on every row but the last.
        assert_eq!(r.pixel(3, 3), [0, 0, 255]);
    }
}

//! Greyscale renderings (`pdftoppm -gray`, binary PGM) of a test page, read back by point.

/// A rendered page: `scale` pixels per point, `page` points high.
pub(crate) struct Grey {
    pub(crate) width: usize,
    pub(crate) height: usize,
    pub(crate) pixels: Vec<u8>,
    page: f64,
    scale: f64,
}

impl Grey {
    /// The pixel under the PDF point (x, y) (origin bottom-left, y up); a point off the page
    /// reads the nearest edge pixel.
    pub(crate) fn at(&self, x: f64, y: f64) -> u8 {
        let (col, row) = (
            (x * self.scale) as usize,
            ((self.page - y) * self.scale) as usize,
        );
        self.pixels[row.min(self.height - 1) * self.width + col.min(self.width - 1)]
    }
}

/// Parse a binary PGM (P5, maxval < 256): magic, width, height, maxval, one whitespace,
/// pixels; a page `page` points high rendered at `scale` pixels per point.
pub(crate) fn parse(data: &[u8], page: f64, scale: f64) -> Grey {
    let mut pos = 0;
    let mut fields = Vec::new();
    while fields.len() < 4 {
        match data[pos] {
            b'#' => {
                while data[pos] != b'\n' {
                    pos += 1;
                }
            }
            c if c.is_ascii_whitespace() => pos += 1,
            _ => {
                let start = pos;
                while !data[pos].is_ascii_whitespace() {
                    pos += 1;
                }
                fields.push(std::str::from_utf8(&data[start..pos]).expect("ASCII header"));
            }
        }
    }
    assert_eq!(fields[0], "P5", "not a binary PGM");
    let width: usize = fields[1].parse().expect("width");
    let height: usize = fields[2].parse().expect("height");
    assert!(
        fields[3].parse::<u32>().expect("maxval") < 256,
        "16-bit PGM"
    );
    let pixels = data[pos + 1..].to_vec();
    assert_eq!(pixels.len(), width * height, "PGM size");
    Grey {
        width,
        height,
        pixels,
        page,
        scale,
    }
}

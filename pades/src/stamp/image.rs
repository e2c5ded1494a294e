//! The stamp's specimen image or logo: PNG or JPEG in, an image XObject out (ISO 32000-1
//! §8.9.5), opaque, as PDF/A requires.
//!
//! - PNG is decoded (palette expanded, 16-bit samples cut to 8, transparency composited onto
//!   white: no soft mask) and written Flate-compressed as DeviceGray or DeviceRGB.
//! - JPEG is passed through as `/DCTDecode` after its header is read by hand: a baseline,
//!   extended or progressive frame (SOF0/1/2) of 8-bit samples with 1 (gray) or 3 (colour)
//!   components. CMYK (4 components), lossless and arithmetic-coded JPEG are refused.
//!
//! Limits, checked before any pixel is decoded: at most [`MAX_INPUT`] bytes of input and
//! [`MAX_SIDE`] pixels a side; the PNG decoder's allocations are capped as well.

use std::collections::VecDeque;
use std::io::Cursor;
use std::sync::{Arc, Mutex, PoisonError};

use pdf_writer::{Chunk, Filter, Name};

use super::font::deflate;
use super::pdfobj::{body_of, pdf_ref};
use super::StampError;
use crate::pdf::object::ObjRef;

/// Most bytes of image input.
pub(crate) const MAX_INPUT: usize = 1024 * 1024;
/// Most pixels on either side.
pub(crate) const MAX_SIDE: u32 = 2048;
/// Most bytes the PNG decoder may allocate: a full-size RGBA image and its working rows.
const PNG_MEMORY: usize = (MAX_SIDE as usize) * (MAX_SIDE as usize) * 8 + 4 * 1024 * 1024;

/// Most images [`Image::read_kept`] keeps.
const KEPT_IMAGES: usize = 4;
/// Largest encoded image [`Image::read_kept`] keeps, in bytes.
const KEPT_MAX: usize = 2 * 1024 * 1024;

/// A checked image, ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Image {
    /// Width in pixels.
    pub(crate) width: u32,
    /// Height in pixels.
    pub(crate) height: u32,
    /// Colour components: 1 (DeviceGray) or 3 (DeviceRGB).
    components: u8,
    /// The encoded samples.
    data: Vec<u8>,
    /// How `data` is encoded.
    filter: Filter,
}

impl Image {
    /// Reads a PNG or JPEG (told apart by their signatures).
    ///
    /// # Errors
    /// [`StampError::Image`] saying what is wrong: neither format, too large, corrupt,
    /// truncated, or an unsupported kind (CMYK, lossless or arithmetic JPEG).
    pub(crate) fn read(bytes: &[u8]) -> Result<Image, StampError> {
        if bytes.len() > MAX_INPUT {
            return Err(bad(format!(
                "{} bytes; at most {MAX_INPUT} (1 MiB)",
                bytes.len()
            )));
        }
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            read_png(bytes)
        } else if bytes.starts_with(&[0xFF, 0xD8]) {
            read_jpeg(bytes)
        } else {
            Err(bad("neither PNG nor JPEG".into()))
        }
    }

    /// [`Image::read`], keeping the last [`KEPT_IMAGES`] results: an agency's logo is the same
    /// bytes on every request, and decoding and compressing it costs more than the rest of the
    /// stamp. Only images whose encoded samples take at most [`KEPT_MAX`] bytes are kept.
    ///
    /// # Errors
    /// As [`Image::read`].
    pub(crate) fn read_kept(bytes: &[u8]) -> Result<Arc<Image>, StampError> {
        type Kept = VecDeque<(Vec<u8>, Arc<Image>)>;
        static KEPT: Mutex<Kept> = Mutex::new(VecDeque::new());
        let lock = || KEPT.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, img)) = lock().iter().find(|(b, _)| b.as_slice() == bytes) {
            return Ok(Arc::clone(img));
        }
        let img = Arc::new(Image::read(bytes)?);
        if img.data.len() <= KEPT_MAX {
            let mut kept = lock();
            if kept.len() >= KEPT_IMAGES {
                kept.pop_front();
            }
            kept.push_back((bytes.to_vec(), Arc::clone(&img)));
        }
        Ok(img)
    }

    /// Writes the image XObject as object `r`.
    pub(crate) fn object(&self, r: ObjRef) -> Vec<u8> {
        let mut c = Chunk::new();
        let mut x = c.image_xobject(pdf_ref(r), &self.data);
        x.filter(self.filter);
        x.width(i32::try_from(self.width).unwrap_or(1));
        x.height(i32::try_from(self.height).unwrap_or(1));
        x.pair(
            Name(b"ColorSpace"),
            Name(if self.components == 1 {
                b"DeviceGray"
            } else {
                b"DeviceRGB"
            }),
        );
        x.bits_per_component(8);
        drop(x);
        body_of(&c, r)
    }
}

fn bad(why: String) -> StampError {
    StampError::Image(why)
}

fn check_size(width: u32, height: u32) -> Result<(), StampError> {
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(bad(format!(
            "{width} x {height} pixels; 1 to {MAX_SIDE} pixels a side"
        )));
    }
    Ok(())
}

fn read_png(bytes: &[u8]) -> Result<Image, StampError> {
    let mut decoder =
        png::Decoder::new_with_limits(Cursor::new(bytes), png::Limits { bytes: PNG_MEMORY });
    let (w, h) = {
        let info = decoder
            .read_header_info()
            .map_err(|e| bad(format!("PNG header: {e}")))?;
        (info.width, info.height)
    };
    check_size(w, h)?;
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|e| bad(format!("PNG: {e}")))?;
    let size = reader
        .output_buffer_size()
        .filter(|&n| n <= PNG_MEMORY)
        .ok_or_else(|| bad("PNG: the decoded image would be too large".into()))?;
    let mut buf = vec![0; size];
    let frame = reader
        .next_frame(&mut buf)
        .map_err(|e| bad(format!("PNG data: {e}")))?;
    let pixels = buf.get(..frame.buffer_size()).unwrap_or(&[]);
    let line = frame.line_size;
    let (width, height) = (frame.width, frame.height);
    let (components, samples) = match frame.color_type {
        png::ColorType::Grayscale => (1, rows(pixels, line, width, 1, 1)),
        png::ColorType::Rgb => (3, rows(pixels, line, width, 3, 3)),
        png::ColorType::GrayscaleAlpha => (1, rows(pixels, line, width, 2, 1)),
        png::ColorType::Rgba => (3, rows(pixels, line, width, 4, 3)),
        png::ColorType::Indexed => {
            return Err(bad("PNG: palette image was not expanded".into()));
        }
    };
    let expected = width as usize * height as usize * usize::from(components);
    if samples.len() != expected {
        return Err(bad("PNG: the decoded image has the wrong size".into()));
    }
    Ok(Image {
        width,
        height,
        components,
        data: deflate(&samples),
        filter: Filter::FlateDecode,
    })
}

/// The samples of rows of `line` bytes holding `width` pixels of `channels` 8-bit samples,
/// as `out` channels: with an alpha channel (the last one), each colour is composited onto
/// white.
fn rows(pixels: &[u8], line: usize, width: u32, channels: usize, out: usize) -> Vec<u8> {
    let used = width as usize * channels;
    let mut samples = Vec::with_capacity(pixels.len() / channels.max(1) * out);
    for row in pixels.chunks(line.max(1)) {
        let row = row.get(..used).unwrap_or(row);
        for px in row.chunks_exact(channels) {
            if channels == out {
                samples.extend_from_slice(px);
            } else {
                let alpha = u16::from(px[channels - 1]);
                for &c in &px[..out] {
                    // c·a + 255·(1 − a), in 8-bit fixed point, rounded.
                    let v = (u16::from(c) * alpha + 255 * (255 - alpha) + 127) / 255;
                    samples.push(v.min(255) as u8);
                }
            }
        }
    }
    samples
}

/// Reads a JPEG's frame header: markers from SOI up to the first SOF, which must be SOF0, SOF1
/// or SOF2; the file must end with EOI.
fn read_jpeg(bytes: &[u8]) -> Result<Image, StampError> {
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    if end < 4 || bytes.get(end - 2..end) != Some(&[0xFF, 0xD9]) {
        return Err(bad("JPEG: truncated (no end-of-image marker)".into()));
    }
    let mut pos = 2;
    loop {
        // Fill bytes (0xFF) may precede a marker.
        while bytes.get(pos) == Some(&0xFF) && bytes.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (bytes.get(pos), bytes.get(pos + 1)) else {
            return Err(bad(format!("JPEG: no marker at byte {pos}")));
        };
        pos += 2;
        match marker {
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => continue,
            0xD8..=0xDA => return Err(bad("JPEG: no frame header before the image data".into())),
            _ => {}
        }
        let len = match bytes.get(pos..pos + 2) {
            Some(&[a, b]) => usize::from(u16::from_be_bytes([a, b])),
            _ => return Err(bad("JPEG: truncated header".into())),
        };
        if len < 2 {
            return Err(bad(format!("JPEG: bad segment length at byte {pos}")));
        }
        let segment = bytes
            .get(pos + 2..pos + len)
            .ok_or_else(|| bad("JPEG: truncated header".into()))?;
        match marker {
            0xC0..=0xC2 => return jpeg_frame(segment, bytes),
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                return Err(bad(format!(
                    "JPEG: frame type SOF{} (lossless, hierarchical or arithmetic coding) is \
                     not supported; use a baseline or progressive JPEG",
                    marker - 0xC0
                )))
            }
            _ => pos += len,
        }
    }
}

/// A frame header's segment: precision, height, width, components.
fn jpeg_frame(segment: &[u8], bytes: &[u8]) -> Result<Image, StampError> {
    let &[precision, h1, h0, w1, w0, components, ..] = segment else {
        return Err(bad("JPEG: truncated frame header".into()));
    };
    if precision != 8 {
        return Err(bad(format!(
            "JPEG: {precision}-bit samples; only 8-bit JPEG is supported"
        )));
    }
    let (height, width) = (
        u32::from(u16::from_be_bytes([h1, h0])),
        u32::from(u16::from_be_bytes([w1, w0])),
    );
    check_size(width, height)?;
    if segment.len() < 6 + 3 * usize::from(components) {
        return Err(bad("JPEG: truncated frame header".into()));
    }
    match components {
        1 | 3 => Ok(Image {
            width,
            height,
            components,
            data: bytes.to_vec(),
            filter: Filter::DctDecode,
        }),
        4 => Err(bad(
            "JPEG: CMYK (4 components) is not supported; save the image as RGB".into(),
        )),
        n => Err(bad(format!(
            "JPEG: {n} colour components; only gray (1) or RGB (3)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal JPEG header: SOI, SOF`kind` with the given size and components, EOI.
    fn jpeg(kind: u8, width: u16, height: u16, components: u8) -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC0 + kind];
        let len = 8 + 3 * u16::from(components);
        v.extend_from_slice(&len.to_be_bytes());
        v.push(8);
        v.extend_from_slice(&height.to_be_bytes());
        v.extend_from_slice(&width.to_be_bytes());
        v.push(components);
        for i in 0..components {
            v.extend_from_slice(&[i + 1, 0x11, 0]);
        }
        v.extend_from_slice(&[0xFF, 0xD9]);
        v
    }

    #[test]
    fn a_jpeg_header_is_read_by_hand() {
        let img = Image::read(&jpeg(0, 640, 480, 3)).expect("RGB baseline");
        assert_eq!((img.width, img.height, img.components), (640, 480, 3));
        assert_eq!(img.filter, Filter::DctDecode);
        assert!(Image::read(&jpeg(2, 10, 10, 1)).is_ok());
    }

    #[test]
    fn unsupported_or_broken_jpegs_are_refused() {
        let e = |b: &[u8]| Image::read(b).expect_err("refused").to_string();
        assert!(e(&jpeg(0, 10, 10, 4)).contains("CMYK"));
        assert!(e(&jpeg(3, 10, 10, 3)).contains("SOF3"));
        assert!(e(&jpeg(0, 10, 0, 3)).contains("pixels"));
        assert!(e(&jpeg(0, 5000, 10, 3)).contains("pixels"));
        let whole = jpeg(0, 10, 10, 3);
        for cut in 0..whole.len() - 1 {
            assert!(Image::read(&whole[..cut]).is_err(), "cut at {cut}");
        }
        // A segment length pointing past the end.
        let mut lying = whole.clone();
        lying[4] = 0xFF;
        assert!(Image::read(&lying).is_err());
    }

    #[test]
    fn transparency_is_composited_onto_white() {
        // Gray + alpha: black fully transparent -> white; black opaque -> black; half -> mid.
        let px = [0, 0, 0, 255, 0, 128];
        assert_eq!(rows(&px, 6, 3, 2, 1), vec![255, 0, 127]);
        // Row padding beyond `width` pixels is dropped.
        assert_eq!(
            rows(&[1, 2, 3, 9, 4, 5, 6, 9], 4, 1, 3, 3),
            vec![1, 2, 3, 4, 5, 6]
        );
    }

    #[test]
    fn a_kept_image_is_the_one_that_would_be_read() {
        let bytes = jpeg(1, 33, 17, 3);
        let first = Image::read_kept(&bytes).expect("read");
        let again = Image::read_kept(&bytes).expect("read");
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(*first, Image::read(&bytes).expect("read"));
        let other = Image::read_kept(&jpeg(1, 34, 17, 3)).expect("read");
        assert_eq!(other.width, 34);
        assert!(Image::read_kept(&jpeg(0, 10, 10, 4)).is_err());
    }

    #[test]
    fn too_large_or_unknown_input_is_refused() {
        assert!(Image::read(&vec![0; MAX_INPUT + 1]).is_err());
        assert!(Image::read(b"GIF89a").is_err());
        assert!(Image::read(b"").is_err());
    }
}

//! What poppler's tools see in a PDF, as an oracle independent of the engine: a page rendered
//! by `pdftoppm` with the QR codes on it decoded by `rqrr` (with their corners in pixels), the
//! word boxes of `pdftotext -bbox`, the text of a page, and the rows of `pdffonts`.
//!
//! Every position is on the page **as the reader sees it**: the crop box, with `/Rotate`
//! applied, measured from its top-left corner (poppler's `-cropbox` view). Word boxes are in
//! points; a rendering's pixels are `points × dpi / 72`.
//!
//! Each function returns `Ok(None)` when its tool is not installed (after [`crate::tool`] has
//! said so, or panicked when `SEGEL_REQUIRE_TOOLS=1`).

use std::path::Path;
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};

use crate::{run, tool};

/// A page rendered in 8-bit grey, row by row from the top-left pixel.
#[derive(Debug, Clone)]
pub struct Raster {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Resolution of the rendering, pixels per inch.
    pub dpi: f64,
    /// `width × height` grey values, 0 black to 255 white.
    pub pixels: Vec<u8>,
}

impl Raster {
    /// Pixels per point.
    pub fn scale(&self) -> f64 {
        self.dpi / 72.0
    }

    /// The grey value at pixel (`x`, `y`), or `None` outside the image.
    pub fn at(&self, x: usize, y: usize) -> Option<u8> {
        (x < self.width && y < self.height)
            .then(|| self.pixels.get(y * self.width + x).copied())
            .flatten()
    }

    /// The pixels (x, y) whose centres lie in `b` (a box in points), clipped to the image.
    pub fn pixels_in(&self, b: &BoxPt) -> Vec<(usize, usize)> {
        let s = self.scale();
        let range = |lo: f64, hi: f64, n: usize| {
            let first = (lo * s - 0.5).ceil().max(0.0);
            let last = (hi * s - 0.5).floor().min(n as f64 - 1.0);
            (first.is_finite() && last.is_finite() && first <= last)
                .then_some((first as usize, last as usize))
        };
        let (Some((x0, x1)), Some((y0, y1))) = (
            range(b.x_min, b.x_max, self.width),
            range(b.y_min, b.y_max, self.height),
        ) else {
            return Vec::new();
        };
        (y0..=y1)
            .flat_map(|y| (x0..=x1).map(move |x| (x, y)))
            .collect()
    }
}

/// A box in points on the page as seen, `y` growing downwards.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxPt {
    /// Left edge.
    pub x_min: f64,
    /// Top edge.
    pub y_min: f64,
    /// Right edge.
    pub x_max: f64,
    /// Bottom edge.
    pub y_max: f64,
}

impl BoxPt {
    /// Width in points.
    pub fn width(&self) -> f64 {
        self.x_max - self.x_min
    }

    /// Height in points.
    pub fn height(&self) -> f64 {
        self.y_max - self.y_min
    }

    /// The centre.
    pub fn centre(&self) -> (f64, f64) {
        (
            (self.x_min + self.x_max) / 2.0,
            (self.y_min + self.y_max) / 2.0,
        )
    }

    /// The smallest box holding both.
    pub fn union(&self, o: &BoxPt) -> BoxPt {
        BoxPt {
            x_min: self.x_min.min(o.x_min),
            y_min: self.y_min.min(o.y_min),
            x_max: self.x_max.max(o.x_max),
            y_max: self.y_max.max(o.y_max),
        }
    }

    /// Whether `o` lies inside this box grown by `slack` points on every side.
    pub fn contains(&self, o: &BoxPt, slack: f64) -> bool {
        o.x_min >= self.x_min - slack
            && o.y_min >= self.y_min - slack
            && o.x_max <= self.x_max + slack
            && o.y_max <= self.y_max + slack
    }
}

/// A QR code found on a rendering.
#[derive(Debug, Clone)]
pub struct QrFound {
    /// Its decoded text.
    pub text: String,
    /// Modules on a side (21 for version 1, 4 more per version).
    pub modules: usize,
    /// Its corners in pixels, in the code's own order: top-left, top-right, bottom-right,
    /// bottom-left (the finder patterns' corners). On a code that reads upright the first one
    /// is the top-left corner of the image's view.
    pub corners: [(f64, f64); 4],
}

impl QrFound {
    /// The box (in points) holding the four corners.
    pub fn box_pt(&self, raster: &Raster) -> BoxPt {
        let s = raster.scale();
        let xs = self.corners.map(|c| c.0 / s);
        let ys = self.corners.map(|c| c.1 / s);
        BoxPt {
            x_min: xs.iter().copied().fold(f64::INFINITY, f64::min),
            y_min: ys.iter().copied().fold(f64::INFINITY, f64::min),
            x_max: xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            y_max: ys.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }

    /// The code's width in points with its quiet zone of 4 modules on each side, measured
    /// along its top edge.
    pub fn width_with_quiet_zone_pt(&self, raster: &Raster) -> f64 {
        let [tl, tr, _, _] = self.corners;
        let side = (tr.0 - tl.0).hypot(tr.1 - tl.1) / raster.scale();
        side * (self.modules as f64 + 8.0) / self.modules as f64
    }

    /// Whether the code reads upright in the image: its own top-left corner is up and left,
    /// its top-right corner to the right of it, its bottom-left corner below it.
    pub fn upright(&self) -> bool {
        let [tl, tr, _, bl] = self.corners;
        let (w, h) = (tr.0 - tl.0, bl.1 - tl.1);
        w > 0.0 && h > 0.0 && (tr.1 - tl.1).abs() < w / 4.0 && (bl.0 - tl.0).abs() < h / 4.0
    }
}

/// Render page `page` (1-based) of `pdf` as seen (crop box, rotation applied) in grey at
/// `dpi`, with its annotations (the seal's widget) unless `hide_annotations`.
///
/// # Errors
/// pdftoppm failed, or its output is not the PGM it should be.
pub fn render(
    pdf: &Path,
    page: u32,
    dpi: u32,
    hide_annotations: bool,
    work: &Path,
) -> Result<Option<Raster>> {
    let Some(pdftoppm) = tool("pdftoppm") else {
        return Ok(None);
    };
    let stem = work.join(format!(
        "render-{}-{page}-{}",
        pdf.file_stem().and_then(|s| s.to_str()).unwrap_or("page"),
        if hide_annotations { "bare" } else { "full" }
    ));
    let mut cmd = Command::new(pdftoppm);
    cmd.args(["-gray", "-singlefile", "-cropbox", "-r", &dpi.to_string()])
        .args(["-f", &page.to_string(), "-l", &page.to_string()]);
    if hide_annotations {
        cmd.arg("-hide-annotations");
    }
    let o = run(cmd.arg(pdf).arg(&stem))?;
    ensure!(
        o.status.success(),
        "pdftoppm {} page {page}: {}",
        pdf.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    let file = stem.with_extension("pgm");
    let data = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    std::fs::remove_file(&file).ok();
    let (width, height, pixels) = parse_pgm(&data)?;
    Ok(Some(Raster {
        width,
        height,
        dpi: f64::from(dpi),
        pixels,
    }))
}

/// A binary PGM (`P5`, 8-bit): width, height, pixels.
fn parse_pgm(data: &[u8]) -> Result<(usize, usize, Vec<u8>)> {
    // Header: magic, width, height, maxval, separated by whitespace, then one whitespace byte.
    let mut fields = Vec::new();
    let mut pos = 0;
    while fields.len() < 4 {
        while data.get(pos).is_some_and(u8::is_ascii_whitespace) {
            pos += 1;
        }
        if data.get(pos) == Some(&b'#') {
            while data.get(pos).is_some_and(|&b| b != b'\n') {
                pos += 1;
            }
            continue;
        }
        let start = pos;
        while data.get(pos).is_some_and(|b| !b.is_ascii_whitespace()) {
            pos += 1;
        }
        ensure!(pos > start, "PGM header ends early");
        fields.push(std::str::from_utf8(&data[start..pos])?.to_string());
    }
    ensure!(fields[0] == "P5", "not a binary PGM: {}", fields[0]);
    let width: usize = fields[1].parse()?;
    let height: usize = fields[2].parse()?;
    let maxval: u32 = fields[3].parse()?;
    ensure!(maxval < 256, "16-bit PGM");
    let pixels = data.get(pos + 1..).context("PGM without pixels")?.to_vec();
    ensure!(
        Some(pixels.len()) == width.checked_mul(height),
        "PGM of {width}x{height} holds {} bytes",
        pixels.len()
    );
    Ok((width, height, pixels))
}

/// Every QR code on `raster` that decodes; a code that is seen but does not decode is an error.
///
/// # Errors
/// A detected code that `rqrr` cannot decode.
pub fn qr_codes(raster: &Raster) -> Result<Vec<QrFound>> {
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(raster.width, raster.height, |x, y| {
            raster.pixels[y * raster.width + x]
        });
    let mut found = Vec::new();
    for grid in prepared.detect_grids() {
        let (meta, text) = grid
            .decode()
            .map_err(|e| anyhow::anyhow!("a QR code was found but does not decode: {e:?}"))?;
        found.push(QrFound {
            text,
            modules: 17 + 4 * meta.version.0,
            corners: grid
                .bounds
                .map(|p| (f64::from(p.x) + 0.5, f64::from(p.y) + 0.5)),
        });
    }
    Ok(found)
}

/// One page of `pdftotext -bbox`: its visible size and its words, in points.
#[derive(Debug, Clone)]
pub struct PageWords {
    /// Visible width.
    pub width: f64,
    /// Visible height.
    pub height: f64,
    /// Each word with its box.
    pub words: Vec<(String, BoxPt)>,
}

impl PageWords {
    /// The box of the first word that contains `needle`.
    pub fn find(&self, needle: &str) -> Option<BoxPt> {
        self.words
            .iter()
            .find(|(w, _)| w.contains(needle))
            .map(|(_, b)| *b)
    }
}

/// The words of every page of `pdf`, as `pdftotext -bbox -cropbox` sees them.
///
/// # Errors
/// pdftotext failed or wrote something unexpected.
pub fn word_boxes(pdf: &Path) -> Result<Option<Vec<PageWords>>> {
    let Some(pdftotext) = tool("pdftotext") else {
        return Ok(None);
    };
    let o = run(Command::new(pdftotext)
        .args(["-bbox", "-cropbox", "-enc", "UTF-8"])
        .arg(pdf)
        .arg("-"))?;
    ensure!(
        o.status.success(),
        "pdftotext -bbox {}: {}",
        pdf.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    parse_bbox_html(&String::from_utf8_lossy(&o.stdout)).map(Some)
}

/// Parse pdftotext's `-bbox` XHTML: `<page width=".." height="..">` and
/// `<word xMin=".." yMin=".." xMax=".." yMax="..">text</word>`.
fn parse_bbox_html(html: &str) -> Result<Vec<PageWords>> {
    let mut pages: Vec<PageWords> = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at..];
        let end = rest
            .find('>')
            .context("unclosed tag in pdftotext -bbox output")?;
        let tag = &rest[..=end];
        rest = &rest[end + 1..];
        if tag.starts_with("<page ") {
            pages.push(PageWords {
                width: attr(tag, "width")?,
                height: attr(tag, "height")?,
                words: Vec::new(),
            });
        } else if tag.starts_with("<word ") {
            let close = rest.find("</word>").context("unclosed <word>")?;
            let text = unescape(&rest[..close]);
            rest = &rest[close..];
            let b = BoxPt {
                x_min: attr(tag, "xMin")?,
                y_min: attr(tag, "yMin")?,
                x_max: attr(tag, "xMax")?,
                y_max: attr(tag, "yMax")?,
            };
            pages
                .last_mut()
                .context("a word outside any page")?
                .words
                .push((text, b));
        }
    }
    Ok(pages)
}

fn attr(tag: &str, name: &str) -> Result<f64> {
    let key = format!(" {name}=\"");
    let at = tag
        .find(&key)
        .with_context(|| format!("{tag}: no {name}"))?
        + key.len();
    let len = tag[at..]
        .find('"')
        .with_context(|| format!("{tag}: {name}"))?;
    let v: f64 = tag[at..at + len].parse()?;
    ensure!(v.is_finite(), "{tag}: {name} is not finite");
    Ok(v)
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The plain text of page `page` (1-based) of `pdf`, as `pdftotext -layout` reads it.
///
/// # Errors
/// pdftotext failed.
pub fn page_text(pdf: &Path, page: u32) -> Result<Option<String>> {
    let Some(pdftotext) = tool("pdftotext") else {
        return Ok(None);
    };
    let p = page.to_string();
    let o = run(Command::new(pdftotext)
        .args(["-enc", "UTF-8", "-f", &p, "-l", &p])
        .arg(pdf)
        .arg("-"))?;
    ensure!(
        o.status.success(),
        "pdftotext {}: {}",
        pdf.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    Ok(Some(String::from_utf8_lossy(&o.stdout).into_owned()))
}

/// The structure tree of a tagged PDF as `pdfinfo -struct` prints it, one element a line
/// (indented by depth); empty for an untagged file.
///
/// # Errors
/// pdfinfo failed.
pub fn structure(pdf: &Path) -> Result<Option<Vec<String>>> {
    let Some(pdfinfo) = tool("pdfinfo") else {
        return Ok(None);
    };
    let o = run(Command::new(pdfinfo).arg("-struct").arg(pdf))?;
    ensure!(
        o.status.success(),
        "pdfinfo -struct {}: {}",
        pdf.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8_lossy(&o.stdout);
    Ok(Some(
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect(),
    ))
}

/// One row of `pdffonts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FontRow {
    /// The font's name (with its subset prefix).
    pub name: String,
    /// Its type (`Type 1`, `CID TrueType`, …).
    pub kind: String,
    /// Its encoding.
    pub encoding: String,
    /// Embedded in the file.
    pub embedded: bool,
    /// Embedded as a subset.
    pub subset: bool,
    /// Has a ToUnicode map.
    pub unicode: bool,
    /// The font object, `number generation`.
    pub object: String,
}

/// The fonts of `pdf` (pages and annotation appearances), as `pdffonts` lists them.
///
/// # Errors
/// pdffonts failed or printed a table of another shape.
pub fn fonts(pdf: &Path) -> Result<Option<Vec<FontRow>>> {
    let Some(pdffonts) = tool("pdffonts") else {
        return Ok(None);
    };
    let o = run(Command::new(pdffonts).arg(pdf))?;
    let out = String::from_utf8_lossy(&o.stdout);
    ensure!(
        o.status.success(),
        "pdffonts {}: {}{out}",
        pdf.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    parse_pdffonts(&out).map(Some)
}

/// pdffonts' table: a header, a ruler of dashes whose runs give the columns, then one row per
/// font. Columns: name, type, encoding, emb, sub, uni, object ID.
fn parse_pdffonts(out: &str) -> Result<Vec<FontRow>> {
    let mut lines = out.lines();
    let ruler = lines
        .by_ref()
        .find(|l| l.starts_with("---"))
        .context("pdffonts printed no table")?;
    // Column spans from the runs of dashes.
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in ruler
        .char_indices()
        .chain(std::iter::once((ruler.len(), ' ')))
    {
        match (c == '-', start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if spans.len() != 7 {
        bail!("pdffonts ruler of {} columns: {ruler:?}", spans.len());
    }
    let mut rows = Vec::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let col = |k: usize| {
            let (s, e) = spans[k];
            let e = if k == 6 { line.len() } else { e };
            line.get(s.min(line.len())..e.min(line.len()))
                .unwrap_or("")
                .trim()
                .to_string()
        };
        let yes = |k: usize| col(k) == "yes";
        rows.push(FontRow {
            name: col(0),
            kind: col(1),
            encoding: col(2),
            embedded: yes(3),
            subset: yes(4),
            unicode: yes(5),
            object: col(6),
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pdffonts_tables() {
        let out = "name                                 type              encoding         emb sub uni object ID\n\
                   ------------------------------------ ----------------- ---------------- --- --- --- ---------\n\
                   Times-Roman                          Type 1            WinAnsi          no  no  no       5  0\n\
                   ABCDEF+DejaVuSans                    CID TrueType      Identity-H       yes yes yes     12  0\n";
        let rows = parse_pdffonts(out).expect("parses");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].name, "Times-Roman");
        assert!(!rows[0].embedded && !rows[0].unicode);
        assert_eq!(rows[1].kind, "CID TrueType");
        assert!(rows[1].embedded && rows[1].subset && rows[1].unicode);
        assert_eq!(rows[1].object, "12  0");
        assert!(parse_pdffonts("no table").is_err());
    }

    #[test]
    fn reads_bbox_html() {
        let html = r#"<doc><page width="595.276000" height="841.890000">
<word xMin="56.0" yMin="70.1" xMax="80.5" yMax="82.0">#ttd#</word>
<word xMin="1" yMin="2" xMax="3" yMax="4">a&amp;b</word></page>
<page width="842" height="595"></page></doc>"#;
        let pages = parse_bbox_html(html).expect("parses");
        assert_eq!(pages.len(), 2);
        assert_eq!(pages[1].width, 842.0);
        let b = pages[0].find("#ttd#").expect("the tag");
        assert_eq!((b.x_min, b.y_max), (56.0, 82.0));
        assert_eq!(pages[0].words[1].0, "a&b");
        assert!(parse_bbox_html(r#"<page width="x" height="1">"#).is_err());
        assert!(parse_bbox_html(r#"<word xMin="1">"#).is_err());
    }

    #[test]
    fn reads_pgm_and_refuses_short_ones() {
        let (w, h, px) = parse_pgm(b"P5\n# c\n2 2\n255\n\x00\x01\x02\x03").expect("parses");
        assert_eq!((w, h, px), (2, 2, vec![0, 1, 2, 3]));
        assert!(parse_pgm(b"P5\n2 2\n255\n\x00").is_err());
        assert!(parse_pgm(b"P6\n1 1\n255\n\x00\x00\x00").is_err());
        assert!(parse_pgm(b"P5\n99999999999 99999999999\n255\n").is_err());
    }

    #[test]
    fn boxes_and_pixels() {
        let r = Raster {
            width: 10,
            height: 10,
            dpi: 72.0,
            pixels: vec![255; 100],
        };
        let b = BoxPt {
            x_min: 2.0,
            y_min: 3.0,
            x_max: 4.0,
            y_max: 4.0,
        };
        assert_eq!(r.pixels_in(&b), vec![(2, 3), (3, 3)]);
        let outside = BoxPt {
            x_min: 20.0,
            y_min: 20.0,
            x_max: 30.0,
            y_max: 30.0,
        };
        assert!(r.pixels_in(&outside).is_empty());
        assert!(b.union(&outside).contains(&b, 0.0));
        assert!(!b.contains(&outside, 1.0));
    }
}

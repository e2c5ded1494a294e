//! The words on a visible seal: an agency's template, the values of one request, and the
//! finished [`Appearance`] the engine draws.
//!
//! A template is a list of lines with placeholders, one syntax everywhere (server
//! configuration, `segel sign --stamp-template FILE`, `ListAgencies`):
//!
//! ```text
//! Ditandatangani secara elektronik oleh:     plain text
//! ?{jabatan}                                  '?': left out when a placeholder has no value
//! *{instansi}                                 '*': bold ('?*' or '*?': both)
//! ?NIP. {nip}
//! {tanggal}
//! ```
//!
//! Placeholder names are 1 to 32 characters of `a-z`, `0-9` and `_`. Four values are always
//! known and cannot be set by a caller: `{tanggal}` (the signing time in WIB, UTC+7),
//! `{dokumen}` (the document id), `{verify_url}` and `{tautan}` (the verification link, which
//! the QR code also carries). `{instansi}` is the agency's name unless the request gives it.
//! Every other value comes from the request; a line of a required placeholder without a value
//! is refused, naming it.

use std::collections::BTreeMap;

use super::StampError;
use crate::time::UnixTime;

/// Most lines in a template.
pub const MAX_LINES: usize = 12;
/// Most bytes in a template line or a footer.
pub const MAX_LINE_LEN: usize = 400;
/// Most values in one request.
pub const MAX_FIELDS: usize = 16;
/// Most bytes in one value.
pub const MAX_VALUE_LEN: usize = 200;
/// Most bytes in a verification base URL.
pub const MAX_URL_LEN: usize = 200;

/// Characters that change how text around them reads without showing themselves
/// (bidirectional overrides and isolates, zero-width characters, line and paragraph
/// separators, the byte order mark): refused in templates and values, as control characters
/// are, so that what the stamp and its `/TU` say is what a reader sees.
pub(crate) fn is_invisible_format(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// Values a request cannot set: the engine computes them.
const COMPUTED: [&str; 4] = ["tanggal", "dokumen", "verify_url", "tautan"];

/// An agency's stamp template: lines with placeholders, top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StampTemplate {
    lines: Vec<TemplateLine>,
}

/// One template line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TemplateLine {
    /// The line as written (with its `?`/`*` marks), for `ListAgencies` and error messages.
    source: String,
    bold: bool,
    optional: bool,
    /// Literal text and placeholders in order.
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Value(String),
}

/// A line of finished stamp text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StampLine {
    /// The text, placeholders replaced.
    pub text: String,
    /// Drawn in the bold face.
    pub bold: bool,
}

impl StampTemplate {
    /// Parse template lines (see the module documentation).
    ///
    /// # Errors
    /// No lines or more than [`MAX_LINES`], a line longer than [`MAX_LINE_LEN`] bytes or with
    /// control characters, an unclosed `{`, a stray `}`, or a bad placeholder name.
    pub fn parse<S: AsRef<str>>(lines: &[S]) -> Result<StampTemplate, StampError> {
        if lines.is_empty() || lines.len() > MAX_LINES {
            return Err(StampError::Template(format!(
                "a template has 1 to {MAX_LINES} lines, not {}",
                lines.len()
            )));
        }
        let lines = lines
            .iter()
            .enumerate()
            .map(|(i, l)| parse_line(l.as_ref(), i + 1))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(StampTemplate { lines })
    }

    /// Parse a template file: one line per template line; blank lines and lines starting with
    /// `#` are skipped.
    ///
    /// # Errors
    /// As [`StampTemplate::parse`].
    pub fn parse_text(text: &str) -> Result<StampTemplate, StampError> {
        let lines: Vec<&str> = text
            .lines()
            .map(|l| l.trim_end_matches('\r'))
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .collect();
        Self::parse(&lines)
    }

    /// The built-in template of an electronic seal: the agency in bold, optional position,
    /// name and NIP, and the signing time.
    pub fn seal_default() -> StampTemplate {
        Self::parse(&[
            "Ditandatangani secara elektronik oleh:",
            "?{jabatan}",
            "*{instansi}",
            "?*{nama}",
            "?NIP. {nip}",
            "{tanggal}",
        ])
        .expect("the built-in template parses")
    }

    /// The lines as written, marks included (what [`StampTemplate::parse`] reads back).
    pub fn sources(&self) -> Vec<String> {
        self.lines.iter().map(|l| l.source.clone()).collect()
    }

    /// Names of the placeholders a request may give values for (computed ones left out).
    pub fn fields(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .lines
            .iter()
            .flat_map(|l| l.parts.iter())
            .filter_map(|p| match p {
                Part::Value(n) if !COMPUTED.contains(&n.as_str()) => Some(n.clone()),
                _ => None,
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The finished lines for `values`.
    ///
    /// # Errors
    /// A required line's placeholder has no value (or an empty one).
    pub fn fill(&self, values: &BTreeMap<String, String>) -> Result<Vec<StampLine>, StampError> {
        let mut out = Vec::with_capacity(self.lines.len());
        for (i, line) in self.lines.iter().enumerate() {
            match fill_parts(&line.parts, values) {
                Ok(text) => out.push(StampLine {
                    text,
                    bold: line.bold,
                }),
                Err(_) if line.optional => {}
                Err(name) => {
                    return Err(StampError::Template(format!(
                        "line {} ({:?}) needs a value for {{{name}}}; give it as a stamp field \
                         {name}=…, or mark the line optional with '?'",
                        i + 1,
                        line.source
                    )))
                }
            }
        }
        Ok(out)
    }
}

/// Replace every placeholder of `parts`; `Err(name)` for the first one without a value.
fn fill_parts(parts: &[Part], values: &BTreeMap<String, String>) -> Result<String, String> {
    let mut s = String::new();
    for p in parts {
        match p {
            Part::Text(t) => s.push_str(t),
            Part::Value(n) => match values.get(n) {
                Some(v) if !v.trim().is_empty() => s.push_str(v.trim()),
                _ => return Err(n.clone()),
            },
        }
    }
    Ok(s)
}

fn parse_line(source: &str, number: usize) -> Result<TemplateLine, StampError> {
    let bad = |why: String| StampError::Template(format!("line {number} ({source:?}): {why}"));
    if source.len() > MAX_LINE_LEN {
        return Err(bad(format!("longer than {MAX_LINE_LEN} bytes")));
    }
    if source.chars().any(is_invisible_format) {
        return Err(bad(
            "holds a control or invisible formatting character".into()
        ));
    }
    let mut rest = source;
    let (mut bold, mut optional) = (false, false);
    loop {
        if let Some(r) = rest.strip_prefix('*').filter(|_| !bold) {
            bold = true;
            rest = r;
        } else if let Some(r) = rest.strip_prefix('?').filter(|_| !optional) {
            optional = true;
            rest = r;
        } else {
            break;
        }
    }
    let parts = parse_parts(rest).map_err(bad)?;
    if parts.is_empty() {
        return Err(bad("is empty".into()));
    }
    Ok(TemplateLine {
        source: source.to_string(),
        bold,
        optional,
        parts,
    })
}

/// Split text with `{name}` placeholders.
fn parse_parts(mut rest: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    while !rest.is_empty() {
        match rest.find(['{', '}']) {
            None => {
                parts.push(Part::Text(rest.to_string()));
                break;
            }
            Some(i) if rest.as_bytes()[i] == b'}' => {
                return Err(format!("a '}}' without its '{{' at byte {i}"));
            }
            Some(i) => {
                if i > 0 {
                    parts.push(Part::Text(rest[..i].to_string()));
                }
                let after = &rest[i + 1..];
                let end = after
                    .find('}')
                    .ok_or_else(|| "a '{' without its '}'".to_string())?;
                let name = &after[..end];
                check_name(name)?;
                parts.push(Part::Value(name.to_string()));
                rest = &after[end + 1..];
            }
        }
    }
    Ok(parts)
}

/// A placeholder or field name: 1 to 32 characters of `a-z`, `0-9`, `_`.
fn check_name(name: &str) -> Result<(), String> {
    let ok = (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "placeholder {{{name}}}: names are 1 to 32 characters of a-z, 0-9 and '_'"
        ))
    }
}

/// Check the values a request gives for a template: at most [`MAX_FIELDS`], names as
/// placeholders, values of at most [`MAX_VALUE_LEN`] bytes without control characters, and
/// none of the computed names.
///
/// # Errors
/// [`StampError::Template`] naming the field.
pub fn check_fields(fields: &BTreeMap<String, String>) -> Result<(), StampError> {
    if fields.len() > MAX_FIELDS {
        return Err(StampError::Template(format!(
            "{} stamp fields given; at most {MAX_FIELDS}",
            fields.len()
        )));
    }
    for (k, v) in fields {
        check_name(k).map_err(|e| StampError::Template(format!("stamp field: {e}")))?;
        if COMPUTED.contains(&k.as_str()) {
            return Err(StampError::Template(format!(
                "stamp field {k} is set by the signer, not by the request"
            )));
        }
        if v.len() > MAX_VALUE_LEN || v.chars().any(is_invisible_format) {
            return Err(StampError::Template(format!(
                "stamp field {k}: at most {MAX_VALUE_LEN} bytes, without control or invisible \
                 formatting characters (such as U+202E or U+200B)"
            )));
        }
    }
    Ok(())
}

/// A verification base URL (`{verify_url}`): `http://` or `https://`, printable ASCII without
/// spaces, quotes or angle brackets, at most [`MAX_URL_LEN`] bytes. A trailing `/` is dropped.
///
/// # Errors
/// [`StampError::Template`] saying what is wrong.
pub fn check_verify_url(url: &str) -> Result<String, StampError> {
    let url = url.trim_end_matches('/');
    let scheme = url.starts_with("https://") || url.starts_with("http://");
    let chars = url
        .bytes()
        .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'<' | b'>' | b'\\'));
    let host = url.split_once("://").is_some_and(|(_, h)| !h.is_empty());
    if scheme && chars && host && url.len() <= MAX_URL_LEN {
        Ok(url.to_string())
    } else {
        Err(StampError::Template(format!(
            "verify URL {url:?}: http:// or https:// and a host, printable ASCII without \
             spaces or quotes, at most {MAX_URL_LEN} bytes"
        )))
    }
}

/// The document identifier a seal's QR code links to: 16 to 64 characters of `A-Z`, `a-z`,
/// `0-9`, `_`, `-`. [`DocumentId::generate`] makes one of 128 random bits (22 characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentId(String);

impl DocumentId {
    /// A new identifier of 128 bits from the operating system's random source, base64url.
    ///
    /// # Panics
    /// Never in practice: only if the operating system has no random source.
    pub fn generate() -> DocumentId {
        use base64::Engine as _;
        let mut bytes = [0u8; 16];
        aws_lc_rs::rand::fill(&mut bytes).expect("the system random source works");
        DocumentId(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Check an identifier chosen elsewhere.
    ///
    /// # Errors
    /// [`StampError::DocumentId`] when it is not 16 to 64 characters of `[A-Za-z0-9_-]`.
    pub fn parse(s: &str) -> Result<DocumentId, StampError> {
        let ok = (16..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(DocumentId(s.to_string()))
        } else {
            Err(StampError::DocumentId(s.chars().take(80).collect()))
        }
    }

    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DocumentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The months in Indonesian, January first.
pub const BULAN: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];

/// `time` in Western Indonesian Time (UTC+7), as a letter writes it: `5 Desember 2026 08:30 WIB`.
pub fn tanggal_wib(time: UnixTime) -> String {
    let (y, m, d, hh, mm, _) = UnixTime(time.0.saturating_add(7 * 3600)).civil();
    format!("{d} {} {y} {hh:02}:{mm:02} WIB", BULAN[(m - 1) as usize])
}

/// The built-in footer text: `{verify_url}` is the agency's verification address.
pub const DEFAULT_FOOTER: &str = "Dokumen ini telah ditandatangani secara elektronik. Untuk \
    memastikan keasliannya, pindai kode QR atau kunjungi {verify_url}";

/// An agency's stamp settings (server configuration, or the offline CLI's flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StampSettings {
    /// The agency's name: `{instansi}` unless the request gives it.
    pub agency_name: String,
    /// The template.
    pub template: StampTemplate,
    /// Verification base URL; the QR code links to `{verify_url}/d/{document_id}`.
    pub verify_url: String,
    /// Footer text (placeholders as in the template); [`DEFAULT_FOOTER`] by default.
    pub footer: String,
    /// The agency's specimen image or logo (PNG or JPEG), if it has one.
    pub image: Option<Vec<u8>>,
}

impl StampSettings {
    /// Settings with the built-in template and footer and no image.
    ///
    /// # Errors
    /// A bad `verify_url` ([`check_verify_url`]).
    pub fn new(agency_name: &str, verify_url: &str) -> Result<StampSettings, StampError> {
        Ok(StampSettings {
            agency_name: agency_name.to_string(),
            template: StampTemplate::seal_default(),
            verify_url: check_verify_url(verify_url)?,
            footer: DEFAULT_FOOTER.to_string(),
            image: None,
        })
    }

    /// The verification link of a document: `{verify_url}/d/{document_id}`.
    pub fn link(&self, document_id: &DocumentId) -> String {
        format!("{}/d/{}", self.verify_url, document_id)
    }
}

/// Where the stamp goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Placement {
    /// Over the first occurrence of this text (in page order), hiding it; `width` × `height`
    /// points.
    Tag {
        /// The text to look for, e.g. `#ttd#`.
        text: String,
        /// Stamp width in points.
        width: f64,
        /// Stamp height in points.
        height: f64,
    },
    /// On page `page` (1-based), at `x`, `y` points from the top-left corner of the page as
    /// the reader sees it (crop box and `/Rotate` applied), `width` × `height` points.
    Rect {
        /// Page, 1-based.
        page: u32,
        /// Left edge from the visible page's left edge.
        x: f64,
        /// Top edge from the visible page's top edge.
        y: f64,
        /// Width.
        width: f64,
        /// Height.
        height: f64,
    },
    /// In the rectangle of the existing empty signature field named by the request.
    Field,
}

/// Default stamp width in points.
pub const DEFAULT_WIDTH: f64 = 200.0;
/// Default stamp height in points.
pub const DEFAULT_HEIGHT: f64 = 110.0;

/// A caller's choices for a visible seal (part of [`crate::SignOptions`]).
#[derive(Debug, Clone, PartialEq)]
pub struct VisibleOptions {
    /// Where the stamp goes.
    pub placement: Placement,
    /// Values for the template's placeholders.
    pub fields: BTreeMap<String, String>,
    /// Add the footer note to every page (only on a document without signatures).
    pub footer: bool,
    /// A specimen image for this request instead of the agency's (PNG or JPEG).
    pub image: Option<Vec<u8>>,
}

/// A finished visible seal for the engine to draw and place: what
/// [`crate::SignatureRequest::appearance`] holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Appearance {
    /// Where it goes.
    pub placement: Placement,
    /// Its lines of text.
    pub lines: Vec<StampLine>,
    /// The verification link the QR code carries.
    pub link: String,
    /// A PNG or JPEG image to show, if any.
    pub image: Option<Vec<u8>>,
    /// The footer text for every page, if asked for.
    pub footer: Option<String>,
    /// The widget's alternate description (`/TU`) for screen readers.
    pub alt_text: String,
}

/// Compose the finished seal of one request from the agency's settings, the caller's
/// choices, the document id and the signing time.
///
/// # Errors
/// Bad fields ([`check_fields`]), a required template line without a value, an empty tag.
pub fn compose(
    settings: &StampSettings,
    visible: &VisibleOptions,
    document_id: &DocumentId,
    time: UnixTime,
) -> Result<Appearance, StampError> {
    check_fields(&visible.fields)?;
    let known = settings.template.fields();
    if let Some(unknown) = visible
        .fields
        .keys()
        .find(|k| k.as_str() != "instansi" && !known.contains(k))
    {
        return Err(StampError::Template(format!(
            "stamp field {unknown} is not a placeholder of the template (its fields: {})",
            known.join(", ")
        )));
    }
    if let Placement::Tag { text, .. } = &visible.placement {
        if text.trim().is_empty() || text.len() > 64 || text.chars().any(char::is_control) {
            return Err(StampError::Placement(
                "a tag is 1 to 64 bytes of text without control characters".into(),
            ));
        }
    }
    let link = settings.link(document_id);
    let mut values = visible.fields.clone();
    values
        .entry("instansi".into())
        .or_insert_with(|| settings.agency_name.clone());
    let tanggal = tanggal_wib(time);
    values.insert("tanggal".into(), tanggal.clone());
    values.insert("dokumen".into(), document_id.to_string());
    values.insert("verify_url".into(), settings.verify_url.clone());
    values.insert("tautan".into(), link.clone());
    let lines = settings.template.fill(&values)?;
    let footer = if visible.footer {
        let t = StampTemplate::parse(&[settings.footer.as_str()])?;
        Some(t.fill(&values)?.remove(0).text)
    } else {
        None
    };
    let who = match values.get("nama").filter(|n| !n.trim().is_empty()) {
        Some(n) => format!("{}, {}", values["instansi"], n.trim()),
        None => values["instansi"].clone(),
    };
    let alt_text = format!(
        "Segel elektronik {who}, ditandatangani {tanggal}. Periksa keaslian dokumen di {link}"
    );
    Ok(Appearance {
        placement: visible.placement.clone(),
        lines,
        link,
        image: visible.image.clone().or_else(|| settings.image.clone()),
        footer,
        alt_text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn marks_placeholders_and_optional_lines() {
        let t = StampTemplate::parse(&["*?{nama}", "NIP. {nip}", "Jakarta"]).expect("accepted");
        assert_eq!(t.fields(), vec!["nama".to_string(), "nip".to_string()]);
        let lines = t.fill(&values(&[("nip", "1987")])).expect("accepted");
        assert_eq!(
            lines,
            vec![
                StampLine {
                    text: "NIP. 1987".into(),
                    bold: false
                },
                StampLine {
                    text: "Jakarta".into(),
                    bold: false
                }
            ]
        );
        let e = t.fill(&values(&[])).expect_err("refused").to_string();
        assert!(e.contains("line 2") && e.contains("{nip}"), "{e}");
        assert_eq!(t.sources()[0], "*?{nama}");
    }

    #[test]
    fn bad_templates_are_refused_with_the_line() {
        for (lines, want) in [
            (vec!["{nama"], "without its '}'"),
            (vec!["nama}"], "without its '{'"),
            (vec!["{Nama}"], "a-z"),
            (vec!["*?"], "is empty"),
            (vec!["a\u{7}b"], "control"),
        ] {
            let e = StampTemplate::parse(&lines)
                .expect_err("refused")
                .to_string();
            assert!(e.contains(want) && e.contains("line 1"), "{lines:?}: {e}");
        }
        assert!(StampTemplate::parse::<&str>(&[]).is_err());
        assert!(StampTemplate::parse(&vec!["x"; MAX_LINES + 1]).is_err());
    }

    #[test]
    fn computed_values_cannot_be_set() {
        let e = check_fields(&values(&[("tanggal", "1 Januari 1970")])).expect_err("refused");
        assert!(e.to_string().contains("tanggal"));
        assert!(check_fields(&values(&[("x", &"a".repeat(MAX_VALUE_LEN + 1))])).is_err());
        assert!(check_fields(&values(&[("nama", "Budi\nSantoso")])).is_err());
        for sneaky in [
            "Budi\u{202E}otnaS",
            "Budi\u{200B}",
            "Budi\u{2028}Santoso",
            "\u{FEFF}Budi",
        ] {
            assert!(
                check_fields(&values(&[("nama", sneaky)])).is_err(),
                "{sneaky:?}"
            );
        }
        assert!(check_fields(&values(&[("nama", "Dr. Siti Ayşe Nurhaliza, S.H.")])).is_ok());
    }

    #[test]
    fn wib_date_is_utc_plus_seven_in_indonesian() {
        // 2026-12-04T17:30:00Z is 5 December 00:30 in Jakarta.
        let t = UnixTime::from_civil(2026, 12, 4, 17, 30, 0);
        assert_eq!(tanggal_wib(t), "5 Desember 2026 00:30 WIB");
    }

    #[test]
    fn document_ids_are_checked_and_random() {
        let a = DocumentId::generate();
        assert_eq!(a.as_str().len(), 22);
        assert_ne!(a, DocumentId::generate());
        assert!(DocumentId::parse(a.as_str()).is_ok());
        for bad in [
            "short",
            "has space in it 1234",
            "slash/isnotallowed12",
            &"a".repeat(65),
        ] {
            assert!(DocumentId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn verify_urls_are_checked() {
        assert_eq!(
            check_verify_url("https://segel.example.go.id/").expect("accepted"),
            "https://segel.example.go.id"
        );
        for bad in [
            "ftp://x",
            "https://",
            "https://a b",
            "javascript:alert(1)",
            "http://\"x",
        ] {
            assert!(check_verify_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn compose_fills_the_computed_values() {
        let settings =
            StampSettings::new("Kementerian Contoh", "http://127.0.0.1:8080").expect("accepted");
        let id = DocumentId::parse("AbCdEfGhIjKlMnOpQrStUv").expect("accepted");
        let visible = VisibleOptions {
            placement: Placement::Tag {
                text: "#ttd#".into(),
                width: DEFAULT_WIDTH,
                height: DEFAULT_HEIGHT,
            },
            fields: values(&[("nama", "Budi Santoso"), ("jabatan", "Sekretaris Jenderal")]),
            footer: true,
            image: None,
        };
        let a = compose(&settings, &visible, &id, UnixTime(0)).expect("accepted");
        assert_eq!(a.link, "http://127.0.0.1:8080/d/AbCdEfGhIjKlMnOpQrStUv");
        let texts: Vec<&str> = a.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Ditandatangani secara elektronik oleh:",
                "Sekretaris Jenderal",
                "Kementerian Contoh",
                "Budi Santoso",
                "1 Januari 1970 07:00 WIB"
            ]
        );
        assert!(a
            .footer
            .expect("accepted")
            .ends_with("kunjungi http://127.0.0.1:8080"));
        assert!(a.alt_text.contains("Budi Santoso") && a.alt_text.contains(&a.link));
        // A value for a placeholder the template does not have is a mistake, not ignored.
        let mut typo = visible.clone();
        typo.fields.insert("nma".into(), "Budi".into());
        let e = compose(&settings, &typo, &id, UnixTime(0)).expect_err("unknown field");
        assert!(
            e.to_string().contains("nma") && e.to_string().contains("nama"),
            "{e}"
        );
    }
}

//! The visible seal's flags (`segel sign`, `segel batch`) and what they resolve to: the
//! engine's [`VisibleOptions`] and, offline, the [`Seal`] drawn here.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use pades::stamp::template::check_fields;
use pades::stamp::{
    DocumentId, Placement, StampError, StampSettings, StampTemplate, VisibleOptions,
    DEFAULT_HEIGHT, DEFAULT_WIDTH,
};
use segel_client::seal::Seal;
use segel_client::ClientError;

/// Largest coordinate or size, in points: the largest page PDF allows (200 inches).
pub(crate) const MAX_POINTS: f64 = 14_400.0;
/// Largest specimen image (PNG or JPEG), as the API allows.
pub(crate) const MAX_IMAGE: u64 = 512 << 10;
/// Largest stamp template file.
pub(crate) const MAX_TEMPLATE: u64 = 64 << 10;
/// The environment variable naming the verification base URL of offline seals.
pub(crate) const VERIFY_URL_ENV: &str = "SEGEL_VERIFY_URL";

/// A visible seal: where it goes and what it says (online and offline, `sign` and `batch`).
#[derive(Debug, Clone, Default, Args)]
#[command(
    next_help_heading = "Visible seal",
    group = clap::ArgGroup::new("seal").multiple(true)
)]
pub(crate) struct Stamp {
    /// Draw a visible seal (QR code and the template's text); with neither --tag nor --rect,
    /// into the existing empty signature field named by --field, in its rectangle.
    #[arg(long, group = "seal")]
    pub(crate) visible: bool,
    /// Place the seal over the first occurrence of this text (page order), hiding it, e.g.
    /// '#ttd#'. Implies --visible.
    #[arg(long, value_name = "TEXT", group = "seal", conflicts_with = "rect")]
    pub(crate) tag: Option<String>,
    /// Place the seal on page --page at X,Y (points from the top-left corner of the page as
    /// the reader sees it), W × H points. Implies --visible.
    #[arg(long, value_name = "X,Y,W,H", group = "seal", value_parser = parse_rect)]
    pub(crate) rect: Option<Rect>,
    /// The seal's size with --tag, in points [default: 200,110].
    #[arg(long, value_name = "W,H", requires = "seal", conflicts_with = "rect", value_parser = parse_size)]
    pub(crate) size: Option<(f64, f64)>,
    /// A value for the template's placeholder KEY, e.g. nama='Budi Santoso', nip=1987…,
    /// jabatan='Sekretaris Jenderal' (repeat for each).
    #[arg(long = "stamp-field", value_name = "KEY=VALUE", requires = "seal", value_parser = parse_field)]
    pub(crate) fields: Vec<(String, String)>,
    /// Add the footer note to every page (only on a document without signatures).
    #[arg(long, requires = "seal")]
    pub(crate) footer: bool,
    /// A specimen image or logo to show (PNG or JPEG, at most 512 KiB).
    #[arg(long, value_name = "FILE", requires = "seal")]
    pub(crate) image: Option<PathBuf>,
}

/// What only an offline seal needs: the server has these for its agencies.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Visible seal, offline")]
pub(crate) struct LocalStamp {
    /// Offline: the verification base URL; the QR code links to URL/d/DOCUMENT_ID
    /// [env: SEGEL_VERIFY_URL; required for a visible seal].
    #[arg(long, value_name = "URL", requires = "seal", conflicts_with = "agency")]
    pub(crate) verify_url: Option<String>,
    /// Offline: the document id the QR code links to (16 to 64 characters of A-Z a-z 0-9 _ -)
    /// [default: 128 random bits].
    #[arg(long, value_name = "ID", requires = "seal", conflicts_with = "agency")]
    pub(crate) document_id: Option<String>,
    /// Offline: the stamp template file (one line per line: '?' optional, '*' bold,
    /// {placeholders}; '#' comments) [default: the built-in seal template].
    #[arg(
        long,
        value_name = "FILE",
        requires = "seal",
        conflicts_with = "agency"
    )]
    pub(crate) stamp_template: Option<PathBuf>,
}

/// A placement rectangle as typed: X, Y from the top-left corner, W × H, in points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rect {
    pub(crate) x: f64,
    pub(crate) y: f64,
    pub(crate) width: f64,
    pub(crate) height: f64,
}

/// Comma-separated numbers, `n` of them, each finite and within `0..=MAX_POINTS`.
fn numbers(s: &str, n: usize, form: &str) -> Result<Vec<f64>, String> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    if parts.len() != n {
        return Err(format!("{form}: {n} numbers separated by commas"));
    }
    parts
        .iter()
        .map(|p| {
            let v: f64 = p
                .parse()
                .map_err(|_| format!("{p:?} is not a number ({form}, in points)"))?;
            if !v.is_finite() || !(0.0..=MAX_POINTS).contains(&v) {
                return Err(format!(
                    "{p:?}: each value is a finite number of points from 0 to {MAX_POINTS}"
                ));
            }
            Ok(v)
        })
        .collect()
}

fn parse_rect(s: &str) -> Result<Rect, String> {
    let v = numbers(s, 4, "X,Y,W,H")?;
    if v[2] <= 0.0 || v[3] <= 0.0 {
        return Err("the width and height are more than 0 points".into());
    }
    Ok(Rect {
        x: v[0],
        y: v[1],
        width: v[2],
        height: v[3],
    })
}

fn parse_size(s: &str) -> Result<(f64, f64), String> {
    let v = numbers(s, 2, "W,H")?;
    if v[0] <= 0.0 || v[1] <= 0.0 {
        return Err("the width and height are more than 0 points".into());
    }
    Ok((v[0], v[1]))
}

fn parse_field(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
            Ok((k.trim().to_string(), v.trim().to_string()))
        }
        _ => Err(format!(
            "{s:?}: give KEY=VALUE with a name and a value, e.g. nama='Budi Santoso'"
        )),
    }
}

impl Stamp {
    /// Whether a visible seal is asked for (`--visible`, or implied by `--tag` or `--rect`).
    pub(crate) fn wanted(&self) -> bool {
        self.visible || self.tag.is_some() || self.rect.is_some()
    }

    /// The seal's options for a signature into `field` (if named) on `page`; `None` when no
    /// seal is asked for.
    ///
    /// # Errors
    /// [`ClientError::Seal`] for `--visible` without a placement, a stamp field given twice or
    /// not of a placeholder's form, an image that is too large; [`ClientError::Read`] for an
    /// image that cannot be read.
    pub(crate) fn options(
        &self,
        field: Option<&str>,
        page: u32,
    ) -> Result<Option<VisibleOptions>, ClientError> {
        if !self.wanted() {
            return Ok(None);
        }
        let (width, height) = self.size.unwrap_or((DEFAULT_WIDTH, DEFAULT_HEIGHT));
        let placement = match (&self.tag, self.rect, field) {
            (Some(text), _, _) => Placement::Tag {
                text: text.clone(),
                width,
                height,
            },
            (None, Some(r), _) => Placement::Rect {
                page,
                x: r.x,
                y: r.y,
                width: r.width,
                height: r.height,
            },
            (None, None, Some(_)) => Placement::Field,
            (None, None, None) => {
                return Err(StampError::Placement(
                    "--visible needs a place: --tag TEXT, --page N --rect X,Y,W,H, or --field \
                     NAME of an existing empty signature field"
                        .into(),
                )
                .into())
            }
        };
        let mut fields = BTreeMap::new();
        for (k, v) in &self.fields {
            if fields.insert(k.clone(), v.clone()).is_some() {
                return Err(StampError::Template(format!("stamp field {k} given twice")).into());
            }
        }
        check_fields(&fields)?;
        let image = self.image.as_deref().map(read_image).transpose()?;
        Ok(Some(VisibleOptions {
            placement,
            fields,
            footer: self.footer,
            image,
        }))
    }
}

impl LocalStamp {
    /// The seal drawn here offline for `visible`: the verification URL from `--verify-url`,
    /// else `verify_url_env` (the value of `SEGEL_VERIFY_URL`); the template from the file or
    /// built in; the given document id or a new one. The agency name is left empty: the
    /// signer certificate's organisation fills it.
    ///
    /// # Errors
    /// [`ClientError::Settings`] without a verification URL; [`ClientError::Seal`] for a bad
    /// URL, template or document id; [`ClientError::Read`] for an unreadable template.
    pub(crate) fn seal(
        &self,
        visible: VisibleOptions,
        verify_url_env: Option<String>,
    ) -> Result<Seal, ClientError> {
        let url = self
            .verify_url
            .clone()
            .or(verify_url_env.filter(|u| !u.is_empty()))
            .ok_or_else(|| {
                ClientError::Settings(format!(
                    "a visible seal needs the verification base URL its QR code links to \
                     (URL/d/DOCUMENT_ID): give --verify-url URL or set {VERIFY_URL_ENV}"
                ))
            })?;
        let mut settings = StampSettings::new("", &url)?;
        if let Some(path) = &self.stamp_template {
            let bytes = read_limited(path, MAX_TEMPLATE, StampError::Template)?;
            let text = String::from_utf8(bytes).map_err(|_| {
                StampError::Template(format!("{} is not UTF-8 text", path.display()))
            })?;
            settings.template = StampTemplate::parse_text(&text)?;
        }
        let document_id = match &self.document_id {
            Some(id) => DocumentId::parse(id)?,
            None => DocumentId::generate(),
        };
        Ok(Seal {
            settings,
            visible,
            document_id,
        })
    }
}

/// The seal `segel sign` draws offline, if one is asked for: `stamp`'s options for `look`'s
/// field and page, with `local`'s settings ([`LocalStamp::seal`]).
///
/// # Errors
/// As [`Stamp::options`] and [`LocalStamp::seal`].
pub(crate) fn offline_seal(
    stamp: &Stamp,
    local: &LocalStamp,
    look: &crate::args::Look,
    verify_url_env: Option<String>,
) -> Result<Option<Seal>, ClientError> {
    stamp
        .options(look.field.as_deref(), look.page)?
        .map(|v| local.seal(v, verify_url_env))
        .transpose()
}

/// A file of at most `limit` bytes; `refuse` says what a larger one is.
fn read_limited(
    path: &std::path::Path,
    limit: u64,
    refuse: fn(String) -> StampError,
) -> Result<Vec<u8>, ClientError> {
    use std::io::Read;
    let read_err = |source| ClientError::Read {
        path: path.to_path_buf(),
        source,
    };
    let f = std::fs::File::open(path).map_err(read_err)?;
    let mut bytes = Vec::new();
    f.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > limit {
        let why = format!("{} is larger than {limit} bytes", path.display());
        return Err(refuse(why).into());
    }
    Ok(bytes)
}

fn read_image(path: &std::path::Path) -> Result<Vec<u8>, ClientError> {
    read_limited(path, MAX_IMAGE, StampError::Image)
}

/// The lines `segel sign` prints for a visible seal, stable for scripts: `document id: ID`
/// and `verification link: URL`.
pub(crate) fn print_seal(document_id: Option<&str>, link: Option<&str>) {
    if let Some(id) = document_id {
        println!("document id: {id}");
    }
    if let Some(link) = link {
        println!("verification link: {link}");
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::args::{Cli, Command};

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        let mut all = vec!["segel", "sign", "in.pdf", "-o", "out.pdf"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all)
    }

    fn sign(args: &[&str]) -> (Stamp, LocalStamp, crate::args::Look) {
        match parse(args).expect("parses").command {
            Command::Sign {
                stamp, local, look, ..
            } => (stamp, local, look),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tag_and_rect_imply_visible_and_exclude_each_other() {
        let (s, _, look) = sign(&["--tag", "#ttd#"]);
        let v = s.options(None, look.page).expect("ok").expect("visible");
        assert_eq!(
            v.placement,
            Placement::Tag {
                text: "#ttd#".into(),
                width: DEFAULT_WIDTH,
                height: DEFAULT_HEIGHT
            }
        );
        let (s, _, look) = sign(&["--page", "2", "--rect", "36, 500.5,180,90"]);
        assert_eq!(
            s.options(None, look.page)
                .expect("ok")
                .expect("visible")
                .placement,
            Placement::Rect {
                page: 2,
                x: 36.0,
                y: 500.5,
                width: 180.0,
                height: 90.0
            }
        );
        let e = parse(&["--tag", "#ttd#", "--rect", "1,2,3,4"]).expect_err("conflict");
        assert_eq!(e.kind(), clap::error::ErrorKind::ArgumentConflict, "{e}");
        let e = parse(&["--rect", "1,2,3,4", "--size", "200,100"]).expect_err("conflict");
        assert_eq!(e.kind(), clap::error::ErrorKind::ArgumentConflict, "{e}");
        let (s, _, _) = sign(&[]);
        assert!(!s.wanted());
        assert_eq!(s.options(None, 1).expect("ok"), None);
    }

    #[test]
    fn visible_alone_signs_into_the_named_field_or_is_refused() {
        let (s, _, look) = sign(&["--visible", "--field", "Pejabat"]);
        let v = s
            .options(look.field.as_deref(), look.page)
            .expect("ok")
            .expect("visible");
        assert_eq!(v.placement, Placement::Field);
        let (s, _, _) = sign(&["--visible"]);
        let e = s.options(None, 1).expect_err("no place").to_string();
        assert!(e.contains("--tag") && e.contains("--field"), "{e}");
    }

    #[test]
    fn seal_flags_need_a_seal() {
        for args in [
            &["--stamp-field", "nama=Budi"][..],
            &["--footer"],
            &["--size", "200,100"],
            &["--image", "logo.png"],
            &["--verify-url", "http://x"],
            &["--document-id", "AbCdEfGhIjKlMnOpQrStUv"],
            &["--stamp-template", "t.txt"],
        ] {
            let e = parse(args).expect_err("needs a seal");
            assert_eq!(
                e.kind(),
                clap::error::ErrorKind::MissingRequiredArgument,
                "{args:?}: {e}"
            );
        }
        // Offline-only flags are refused online.
        let e = parse(&[
            "--agency",
            "dev",
            "--tag",
            "#ttd#",
            "--verify-url",
            "http://x",
        ])
        .expect_err("offline only");
        assert_eq!(e.kind(), clap::error::ErrorKind::ArgumentConflict, "{e}");
        // Online, the seal's common flags, --certify and --lock-fields are accepted.
        let (s, _, look) = sign(&[
            "--agency",
            "dev",
            "--tag",
            "#ttd#",
            "--stamp-field",
            "nama=Budi Santoso",
            "--footer",
            "--certify",
            "2",
            "--lock-fields",
        ]);
        assert!(s.footer && s.wanted());
        let o = look.options();
        assert_eq!((o.certify, o.lock_fields), (Some(2), true));
    }

    #[test]
    fn stamp_fields_are_key_value_pairs() {
        let (s, _, _) = sign(&[
            "--tag",
            "#ttd#",
            "--stamp-field",
            "nama=Budi = Santoso",
            "--stamp-field",
            " nip = 198702 ",
        ]);
        let v = s.options(None, 1).expect("ok").expect("visible");
        assert_eq!(v.fields["nama"], "Budi = Santoso");
        assert_eq!(v.fields["nip"], "198702");
        for bad in ["nama", "=Budi", "nama=", "nama=  "] {
            let e = parse(&["--tag", "x", "--stamp-field", bad]).expect_err(bad);
            assert_eq!(
                e.kind(),
                clap::error::ErrorKind::ValueValidation,
                "{bad}: {e}"
            );
        }
        // Names of the wrong form, computed values and repeats are refused when resolved.
        for args in [
            &["--stamp-field", "Nama=Budi"][..],
            &["--stamp-field", "tanggal=1 Januari"],
            &["--stamp-field", "nama=A", "--stamp-field", "nama=B"],
        ] {
            let mut all = vec!["--tag", "#ttd#"];
            all.extend_from_slice(args);
            let (s, _, _) = sign(&all);
            let e = s.options(None, 1).expect_err("refused");
            assert!(matches!(e, ClientError::Seal { .. }), "{args:?}: {e}");
        }
    }

    #[test]
    fn rectangles_and_sizes_are_finite_non_negative_points() {
        assert_eq!(
            parse_rect("0,0,200,110"),
            Ok(Rect {
                x: 0.0,
                y: 0.0,
                width: 200.0,
                height: 110.0
            })
        );
        for bad in [
            "NaN,0,200,110",
            "0,nan,200,110",
            "inf,0,1,1",
            "0,0,-infinity,1",
            "-1,0,200,110",
            "0,-0.5,200,110",
            "0,0,0,110",
            "0,0,200,-110",
            "0,0,200",
            "0,0,200,110,5",
            "0,0,2e9,110",
            "a,b,c,d",
            "",
            ",,,",
        ] {
            assert!(parse_rect(bad).is_err(), "{bad:?} accepted");
            let arg = format!("--rect={bad}");
            let e = parse(&[&arg]).expect_err(bad);
            assert_eq!(e.kind(), clap::error::ErrorKind::ValueValidation, "{bad}");
        }
        assert_eq!(parse_size("180.5, 95"), Ok((180.5, 95.0)));
        for bad in ["NaN,1", "1,inf", "0,1", "-5,10", "1", "1,2,3", "99999,1"] {
            assert!(parse_size(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn an_offline_seal_needs_a_verify_url_and_checks_the_document_id() {
        let visible = || VisibleOptions {
            placement: Placement::Field,
            fields: BTreeMap::new(),
            footer: false,
            image: None,
        };
        let (_, local, _) = sign(&["--tag", "#ttd#"]);
        let e = local.seal(visible(), None).expect_err("no URL").to_string();
        assert!(
            e.contains("--verify-url") && e.contains(VERIFY_URL_ENV),
            "{e}"
        );
        let seal = local
            .seal(visible(), Some("http://127.0.0.1:8080/".into()))
            .expect("from the environment");
        assert_eq!(seal.document_id.as_str().len(), 22);
        assert_eq!(
            seal.link(),
            format!("http://127.0.0.1:8080/d/{}", seal.document_id)
        );
        let (_, local, _) = sign(&[
            "--tag",
            "#ttd#",
            "--verify-url",
            "https://segel.example.go.id",
            "--document-id",
            "AbCdEfGhIjKlMnOpQrStUv",
        ]);
        let seal = local
            .seal(visible(), Some("http://ignored".into()))
            .expect("flag first");
        assert_eq!(
            seal.link(),
            "https://segel.example.go.id/d/AbCdEfGhIjKlMnOpQrStUv"
        );
        for (flag, value) in [
            ("--document-id", "short"),
            ("--document-id", "has/slash/in/it/12345"),
            ("--verify-url", "javascript:alert(1)"),
        ] {
            let (_, local, _) = sign(&["--tag", "#ttd#", flag, value]);
            let e = local
                .seal(visible(), Some("http://127.0.0.1:8080".into()))
                .expect_err(value);
            assert!(matches!(e, ClientError::Seal { .. }), "{value}: {e}");
        }
    }

    #[test]
    fn oversized_or_missing_files_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let big = dir.path().join("big.png");
        std::fs::write(&big, vec![0u8; (MAX_IMAGE + 1) as usize]).expect("write");
        let big = big.display().to_string();
        let (s, _, _) = sign(&["--tag", "#ttd#", "--image", &big]);
        let e = s.options(None, 1).expect_err("too large").to_string();
        assert!(e.contains("larger than"), "{e}");
        let (s, _, _) = sign(&["--tag", "#ttd#", "--image", "/nonexistent/logo.png"]);
        let e = s.options(None, 1).expect_err("missing");
        assert!(matches!(e, ClientError::Read { .. }), "{e}");
        let t = dir.path().join("t.txt");
        std::fs::write(&t, "# a comment\n*{instansi}\n{nama\n").expect("write");
        let t = t.display().to_string();
        let (s, local, _) = sign(&["--tag", "#ttd#", "--stamp-template", &t]);
        let v = s.options(None, 1).expect("ok").expect("visible");
        let e = local
            .seal(v, Some("http://127.0.0.1:8080".into()))
            .expect_err("bad template")
            .to_string();
        assert!(e.contains("line 2"), "{e}");
    }
}

//! An agency's visible-seal settings: `[agency.stamp]` as written, resolved into the engine's
//! [`StampSettings`] (the image file read, every value checked) at start and by `--check`.
//!
//! ```toml
//! [agency.stamp]
//! verify_url = "https://segel.example.go.id"   # required: the QR code links to
//!                                              # {verify_url}/d/{document_id}
//! template = [                                 # optional: lines of pades::stamp::StampTemplate
//!   "Ditandatangani secara elektronik oleh:",  # ('?' optional line, '*' bold, {placeholders});
//!   "?{jabatan}",                              # default StampTemplate::seal_default()
//!   "*{instansi}",
//!   "?*{nama}",
//!   "?NIP. {nip}",
//!   "{tanggal}",
//! ]
//! footer = "Dokumen ini … {verify_url}"        # optional: the footer note (default DEFAULT_FOOTER)
//! image = "certs/logo.png"                     # optional: PNG or JPEG, at most 512 KiB
//! ```
//!
//! An agency without `[agency.stamp]` signs invisibly only: a visible request for it is
//! FAILED_PRECONDITION (`STAMP_NOT_CONFIGURED`).

use std::path::{Path, PathBuf};

use pades::stamp::template::DEFAULT_FOOTER;
use pades::stamp::{StampSettings, StampTemplate};

/// Most bytes of a stamp image (an agency's logo or specimen, or a request's).
pub const MAX_STAMP_IMAGE: usize = 512 << 10;

/// `[agency.stamp]`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStamp {
    /// Verification base URL (`http://` or `https://`); required.
    #[serde(default)]
    pub verify_url: Option<String>,
    /// Template lines; the built-in seal template when left out.
    #[serde(default)]
    pub template: Option<Vec<String>>,
    /// Footer note; the built-in footer when left out.
    #[serde(default)]
    pub footer: Option<String>,
    /// A PNG or JPEG file shown on every seal of the agency.
    #[serde(default)]
    pub image: Option<PathBuf>,
}

impl RawStamp {
    /// The development configuration's stamp: built-in template and footer, the local
    /// verification page.
    pub fn dev() -> Self {
        Self {
            verify_url: Some("http://127.0.0.1:8080".into()),
            ..Self::default()
        }
    }

    /// Check every value and read the image, for the agency named `agency_name`.
    ///
    /// # Errors
    /// A message naming the key at fault (`stamp.verify_url`, `stamp.template`, `stamp.footer`,
    /// `stamp.image`); the caller adds the agency.
    pub fn resolve(&self, agency_name: &str) -> Result<StampSettings, String> {
        let url = self.verify_url.as_deref().ok_or_else(|| {
            "stamp.verify_url is required for visible seals (or leave out [agency.stamp])"
                .to_string()
        })?;
        let mut settings =
            StampSettings::new(agency_name, url).map_err(|e| format!("stamp.verify_url: {e}"))?;
        if let Some(lines) = &self.template {
            settings.template =
                StampTemplate::parse(lines).map_err(|e| format!("stamp.template: {e}"))?;
        }
        let footer = self.footer.as_deref().unwrap_or(DEFAULT_FOOTER);
        StampTemplate::parse(&[footer]).map_err(|e| format!("stamp.footer: {e}"))?;
        settings.footer = footer.to_string();
        if let Some(path) = &self.image {
            settings.image = Some(read_image(path).map_err(|e| format!("stamp.image: {e}"))?);
        }
        Ok(settings)
    }
}

/// A PNG or JPEG file of at most [`MAX_STAMP_IMAGE`] bytes (its content is checked again
/// where the engine draws it).
fn read_image(path: &Path) -> Result<Vec<u8>, String> {
    let len = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    if len > MAX_STAMP_IMAGE as u64 {
        return Err(format!(
            "{} has {len} bytes; the limit is {MAX_STAMP_IMAGE}",
            path.display()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() > MAX_STAMP_IMAGE {
        return Err(format!(
            "{} has {} bytes; the limit is {MAX_STAMP_IMAGE}",
            path.display(),
            bytes.len()
        ));
    }
    if !is_png_or_jpeg(&bytes) {
        return Err(format!("{} is neither a PNG nor a JPEG", path.display()));
    }
    Ok(bytes)
}

/// Whether `b` opens like a PNG (its 8-byte signature) or a JPEG (SOI and a marker).
pub fn is_png_or_jpeg(b: &[u8]) -> bool {
    b.starts_with(b"\x89PNG\r\n\x1a\n") || b.starts_with(&[0xff, 0xd8, 0xff])
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    /// The development configuration seals visibly; an agency's stamp is checked where the
    /// configuration is resolved, naming the agency and the key.
    #[test]
    fn agencies_resolve_their_stamp_settings() {
        use crate::config::{dev, RawConfig};
        let t = tempfile::tempdir().expect("tempdir");
        let certs = t.path().join("certs");
        segel_devpki::generate(&certs).expect("dev PKI");
        let now = || pades::UnixTime::now().0;
        let raw = dev(&certs, &t.path().join("log"), "127.0.0.1:0");
        let cfg = raw.resolve(now()).expect("dev config");
        let stamp = cfg.agencies["dev"]
            .stamp
            .as_ref()
            .expect("dev seals visibly");
        assert_eq!(stamp.verify_url, "http://127.0.0.1:8080");

        // Stamp settings are checked at start, naming the agency and the key.
        let mut no_url = raw.clone();
        no_url.agencies[0].stamp = Some(RawStamp::default());
        let e = no_url.resolve(now()).expect_err("refused").to_string();
        assert!(
            e.starts_with("agency dev: stamp.verify_url is required"),
            "{e}"
        );
        let mut invisible = raw.clone();
        invisible.agencies[0].stamp = None;
        assert!(invisible.resolve(now()).expect("resolves").agencies["dev"]
            .stamp
            .is_none());
        let toml = "listen = \"127.0.0.1:0\"\ndata = \"d\"\n[tls]\ncert = \"c\"\nkey = \"k\"\n\
                    client_ca = \"ca\"\n[[agency]]\nid = \"a\"\nname = \"A\"\nkey = \"k\"\n\
                    cert = \"c\"\n[agency.stamp]\nverify_url = \"https://x.go.id\"\n\
                    template = [\"*{instansi}\"]\n";
        let parsed = RawConfig::parse(toml).expect("parses");
        let s = parsed.agencies[0].stamp.as_ref().expect("stamp table");
        assert_eq!(
            s.template.as_deref(),
            Some(&["*{instansi}".to_string()][..])
        );
        let e = RawConfig::parse(&format!("{toml}colour = \"red\"\n"))
            .expect_err("unknown stamp key")
            .to_string();
        assert!(e.contains("colour"), "{e}");
    }

    #[test]
    fn defaults_fill_what_is_left_out() {
        let s = RawStamp::dev().resolve("Dev Agency").expect("dev stamp");
        assert_eq!(s.verify_url, "http://127.0.0.1:8080");
        assert_eq!(s.template, StampTemplate::seal_default());
        assert_eq!(s.footer, DEFAULT_FOOTER);
        assert_eq!((s.agency_name.as_str(), s.image), ("Dev Agency", None));
    }

    #[test]
    fn every_bad_value_names_its_key() {
        let t = tempfile::tempdir().expect("tempdir");
        let write = |name: &str, bytes: &[u8]| {
            let p = t.path().join(name);
            std::fs::write(&p, bytes).expect("write");
            p
        };
        let cases: Vec<(RawStamp, &str)> = vec![
            (RawStamp::default(), "stamp.verify_url is required"),
            (
                RawStamp {
                    verify_url: Some("javascript:alert(1)".into()),
                    ..RawStamp::default()
                },
                "stamp.verify_url",
            ),
            (
                RawStamp {
                    template: Some(vec!["{nama".into()]),
                    ..RawStamp::dev()
                },
                "stamp.template",
            ),
            (
                RawStamp {
                    template: Some(vec!["x".into(); 13]),
                    ..RawStamp::dev()
                },
                "stamp.template",
            ),
            (
                RawStamp {
                    template: Some(vec![]),
                    ..RawStamp::dev()
                },
                "stamp.template",
            ),
            (
                RawStamp {
                    footer: Some("Periksa di {verify_url".into()),
                    ..RawStamp::dev()
                },
                "stamp.footer",
            ),
            (
                RawStamp {
                    image: Some(t.path().join("missing.png")),
                    ..RawStamp::dev()
                },
                "stamp.image",
            ),
            (
                RawStamp {
                    image: Some(write("fake.png", b"GIF89a not a png")),
                    ..RawStamp::dev()
                },
                "neither a PNG nor a JPEG",
            ),
            (
                RawStamp {
                    image: Some(write(
                        "huge.png",
                        &[PNG, &vec![0; MAX_STAMP_IMAGE]].concat(),
                    )),
                    ..RawStamp::dev()
                },
                "the limit is 524288",
            ),
        ];
        for (raw, want) in cases {
            let e = raw.resolve("A").expect_err(want);
            assert!(e.contains(want), "{want}: {e}");
        }
        let ok = RawStamp {
            image: Some(write("logo.png", PNG)),
            template: Some(vec!["*{instansi}".into(), "{tanggal}".into()]),
            footer: Some("Asli: {tautan}".into()),
            ..RawStamp::dev()
        }
        .resolve("A")
        .expect("resolves");
        assert_eq!(ok.image.as_deref(), Some(PNG));
        assert_eq!(ok.template.sources(), ["*{instansi}", "{tanggal}"]);
        assert_eq!(ok.footer, "Asli: {tautan}");
        assert!(is_png_or_jpeg(&[0xff, 0xd8, 0xff, 0xe0]));
        assert!(!is_png_or_jpeg(&[0xff, 0xd8]));
    }
}

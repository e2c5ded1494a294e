//! The footer note on every page ("this document was signed electronically; scan the QR
//! code …"), drawn by [`crate::stamp::Footer`] and added to each page by the update.
//!
//! It changes every page's content, so it is only ever added to a document without
//! signatures (the caller checks). Each page gets two more content streams around its own:
//! enough `q` before that the page's content never pops below them, and after it as many `Q`
//! as are then open, so that whatever graphics state the page leaves behind (even content that
//! pops states it did not push, or leaves some pushed) is undone; then
//! `q <to user space> cm <footer> Q`. Its resources get the footer's font under a name the page
//! does not use. One font (a subset for the footer's text) serves every page.

use std::io::Write as _;

use crate::error::{Error, Result};
use crate::pdf::object::{Dict, ObjRef, Object};
use crate::pdf::update::Update;
use crate::pdf::Document;
use crate::place::{each_page, page_balance, Page};
use crate::stamp::{Footer, StampError};

/// Most graphics states pushed before a page's content that pops more than it pushes.
const MAX_EXTRA_STATES: i64 = 64;

/// Most pages a footer is added to: every page is rewritten and gets a content stream, so the
/// update grows with the page count; a letter has a few pages, a long report some hundreds.
pub(crate) const MAX_FOOTER_PAGES: u32 = 2000;

/// Add the footer `text` to every page of `doc`.
///
/// # Errors
/// Text the font cannot show or too long, a page too narrow, a malformed page tree, page or
/// resources dictionary.
pub(super) fn add_footer(
    update: &mut Update<'_, '_>,
    doc: &Document<'_>,
    catalog: &Dict,
    text: &str,
) -> Result<()> {
    let footer = Footer::new(text)?;
    let (font_ref, objects) = footer.font_objects(&mut || update.allocate());
    for (r, body) in objects {
        update.put(r, body);
    }
    // The one `q` most pages need, shared.
    let open_ref = update.allocate();
    update.put(open_ref, stream_body(b"q\n"));
    each_page(doc, catalog, |page| {
        if page.number > MAX_FOOTER_PAGES {
            return Err(StampError::FooterTooManyPages {
                pages: page.number,
                limit: MAX_FOOTER_PAGES,
            }
            .into());
        }
        add_to_page(update, doc, page, &footer, font_ref, open_ref)?;
        Ok(None::<()>)
    })?;
    Ok(())
}

/// Add the footer's content streams and font to one page (the page object is rewritten).
fn add_to_page(
    update: &mut Update<'_, '_>,
    doc: &Document<'_>,
    page: &Page,
    footer: &Footer,
    font_ref: ObjRef,
    open_ref: ObjRef,
) -> Result<()> {
    let mut resources = match &page.resources {
        Some(r) => doc.resolve_dict(r, "a page's /Resources")?,
        None => Dict::new(),
    };
    let mut fonts = match resources.get(b"Font") {
        Some(f) => doc.resolve_dict(f, "a page's /Font resources")?,
        None => Dict::new(),
    };
    let name = unused_name(&fonts);
    fonts.set(name.as_bytes(), Object::Reference(font_ref));
    resources.set(b"Font", Object::Dict(fonts));

    // Push enough states that the page's content never pops ours, pop all that are open after.
    let balance = page_balance(doc, &page.dict)?;
    let opened = 1 + (-balance.lowest).clamp(0, MAX_EXTRA_STATES);
    let open_ref = if opened == 1 {
        open_ref
    } else {
        let r = update.allocate();
        update.put(r, stream_body("q ".repeat(opened as usize).as_bytes()));
        r
    };
    let closing = (opened + balance.end).max(0) as usize;
    let (seen_width, _) = page.geometry.seen_size();
    let mut content = "Q ".repeat(closing).into_bytes();
    content.extend_from_slice(b"\nq");
    for v in page.geometry.seen_to_user() {
        content.push(b' ');
        // At most three decimals, written as any PDF number is.
        Object::Real((v * 1000.0).round() / 1000.0).write(&mut content);
    }
    content.extend_from_slice(b" cm\n");
    content.extend_from_slice(&footer.content(seen_width, &name)?);
    content.extend_from_slice(b"\nQ\n");
    let close_ref = update.allocate();
    update.put(close_ref, stream_body(&content));

    let mut contents = vec![Object::Reference(open_ref)];
    contents.extend(existing_contents(doc, &page.dict)?);
    contents.push(Object::Reference(close_ref));
    let mut dict = update.current_dict(page.r, "a page")?;
    dict.set(b"Contents", Object::Array(contents));
    dict.set(b"Resources", Object::Dict(resources));
    update.put_object(page.r, &Object::Dict(dict));
    Ok(())
}

/// A Flate-compressed content stream object's body.
fn stream_body(data: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = z.write_all(data);
    let packed = z.finish().unwrap_or_default();
    let mut body = format!("<</Length {}/Filter/FlateDecode>>stream\n", packed.len()).into_bytes();
    body.extend_from_slice(&packed);
    body.extend_from_slice(b"\nendstream");
    body
}

/// A font resource name the page does not use yet.
fn unused_name(fonts: &Dict) -> String {
    (0..)
        .map(|i| {
            if i == 0 {
                "SegelFooter".to_string()
            } else {
                format!("SegelFooter{i}")
            }
        })
        .find(|n| fonts.get(n.as_bytes()).is_none())
        .unwrap_or_default()
}

/// The page's `/Contents` as a list of stream references (empty when it has none).
fn existing_contents(doc: &Document<'_>, page: &Dict) -> Result<Vec<Object>> {
    Ok(match page.get(b"Contents") {
        None => Vec::new(),
        Some(Object::Reference(r)) => match doc.resolve(*r)? {
            Object::Array(a) => a,
            Object::Stream(_) => vec![Object::Reference(*r)],
            Object::Null => Vec::new(),
            other => {
                return Err(Error::structure(format!(
                    "a page's /Contents ({r}) is a {}, not a stream or an array",
                    other.type_name()
                )))
            }
        },
        Some(Object::Array(a)) => a.clone(),
        Some(other) => {
            return Err(Error::structure(format!(
                "a page's /Contents is a {}, not a stream or an array",
                other.type_name()
            )))
        }
    })
}

//! The visible seal in the update: where its widget goes ([`crate::place`], or the rectangle of
//! the existing field it signs), its drawing ([`crate::stamp`]) put into the update, and the
//! footer note on every page of an unsigned document ([`super::footer`]).

use crate::error::{Error, FieldError, Result};
use crate::pdf::form::FieldInfo;
use crate::pdf::object::{Dict, ObjRef, Object};
use crate::pdf::update::Update;
use crate::pdf::Document;
use crate::place::{self, each_page, rect_of, Rect};
use crate::stamp::{Appearance, Placement, StampError};

use super::footer::add_footer;

/// A drawn stamp ready for its widget.
#[derive(Debug, Clone)]
pub(super) struct Visible {
    /// The page that shows it.
    pub(super) page_ref: ObjRef,
    /// The widget's `/Rect` in the page's user space.
    pub(super) rect: Rect,
    /// The appearance (form XObject) for `/AP /N`.
    pub(super) form: ObjRef,
    /// The widget's alternate description, `/TU`.
    pub(super) alt: String,
}

impl Visible {
    /// The `/Rect` array.
    pub(super) fn rect_object(&self) -> Object {
        let r = self.rect;
        Object::Array(
            [r.x0, r.y0, r.x1, r.y1]
                .iter()
                .map(|v| Object::Real((v * 1000.0).round() / 1000.0))
                .collect(),
        )
    }
}

/// The visible seal's part of the update: the footer on every page when asked for (only on a
/// document without signatures), then the stamp drawn where it goes.
///
/// # Errors
/// A footer on a signed or certified document, and the errors of [`add_footer`] and [`draw`].
pub(super) fn place(
    update: &mut Update<'_, '_>,
    doc: &Document<'_>,
    catalog: &Dict,
    existing: &[FieldInfo],
    field_name: &str,
    appearance: &Appearance,
) -> Result<Visible> {
    if let Some(text) = &appearance.footer {
        let signed = existing
            .iter()
            .filter(|f| f.is_signature && f.has_value)
            .count();
        if signed > 0 || catalog.get(b"Perms").is_some() {
            return Err(StampError::FooterOnSignedDocument(signed.max(1)).into());
        }
        add_footer(update, doc, catalog, text)?;
    }
    draw(update, doc, catalog, existing, field_name, appearance)
}

/// Find where the stamp goes, draw it and put its objects into the update.
///
/// `field_name` is the field being signed; with [`Placement::Field`] it must be an existing
/// empty signature field whose widget has a rectangle.
fn draw(
    update: &mut Update<'_, '_>,
    doc: &Document<'_>,
    catalog: &Dict,
    existing: &[FieldInfo],
    field_name: &str,
    appearance: &Appearance,
) -> Result<Visible> {
    let (page_ref, rect, rotate, width, height) = match &appearance.placement {
        Placement::Field => field_box(doc, catalog, existing, field_name)?,
        placement => {
            if existing.iter().any(|f| f.name == field_name) {
                return Err(StampError::Placement(format!(
                    "the field {field_name:?} exists and has its own rectangle: sign into it \
                     without a tag or rectangle, or choose a new field name"
                ))
                .into());
            }
            let at = place::locate(doc, catalog, placement)?;
            (at.page_ref, at.rect, at.rotate, at.width, at.height)
        }
    };
    let drawn =
        crate::stamp::draw_stamp(appearance, width, height, rotate, &mut || update.allocate())?;
    for (r, body) in drawn.objects {
        update.put(r, body);
    }
    Ok(Visible {
        page_ref,
        rect,
        form: drawn.form,
        alt: appearance.alt_text.clone(),
    })
}

/// The rectangle, page and rotation of the existing empty signature field `name`'s widget, and
/// the stamp's size as the reader sees it.
fn field_box(
    doc: &Document<'_>,
    catalog: &Dict,
    existing: &[FieldInfo],
    name: &str,
) -> Result<(ObjRef, Rect, u16, f64, f64)> {
    let field = existing.iter().find(|f| f.name == name).ok_or_else(|| {
        StampError::Placement(format!(
            "there is no signature field {name:?} to draw the seal into; give a tag or a \
             rectangle"
        ))
    })?;
    let (widget_ref, widget) = widget_of(doc, field.r)?;
    let rect = widget
        .get(b"Rect")
        .map(|r| doc.deref(r))
        .transpose()?
        .and_then(|r| rect_of(&r))
        .filter(|r| r.width() >= 1.0 && r.height() >= 1.0)
        .ok_or_else(|| {
            StampError::Placement(format!(
                "the signature field {name:?} has no rectangle to draw the seal into (an \
                 invisible field); give a tag or a rectangle and another field name"
            ))
        })?;
    // The page that lists the widget in its /Annots (its /P is only a hint that may lie).
    let page = each_page(doc, catalog, |p| {
        let annots = match p.dict.get(b"Annots") {
            Some(a) => doc.deref(a)?,
            None => Object::Null,
        };
        let listed = annots
            .as_array()
            .is_some_and(|a| a.contains(&Object::Reference(widget_ref)));
        Ok(listed.then(|| p.clone()))
    })?
    .ok_or_else(|| {
        StampError::Placement(format!(
            "the widget of signature field {name:?} is on no page's /Annots"
        ))
    })?;
    let rotate = page.geometry.rotate;
    let (w, h) = (rect.width(), rect.height());
    let (width, height) = if rotate % 180 == 90 { (h, w) } else { (w, h) };
    Ok((page.r, rect, rotate, width, height))
}

/// The widget of a field: the field itself when it is merged with its widget (it has a
/// `/Rect` or `/Subtype /Widget`), else its first kid.
pub(super) fn widget_of(doc: &Document<'_>, field: ObjRef) -> Result<(ObjRef, Dict)> {
    let d = doc.resolve_dict(&Object::Reference(field), "the signature field")?;
    if d.get(b"Rect").is_some() || d.get(b"Subtype").and_then(Object::as_name) == Some(b"Widget") {
        return Ok((field, d));
    }
    let kid = match d.get(b"Kids").map(|k| doc.deref(k)).transpose()? {
        Some(Object::Array(kids)) => kids.first().and_then(Object::as_ref),
        _ => None,
    }
    .ok_or_else(|| {
        Error::Field(FieldError::BadName(format!(
            "signature field {field} has neither a rectangle nor a widget kid"
        )))
    })?;
    Ok((
        kid,
        doc.resolve_dict(&Object::Reference(kid), "a signature widget")?,
    ))
}

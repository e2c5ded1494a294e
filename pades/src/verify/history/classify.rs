//! How far-reaching one object's change is, given its role in the older revision: catalog,
//! form, page tree, page, field or widget, annotation, anything else (content).

use std::collections::{HashMap, HashSet};

use super::*;
use crate::pdf::object::{Dict, ObjRef, Object};
use crate::pdf::Document;

/// How a revision changed the value of a field (keyed by the object that holds `/V`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fill {
    /// Empty before (no `/V`, an empty string, `/Off`), a value now.
    Filled,
    /// Had a value, now another (or none).
    Changed,
}

/// Is a field value empty (nothing shown)?
pub(super) fn is_empty_value(v: Option<&Object>) -> bool {
    match v {
        None | Some(Object::Null) => true,
        Some(Object::String(s)) => s.is_empty(),
        Some(Object::Name(n)) => n.as_slice() == b"Off",
        Some(_) => false,
    }
}

/// Keys whose values differ between two dictionaries.
pub(super) fn changed_keys(a: &Dict, b: &Dict) -> Vec<Vec<u8>> {
    // Maps, not `Dict::get`: a dictionary of K keys is compared in O(K log K), not O(K²).
    let am: HashMap<&[u8], &Object> = a.iter().collect();
    let bm: HashMap<&[u8], &Object> = b.iter().collect();
    let mut keys: Vec<Vec<u8>> = a
        .iter()
        .filter(|(k, v)| bm.get(k) != Some(v))
        .map(|(k, _)| k.to_vec())
        .collect();
    keys.extend(
        b.iter()
            .filter(|(k, _)| !am.contains_key(k))
            .map(|(k, _)| k.to_vec()),
    );
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Most keys named in a change's description, and most bytes of each name.
pub(super) const NAMED_KEYS: usize = 8;

pub(super) const NAME_BYTES: usize = 40;

pub(super) fn names(keys: &[Vec<u8>]) -> String {
    let mut out: Vec<String> = keys
        .iter()
        .take(NAMED_KEYS)
        .map(|k| {
            format!(
                "/{}",
                String::from_utf8_lossy(&k[..k.len().min(NAME_BYTES)])
            )
        })
        .collect();
    if keys.len() > NAMED_KEYS {
        out.push(format!("and {} more", keys.len() - NAMED_KEYS));
    }
    out.join(" ")
}

pub(super) fn classify(
    ctx: &Context<'_>,
    n: u32,
    before: &Object,
    after: &Object,
    old: &Document<'_>,
    new: &Document<'_>,
    last: &Document<'_>,
) -> (ChangeLevel, Option<String>, String) {
    use ChangeLevel::*;
    // Arrays: only appending allowed entries to a page's /Annots or the form's /Fields.
    if let (Object::Array(a), Object::Array(b)) = (before, after) {
        if let Some(&page) = ctx.roles.annot_arrays.get(&n) {
            return appended(
                ctx,
                a,
                b,
                new,
                last,
                &format!("array object {n}"),
                Some(page),
            );
        }
        if ctx.roles.fields_array == Some(n) {
            return appended(ctx, a, b, new, last, &format!("array object {n}"), None);
        }
        if let Some(c) = structure::array_change(ctx, n, a, b, new, last) {
            return c;
        }
        return (Content, None, format!("array object {n} changed"));
    }
    let (Some(a), Some(b)) = (before.as_dict(), after.as_dict()) else {
        return (
            Content,
            None,
            format!("object {n} ({}) was replaced", describe(before)),
        );
    };
    if matches!(before, Object::Stream(_)) || matches!(after, Object::Stream(_)) {
        return (
            Content,
            None,
            format!("stream object {n} ({}) was replaced", describe(before)),
        );
    }
    let keys = changed_keys(a, b);
    if Some(n) == ctx.info {
        return (
            Ltv,
            None,
            format!("document information changed ({})", names(&keys)),
        );
    }
    if Some(n) == ctx.dss {
        return (Ltv, None, "validation data (DSS) updated".into());
    }
    if Some(n) == ctx.root {
        let mut level = Ltv;
        let mut bad = Vec::new();
        for k in &keys {
            match k.as_slice() {
                b"DSS" if ctx.points_at_shown(b.get(b"DSS")) => {
                    level = Content;
                    bad.push("/DSS now points at an object the signed revision shows".into());
                }
                b"DSS" | b"Extensions" => {}
                // Declaring a newer PDF version (pyHanko does when it adds a PAdES signature).
                b"Version" if version_upgrade(a.get(b"Version"), b.get(b"Version"), old) => {}
                b"AcroForm" => {
                    // A new, re-pointed or changed direct form: judge it as a form.
                    let (l, what) = match b.get(b"AcroForm") {
                        Some(f) => {
                            let was = a
                                .get(b"AcroForm")
                                .and_then(|f| old.resolve_dict(f, "form").ok())
                                .unwrap_or_default();
                            match new.resolve_dict(f, "form") {
                                Ok(now) => form_change(ctx, &was, &now, old, new, last),
                                Err(_) => (Content, "the form does not read".into()),
                            }
                        }
                        None => (Content, "the form was removed".into()),
                    };
                    if l > Signatures {
                        bad.push(what);
                    }
                    level = level.max(l);
                }
                _ => {
                    level = Content;
                    bad.push(format!("/{}", String::from_utf8_lossy(k)));
                }
            }
        }
        let what = if bad.is_empty() {
            format!("catalog updated ({})", names(&keys))
        } else {
            format!("catalog changed: {}", bad.join(", "))
        };
        return (level, None, what);
    }
    if Some(n) == ctx.acroform {
        let (level, what) = form_change(ctx, a, b, old, new, last);
        return (level, None, what);
    }
    if ctx.roles.drawn.contains(&n) {
        return (
            Content,
            None,
            format!(
                "object {n} ({}), which a page draws, changed: {}",
                describe(before),
                names(&keys)
            ),
        );
    }
    if ctx.roles.page_nodes.contains(&n) {
        return (
            Content,
            None,
            format!(
                "page tree node object {n} ({}) changed: {}",
                describe(before),
                names(&keys)
            ),
        );
    }
    if ctx.roles.pages.contains(&n) {
        let mut level = Ltv;
        let mut notes = Vec::new();
        for k in &keys {
            if k.as_slice() == b"Annots" {
                let before = resolve_array(old, a.get(b"Annots"));
                let cur = resolve_array(new, b.get(b"Annots"));
                let (l, _, what) = appended(
                    ctx,
                    &before,
                    &cur,
                    new,
                    last,
                    &format!("page object {n} /Annots"),
                    Some(n),
                );
                level = level.max(l);
                notes.push(what);
            } else if k.as_slice() == b"Tabs" && tab_order_for_a_new_widget(ctx, a, b, &keys) {
                // PDF/UA asks a page with annotations of a tagged document to take them in
                // structure order: set along with the page's first new widget, it changes
                // only the order of keyboard focus.
                level = level.max(Signatures);
                notes.push(format!("page object {n}: /Tabs /S set"));
            } else {
                level = Content;
                notes.push(format!(
                    "page object {n}: /{} changed",
                    String::from_utf8_lossy(k)
                ));
            }
        }
        return (level, None, notes.join("; "));
    }
    let is_widget = a.get(b"Subtype").and_then(Object::as_name) == Some(b"Widget");
    // A field is a widget or a dictionary without /Subtype: another annotation listed among
    // the fields is still an annotation.
    let field_like = a.get(b"Subtype").is_none() || is_widget;
    let in_form = field_like && ctx.roles.fields.contains(&n)
        || (is_widget
            && ctx.roles.annots.contains(&n)
            && a.get(b"Parent")
                .and_then(Object::as_ref)
                .is_some_and(|p| ctx.roles.fields.contains(&p.num)));
    if in_form {
        return field_change(ctx, n, a, b, &keys, old, new);
    }
    if ctx.roles.annots.contains(&n) {
        return (
            Annotations,
            None,
            format!("annotation object {n} changed ({})", names(&keys)),
        );
    }
    if let Some(c) = structure::dict_change(ctx, n, a, b, old, new, last) {
        return c;
    }
    (
        Content,
        None,
        format!(
            "object {n} ({}) changed: {}",
            describe(before),
            names(&keys)
        ),
    )
}

/// A field or widget of the form changed from `a` to `b`.
pub(super) fn field_change(
    ctx: &Context<'_>,
    n: u32,
    a: &Dict,
    b: &Dict,
    keys: &[Vec<u8>],
    old: &Document<'_>,
    new: &Document<'_>,
) -> (ChangeLevel, Option<String>, String) {
    use ChangeLevel::*;
    // Named as signed: a rename must not slip past a lock on the old name.
    let field = field_name(old, a);
    let shown = field.as_deref().unwrap_or("?");
    let sig = field_type(new, a).as_deref() == Some(b"Sig");
    // The field whose value this widget shows, and how this revision changed it.
    let owner = value_owner(new, n, b);
    let fill = ctx.fills.get(&owner).copied();
    let mut level = if sig { Signatures } else { FormFilling };
    for k in keys {
        match k.as_slice() {
            // A value belongs to a field (a dictionary with /T); a widget's own /V shows
            // nowhere but may fool a reader of its appearance.
            b"V" if a.get(b"T").is_none() => {
                return (
                    Annotations,
                    field,
                    format!("a value (/V) was set on widget object {n}, which is not a field"),
                )
            }
            b"V" if sig => {
                if a.get(b"V").is_some() {
                    return (
                        Content,
                        field,
                        format!("the value of signature field object {n} was replaced"),
                    );
                }
            }
            b"V" => {
                if !is_empty_value(a.get(b"V")) {
                    level = level.max(FormChanges);
                }
            }
            key @ (b"AP" | b"AS") => {
                let key = String::from_utf8_lossy(key);
                match fill {
                    // A new appearance for a field filled (or signed) in this revision.
                    Some(Fill::Filled) => {}
                    Some(Fill::Changed) => level = level.max(FormChanges),
                    None => {
                        return (
                            Annotations,
                            field.clone(),
                            format!(
                                "the appearance (/{key}) of field {shown} (object {n}) \
                                 changed but its value did not: the page shows something \
                                 else than what was signed"
                            ),
                        )
                    }
                }
                if let Some(bad) = state_mismatch(new, owner, b) {
                    return (
                        Annotations,
                        field.clone(),
                        format!("field {shown} (object {n}) {bad}"),
                    );
                }
            }
            other => {
                return (
                    Annotations,
                    field,
                    format!(
                        "field/widget object {n}: /{} changed",
                        String::from_utf8_lossy(other)
                    ),
                )
            }
        }
    }
    // A signature field that was there, empty, and gets a visible appearance as it is signed:
    // named like a new visible signature widget.
    let drawn = keys.iter().any(|k| k.as_slice() == b"AP") && !invisible(new, b);
    if let (Signatures, true, Some(&page), Some(r)) =
        (level, drawn, ctx.roles.annot_pages.get(&n), gen_of(new, n))
    {
        note_visible(ctx, new, r, b, field.clone(), page);
    }
    // An empty signature field signed now: a signing change only if that signature verifies.
    if sig && a.get(b"V").is_none() {
        if let Some(v) = b.get(b"V") {
            ctx.claims.borrow_mut().push(super::Claim {
                end: 0,
                field: field.clone(),
                value: v.as_ref(),
                visible: drawn,
            });
        }
    }
    let what = match level {
        Signatures => format!("signature field {shown} signed"),
        FormChanges => format!("form field {shown} changed its value"),
        _ => format!("form field {shown} filled in"),
    };
    (level, field, what)
}

/// The form dictionary went from `was` to `now`: only `/SigFlags` and appended signature fields
/// are signatures-level; any other change to the form (`/DR`, `/NeedAppearances`, `/DA`, …)
/// changes how fields look and is a form change.
pub(super) fn form_change(
    ctx: &Context<'_>,
    was: &Dict,
    now: &Dict,
    old: &Document<'_>,
    new: &Document<'_>,
    last: &Document<'_>,
) -> (ChangeLevel, String) {
    use ChangeLevel::*;
    let mut level = Ltv;
    let mut bad = Vec::new();
    for k in &changed_keys(was, now) {
        match k.as_slice() {
            b"SigFlags" => {}
            b"Fields" => {
                let before = resolve_array(old, was.get(b"Fields"));
                let cur = resolve_array(new, now.get(b"Fields"));
                let (l, _, what) =
                    appended(ctx, &before, &cur, new, last, "/AcroForm /Fields", None);
                if l > Signatures {
                    bad.push(what);
                }
                level = level.max(l);
            }
            _ => {
                level = level.max(FormChanges);
                bad.push(format!("form /{} changed", String::from_utf8_lossy(k)));
            }
        }
    }
    let what = if bad.is_empty() {
        "signature field added to the form".into()
    } else {
        bad.join(", ")
    };
    (level, what)
}

/// `cur` must be `old` with entries appended: new signature fields (or their widgets) that end
/// up signed and verified, or invisible empty signature fields. `page` is the page whose
/// `/Annots` these are, if so: each visible signed widget added there is named in
/// `ctx.visible`, with its page and rectangle (its appearance may cover signed content).
pub(super) fn appended(
    ctx: &Context<'_>,
    old: &[Object],
    cur: &[Object],
    new: &Document<'_>,
    last: &Document<'_>,
    what: &str,
    page: Option<u32>,
) -> (ChangeLevel, Option<String>, String) {
    use ChangeLevel::*;
    if cur.len() < old.len() || cur[..old.len()] != *old {
        return (
            Content,
            None,
            format!("{what}: existing entries removed or reordered"),
        );
    }
    let mut level = Ltv;
    let mut seen = HashSet::new();
    for extra in &cur[old.len()..] {
        let Some(r) = extra.as_ref() else {
            return (
                Content,
                None,
                format!("{what}: a direct object was appended"),
            );
        };
        if !seen.insert(r) {
            return (Content, None, format!("{what}: {r} appended twice"));
        }
        let Ok(Object::Dict(d)) = new.resolve(r) else {
            return (
                Content,
                None,
                format!("{what}: appended {r} is not a dictionary"),
            );
        };
        let is_annot = d.get(b"Subtype").is_some();
        let other = |why: &str| {
            (
                if is_annot { Annotations } else { Content },
                field_name(new, &d),
                format!(
                    "{what}: {r} ({}) was added{why}",
                    describe(&Object::Dict(d.clone()))
                ),
            )
        };
        if ctx.shown.contains(&r.num) {
            return other(", but it is an object the signed revision already shows");
        }
        // The signature field: the entry itself when it has /T, else its (new) parent.
        let field = if d.get(b"T").is_some() {
            Some(r)
        } else {
            d.get(b"Parent")
                .and_then(Object::as_ref)
                .filter(|p| !ctx.shown.contains(&p.num))
        };
        let Some(field) = field else {
            return other("");
        };
        let Ok(Object::Dict(fd)) = last.resolve(field) else {
            return other("");
        };
        if fd.get(b"T").is_none() || field_type(last, &fd).as_deref() != Some(b"Sig") {
            return other("");
        }
        if !ctx.last_fields.contains(&field.num) {
            return other(", outside the form's fields (so never verified)");
        }
        // A widget of its own (not merged with the field) must be one the field lists among
        // its /Kids: a widget that only points at a signature field is owned by none.
        if field != r && !ctx.last_fields.contains(&r.num) {
            return other(", but its signature field does not list it among its /Kids");
        }
        let value = fd
            .get(b"V")
            .and_then(|v| last.resolve_dict(v, "signature value").ok());
        match value {
            // An empty signature field, for a later signer: harmless while invisible.
            None if invisible(new, &d) => level = level.max(Signatures),
            None => {
                return (
                    Annotations,
                    field_name(new, &d),
                    format!("{what}: an unsigned visible signature widget {r} was added"),
                )
            }
            Some(v) if v.get(b"ByteRange").is_none() || v.get(b"Contents").is_none() => {
                return other(", with a value that is not a signature");
            }
            // A document timestamp (PAdES B-LTA), invisible, is validation data.
            Some(v) if v.has_type(b"DocTimeStamp") && invisible(new, &d) => {}
            Some(_) => {
                level = level.max(Signatures);
                let visible = !invisible(new, &d);
                ctx.claims.borrow_mut().push(super::Claim {
                    end: 0,
                    field: field_name(last, &fd),
                    value: fd.get(b"V").and_then(Object::as_ref),
                    visible,
                });
                if let Some(p) = page.filter(|_| visible) {
                    note_visible(ctx, new, r, &d, field_name(last, &fd), p);
                }
            }
        }
    }
    let added = if level == Ltv {
        "document timestamps added"
    } else {
        "signature fields added"
    };
    (level, None, format!("{what}: {added}"))
}

/// A page of a tagged document gets `/Tabs /S` where it had none, in the revision that adds
/// to its `/Annots`.
fn tab_order_for_a_new_widget(ctx: &Context<'_>, a: &Dict, b: &Dict, keys: &[Vec<u8>]) -> bool {
    ctx.structure.tagged()
        && a.get(b"Tabs").is_none()
        && b.get(b"Tabs").and_then(Object::as_name) == Some(b"S")
        && keys.iter().any(|k| k.as_slice() == b"Annots")
}

/// Name a visible signature widget `r` (dictionary `d`) added to page object `page`: which
/// page and where, since its appearance hides whatever the signed revision shows there.
fn note_visible(
    ctx: &Context<'_>,
    new: &Document<'_>,
    r: ObjRef,
    d: &Dict,
    field: Option<String>,
    page: u32,
) {
    let rect: Vec<String> = resolve_array(new, d.get(b"Rect"))
        .iter()
        .map(|o| match new.deref(o) {
            Ok(Object::Integer(i)) => i.to_string(),
            Ok(Object::Real(x)) if x.is_finite() => format!("{x:.2}"),
            _ => "?".into(),
        })
        .collect();
    let number = ctx
        .roles
        .page_numbers
        .get(&page)
        .map_or_else(|| format!("object {page}"), usize::to_string);
    let what = format!(
        "visible signature widget {r} (field {}) drawn on page {number} at [{}]: its \
         appearance covers what the signed revision shows there",
        field.as_deref().unwrap_or("?"),
        rect.join(" ")
    );
    ctx.visible.borrow_mut().push((r.num, field, what));
}

/// Is the catalog `/Version` change an upgrade (to a higher version than before)?
pub(super) fn version_upgrade(
    before: Option<&Object>,
    after: Option<&Object>,
    old: &Document<'_>,
) -> bool {
    let parse = |o: Option<&Object>| -> Option<(u8, u8)> {
        let n = o?.as_name()?;
        let s = std::str::from_utf8(n).ok()?;
        let (ma, mi) = s.split_once('.')?;
        Some((ma.parse().ok()?, mi.parse().ok()?))
    };
    let was = parse(before).unwrap_or(old.version()).max(old.version());
    parse(after).is_some_and(|v| v >= was && v <= (2, 0))
}

pub(super) fn resolve_array(doc: &Document<'_>, o: Option<&Object>) -> Vec<Object> {
    match o.map(|o| doc.deref(o)) {
        Some(Ok(Object::Array(a))) => a,
        _ => Vec::new(),
    }
}

/// Is the appended entry `d` drawn nowhere? A field that is no widget (no `/Subtype`, no
/// `/Rect`) draws nothing itself: its widgets are judged where they are added to a page.
pub(super) fn invisible(doc: &Document<'_>, d: &Dict) -> bool {
    (d.get(b"Subtype").is_none() && d.get(b"Rect").is_none())
        || hidden(doc, d)
        || (zero_area(doc, d) && draws_nothing(doc, d))
}

/// Is the annotation flagged Hidden (2) or NoView (32)?
fn hidden(doc: &Document<'_>, d: &Dict) -> bool {
    match d.get(b"F").map(|f| doc.deref(f)) {
        Some(Ok(Object::Integer(f))) => f & (2 | 32) != 0,
        _ => false,
    }
}

/// Does the widget's normal appearance draw nothing? No `/AP`, or an `/N` stream with an empty
/// `/BBox` or no data. A zero-area `/Rect` alone does not make a widget invisible: some viewers
/// (Ghostscript) draw its appearance unscaled at the rectangle's corner.
fn draws_nothing(doc: &Document<'_>, d: &Dict) -> bool {
    let Some(ap) = d.get(b"AP") else {
        return true;
    };
    let Ok(Object::Dict(ap)) = doc.deref(ap) else {
        return false;
    };
    let Some(n) = ap.get(b"N") else {
        return true;
    };
    let Ok(Object::Stream(s)) = doc.deref(n) else {
        return false;
    };
    s.data.is_empty() || zero_box(doc, s.dict.get(b"BBox"))
}

/// Is `bbox` four numbers with a zero width or height?
fn zero_box(doc: &Document<'_>, bbox: Option<&Object>) -> bool {
    let nums: Vec<f64> = resolve_array(doc, bbox)
        .iter()
        .filter_map(|o| match doc.deref(o).ok()? {
            Object::Integer(i) => Some(i as f64),
            Object::Real(r) => Some(r),
            _ => None,
        })
        .collect();
    nums.len() == 4 && ((nums[2] - nums[0]).abs() < 1e-9 || (nums[3] - nums[1]).abs() < 1e-9)
}

/// Does the widget `d` cover no area? Its `/Rect` (direct or not, and each number too) must
/// read as four numbers with a zero width or height; anything else counts as visible.
pub(super) fn zero_area(doc: &Document<'_>, d: &Dict) -> bool {
    zero_box(doc, d.get(b"Rect"))
}

/// The field whose value a field or widget shows: the object itself when it has `/T` (a
/// field, possibly merged with its widget), else the nearest ancestor in `doc` with `/T`.
pub(super) fn value_owner(doc: &Document<'_>, n: u32, d: &Dict) -> u32 {
    let mut cur = d.clone();
    let mut owner = n;
    for _ in 0..32 {
        if cur.get(b"T").is_some() {
            return owner;
        }
        let Some(p) = cur.get(b"Parent").and_then(Object::as_ref) else {
            break;
        };
        let Ok(d) = doc.resolve_dict(&Object::Reference(p), "parent field") else {
            break;
        };
        owner = p.num;
        cur = d;
    }
    owner
}

/// A widget's appearance state (`/AS`) must be `/Off` or the value of its field (check boxes
/// and radio buttons); `Some(why)` when it shows another state.
pub(super) fn state_mismatch(doc: &Document<'_>, owner: u32, widget: &Dict) -> Option<String> {
    let state = widget.get(b"AS")?.as_name()?;
    if state == b"Off" {
        return None;
    }
    let value = doc
        .resolve(gen_of(doc, owner)?)
        .ok()?
        .as_dict()?
        .get(b"V")
        .cloned();
    match value {
        Some(Object::Name(v)) if v.as_slice() == state => None,
        Some(Object::Name(v)) => Some(format!(
            "shows the state /{} but its value is /{}",
            String::from_utf8_lossy(state),
            String::from_utf8_lossy(&v)
        )),
        _ => Some(format!(
            "shows the state /{} but has no matching value",
            String::from_utf8_lossy(state)
        )),
    }
}

/// `/FT`, inherited through `/Parent`.
pub(crate) fn field_type(doc: &Document<'_>, d: &Dict) -> Option<Vec<u8>> {
    let mut cur = d.clone();
    for _ in 0..32 {
        if let Some(ft) = cur.get(b"FT").and_then(Object::as_name) {
            return Some(ft.to_vec());
        }
        cur = doc.resolve_dict(cur.get(b"Parent")?, "parent field").ok()?;
    }
    None
}

/// Fully qualified field name through `/Parent`.
pub(crate) fn field_name(doc: &Document<'_>, d: &Dict) -> Option<String> {
    let mut parts = Vec::new();
    let mut cur = d.clone();
    for _ in 0..32 {
        if let Some(t) = cur.get(b"T").and_then(Object::as_string) {
            parts.push(crate::pdf::text::decode_text(t));
        }
        match cur
            .get(b"Parent")
            .and_then(|p| doc.resolve_dict(p, "parent field").ok())
        {
            Some(p) => cur = p,
            None => break,
        }
    }
    if parts.is_empty() {
        None
    } else {
        parts.reverse();
        Some(parts.join("."))
    }
}

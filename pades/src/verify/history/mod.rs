//! What happened after a signature: the revisions that follow the one a signature covers, and
//! every object they change, classified (ISO 32000-2 §12.8.2 DocMDP/FieldMDP; the incremental
//! saving, shadow and signature-wrapping attacks of the PDF-Insecurity research).
//!
//! A revision is the document as it stood at one `%%EOF` whose `startxref` is a section of the
//! final cross-reference chain: `Document::open` on that prefix reads exactly the chain that
//! existed then. Two consecutive revisions are compared object by object, over every object
//! number that the newer revision's sections list, by value (so a section that re-points an
//! object at other bytes, even bytes inside the signed part, is seen for what it resolves to).
//! The newer chain must extend the older one through `/Prev`.
//!
//! Besides the objects that changed, the comparison knows which object numbers the older
//! revision reaches from its catalog, including references to objects that did not exist then
//! (they read as null when signed). Defining such an object later changes what the signed
//! revision displays, so it is a content change like any other.
//!
//! Appearances are judged with the values they show: a new appearance (`/AP`, `/AS`) is form
//! filling only for a field that the same revision fills (empty before, a value now); with a
//! changed value it is a form change; with no value change it is an annotation-level change that
//! names the object (the page would show something else than what was signed).
//!
//! A later signature may be visible: its widget is a signatures-level change, named with its
//! page and rectangle since its appearance covers part of the signed page. On a tagged
//! document it may join the structure tree (a `/Form` element and a parent tree entry for the
//! new widget, nothing else: [`structure`]).

mod classify;
mod reach;
mod roles;
mod structure;
#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use crate::pdf::object::{ObjRef, Object};
use crate::pdf::Document;
use classify::{classify, is_empty_value, Fill};
use reach::Reach;
use roles::{Context, Roles};
/// How far-reaching a change is, from harmless to content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeLevel {
    /// Validation data: DSS, document timestamps, document information metadata.
    Ltv,
    /// New signature fields and signatures.
    Signatures,
    /// Empty form fields filled in.
    FormFilling,
    /// Form fields that had a value at signing time changed.
    FormChanges,
    /// Annotations added, removed or changed, and appearances changed without their value.
    Annotations,
    /// Anything else: page content, pages, resources, catalog, deleted objects, objects the
    /// signed revision referred to defined later.
    Content,
}

impl ChangeLevel {
    /// The level's name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ltv => "ltv",
            Self::Signatures => "signatures",
            Self::FormFilling => "form-filling",
            Self::FormChanges => "form-changes",
            Self::Annotations => "annotations",
            Self::Content => "content",
        }
    }
}

/// One change after a signature.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Change {
    /// End of the revision that made the change.
    pub revision_end: usize,
    /// How far-reaching.
    pub level: ChangeLevel,
    /// The object changed, if one.
    pub object: Option<u32>,
    /// The form field concerned, if any (fully qualified name, as in the older revision).
    pub field: Option<String>,
    /// The change concerns every field (the form's resources or drawing defaults changed).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub every_field: bool,
    /// What changed, in words.
    pub what: String,
}

/// Most revisions examined; a file with more is judged changed (a cap against files made of
/// thousands of `%%EOF` markers).
const MAX_REVISIONS: usize = 500;

/// Work allowed for opening revisions, in cross-reference sections plus entries read over all
/// of them (each revision re-reads the chain it extends), beyond one unit per input byte. A
/// file that needs more is judged changed, not examined for seconds.
const OPEN_BUDGET: usize = 1_000_000;

/// Changes listed one by one in a signature's report; the rest are summed up in one.
const MAX_REPORTED_CHANGES: usize = 1000;

/// Objects visited when finding what a revision reaches, over all comparisons of one file,
/// beyond one per input byte.
const REACH_BUDGET: usize = 1_000_000;

/// Every revision of a file, each opened once, with the changes of each against the one before
/// it computed once (however many signatures ask).
pub(crate) struct History<'a, 's> {
    revisions: Vec<Revision<'a>>,
    /// Why the revisions could not all be examined, if so.
    incomplete: Option<String>,
    diffs: RefCell<Option<Diffs<'s>>>,
    reach_budget: usize,
    /// Prefixes opened to find the revisions.
    opens: usize,
    /// True when the caller stopped the work; results are then incomplete and not used.
    stop: &'s dyn Fn() -> bool,
    /// The final document's form fields.
    last_fields: std::cell::OnceCell<HashSet<u32>>,
}

struct Revision<'a> {
    /// Byte just after its `%%EOF` and one end-of-line.
    end: usize,
    /// Where its `%%EOF` marker starts.
    marker: usize,
    doc: Document<'a>,
}

/// Changes per revision, computed in order from the first, with what the revisions before
/// each reach.
struct Diffs<'s> {
    /// `changes[j]`: revision `j` against `j - 1` (nothing for the first).
    changes: Vec<Vec<Change>>,
    /// The signatures that later revisions' new signed fields claim to be, in revision order.
    claims: Vec<Claim>,
    /// Object numbers reached from the catalog of any revision up to the last compared one (a
    /// superset of the last one's: removing a reference is itself a change).
    reach: Reach<'s>,
}

impl<'a, 's> History<'a, 's> {
    /// Find every revision end (`%%EOF`, plus one end-of-line) in the final document's data.
    /// Only a marker preceded by its own `startxref` that names a section of the final chain
    /// opens a revision, each section at most once; a final revision without `%%EOF` (cut off,
    /// or junk after it) counts too.
    pub(crate) fn new(last: &Document<'a>, stop: &'s dyn Fn() -> bool) -> Self {
        let data = last.data();
        let chain: HashSet<usize> = last.sections().iter().map(|s| s.offset).collect();
        let mut opened: HashSet<usize> = HashSet::new();
        let mut failed: HashMap<usize, u32> = HashMap::new();
        let mut revisions: Vec<Revision<'a>> = Vec::new();
        let mut incomplete = None;
        let mut budget = OPEN_BUDGET.saturating_add(data.len());
        let mut opens = 0;
        let mut from = 0;
        while let Some(p) = find(&data[from..], b"%%EOF") {
            if stop() {
                incomplete = Some("stopped".into());
                break;
            }
            let marker = from + p;
            let window = &data[from..marker];
            from = marker + 5;
            let Some(sx) = startxref_in(window) else {
                continue;
            };
            // A section opens one revision. A prefix that does not read yet may at a later
            // marker (a linearized file's first-page trailer names the same section as the
            // end of the file), so a few failures per section are allowed, each charged as a
            // walk of the whole chain.
            let failures = failed.get(&sx).copied().unwrap_or(0);
            if sx >= marker || !chain.contains(&sx) || opened.contains(&sx) || failures >= 4 {
                continue;
            }
            let mut end = marker + 5;
            if data.get(end..end + 2) == Some(b"\r\n") {
                end += 2;
            } else if matches!(data.get(end), Some(b'\r' | b'\n')) {
                end += 1;
            }
            opens += 1;
            let Ok(doc) = Document::open(&data[..end]) else {
                failed.insert(sx, failures + 1);
                budget = budget.saturating_sub(last.sections().len() + 1);
                continue;
            };
            opened.insert(sx);
            let cost = open_cost(&doc);
            if revisions.len() == MAX_REVISIONS || cost > budget {
                incomplete = Some(format!(
                    "the file has more revisions than can be examined (at most {MAX_REVISIONS}, \
                     and {} cross-reference entries read in all)",
                    OPEN_BUDGET.saturating_add(data.len())
                ));
                break;
            }
            budget -= cost;
            revisions.push(Revision { end, marker, doc });
        }
        // The file as a whole is the last revision, also when only bytes without a new
        // cross-reference section follow the last `%%EOF` (an old entry may point into them).
        if incomplete.is_none() && revisions.last().map(|r| r.end) != Some(data.len()) {
            opens += 1;
            if let Ok(doc) = Document::open(data) {
                revisions.push(Revision {
                    end: data.len(),
                    marker: data.len(),
                    doc,
                });
            }
        }
        Self {
            revisions,
            incomplete,
            diffs: RefCell::new(None),
            reach_budget: REACH_BUDGET.saturating_add(data.len()),
            opens,
            stop,
            last_fields: std::cell::OnceCell::new(),
        }
    }

    /// The revision whose `%%EOF` marker starts at `marker`.
    pub(crate) fn revision_at_marker(&self, marker: usize) -> Option<&Document<'a>> {
        self.revisions
            .iter()
            .find(|r| r.marker == marker)
            .map(|r| &r.doc)
    }

    /// All changes made after the revision `signed` (a prefix of the file), up to the final
    /// document `last`.
    pub(crate) fn changes_after(&self, signed: &Document<'a>, last: &Document<'a>) -> Vec<Change> {
        let content = |what: String| Change {
            revision_end: last.data().len(),
            level: ChangeLevel::Content,
            object: None,
            field: None,
            every_field: false,
            what,
        };
        if let Some(why) = &self.incomplete {
            return vec![content(why.clone())];
        }
        let signed_end = signed.data().len();
        let Some(k) = self
            .revisions
            .iter()
            .position(|r| r.doc.startxref() == signed.startxref() && r.end >= signed_end)
        else {
            return vec![content(
                "the signed revision is not one of the file's revisions".into(),
            )];
        };
        let mut cell = self.diffs.borrow_mut();
        if cell.is_none() {
            // Every comparison is made once, in order from the first revision, whichever
            // signature asks first; what the revisions reach only grows along the way.
            let first = &self.revisions[0].doc;
            let root = first.trailer().get(b"Root").cloned();
            let mut reach = Reach {
                seen: HashSet::new(),
                dangling: HashSet::new(),
                visits: 0,
                budget: self.reach_budget,
                exhausted: false,
                stop: self.stop,
                root: root.as_ref().and_then(Object::as_ref).map(|r| r.num),
            };
            reach.extend(first, root.into_iter());
            let mut changes = Vec::with_capacity(self.revisions.len());
            changes.push(Vec::new());
            *cell = Some(Diffs {
                changes,
                claims: Vec::new(),
                reach,
            });
        }
        let Some(diffs) = cell.as_mut() else {
            return Vec::new();
        };
        while diffs.changes.len() < self.revisions.len() {
            if (self.stop)() {
                return Vec::new();
            }
            let j = diffs.changes.len();
            let (older, newer) = (&self.revisions[j - 1], &self.revisions[j]);
            let mut v = Vec::new();
            let last_fields = self.last_fields.get_or_init(|| {
                let catalog = last
                    .trailer()
                    .get(b"Root")
                    .and_then(|r| last.resolve_dict(r, "catalog").ok());
                Roles::of(last, catalog.as_ref()).fields
            });
            let claims = diff(
                &older.doc,
                &newer.doc,
                last,
                newer.end,
                &mut diffs.reach,
                last_fields,
                &mut v,
            );
            diffs.claims.extend(claims);
            if diffs.reach.exhausted {
                v.push(Change {
                    revision_end: newer.end,
                    level: ChangeLevel::Content,
                    object: None,
                    field: None,
                    every_field: false,
                    what: format!(
                        "the revisions reach more objects than can be examined ({} visits)",
                        self.reach_budget
                    ),
                });
            }
            diffs.changes.push(v);
        }
        // Reported in full up to a limit, then summed up in one change that keeps the highest
        // level (and, if any field was concerned, concerns them all), so that a report does not
        // grow with signatures times changes.
        let mut out = Vec::new();
        let mut rest: Option<(usize, ChangeLevel, bool, usize)> = None;
        for c in diffs.changes[k + 1..].iter().flatten() {
            if out.len() < MAX_REPORTED_CHANGES {
                out.push(c.clone());
                continue;
            }
            let (count, level, fields, _) =
                rest.get_or_insert((0, ChangeLevel::Ltv, false, c.revision_end));
            *count += 1;
            *level = (*level).max(c.level);
            *fields |= c.field.is_some() || c.every_field;
        }
        if let Some((count, level, fields, end)) = rest {
            out.push(Change {
                revision_end: end,
                level,
                object: None,
                field: None,
                every_field: fields,
                what: format!("{count} more changes, up to {}", level.as_str()),
            });
        }
        out
    }
}

/// A signed field that a later revision adds: a signing change only if the verifier checked
/// that very signature, found it valid, and it covers the revision that added the field
/// (otherwise anything could pose as a later signature and draw over the page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Claim {
    /// End of the revision that added it.
    pub(crate) end: usize,
    /// The field's fully qualified name.
    pub(crate) field: Option<String>,
    /// The signature dictionary its `/V` refers to (`None`: a direct dictionary, which the
    /// verifier cannot tell apart from another field's).
    pub(crate) value: Option<ObjRef>,
    /// Whether its widget is visible (drawn on a page).
    pub(crate) visible: bool,
}

impl<'a, 's> History<'a, 's> {
    /// The claimed signatures of the revisions after the one ending at `signed_end`, once
    /// [`History::changes_after`] has compared every revision.
    pub(crate) fn claims_after(&self, signed_end: usize) -> Vec<Claim> {
        self.diffs.borrow().as_ref().map_or_else(Vec::new, |d| {
            d.claims
                .iter()
                .filter(|c| c.end > signed_end)
                .cloned()
                .collect()
        })
    }
}

/// How many revisions of `data` are examined, and how many prefixes were opened to find them
/// (a work counter for the hostile-document tests).
///
/// # Errors
/// If `data` does not open as a PDF.
#[doc(hidden)]
pub fn revisions_examined(data: &[u8]) -> crate::Result<(usize, usize)> {
    let last = Document::open(data)?;
    let h = History::new(&last, &|| false);
    Ok((h.revisions.len(), h.opens))
}

/// Work to open `doc`: its sections and the entries they list.
fn open_cost(doc: &Document<'_>) -> usize {
    doc.sections().iter().map(|s| 1 + s.objects.len()).sum()
}

/// The offset after the last `startxref` keyword in `window`, if a number follows it.
fn startxref_in(window: &[u8]) -> Option<usize> {
    let pos = window.windows(9).rposition(|w| w == b"startxref")?;
    let rest = &window[pos + 9..];
    let digits: &[u8] = {
        let start = rest.iter().position(|b| !b.is_ascii_whitespace())?;
        let rest = &rest[start..];
        let len = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        &rest[..len]
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Compare two consecutive revisions, pushing every change; then extend `reach` with what the
/// newer revision's changed objects refer to.
fn diff(
    old: &Document<'_>,
    new: &Document<'_>,
    last: &Document<'_>,
    end: usize,
    reach: &mut Reach<'_>,
    last_fields: &HashSet<u32>,
    out: &mut Vec<Change>,
) -> Vec<Claim> {
    let mut push = |level, object, field, what: String| {
        out.push(Change {
            revision_end: end,
            level,
            object,
            field,
            every_field: false,
            what: bounded(what),
        })
    };
    // The newer chain must reach the older revision's section through /Prev.
    let sections = new.sections();
    let Some(k) = sections.iter().position(|s| s.offset == old.startxref()) else {
        push(
            ChangeLevel::Content,
            None,
            None,
            "the cross-reference chain was rewritten: the new revision does not build on the signed one".into(),
        );
        return Vec::new();
    };
    let mut changed: Vec<u32> = sections[..k]
        .iter()
        .flat_map(|s| s.objects.iter().copied())
        .collect();
    changed.sort_unstable();
    changed.dedup();

    let old_root = old.trailer().get(b"Root").and_then(Object::as_ref);
    let new_root = new.trailer().get(b"Root").and_then(Object::as_ref);
    if old_root != new_root {
        push(
            ChangeLevel::Content,
            None,
            None,
            "the trailer points to another catalog (/Root replaced)".into(),
        );
        return Vec::new();
    }
    let info = new.trailer().get(b"Info");
    if info != old.trailer().get(b"Info")
        && info
            .and_then(Object::as_ref)
            .is_some_and(|r| reach.seen.contains(&r.num))
    {
        push(
            ChangeLevel::Content,
            None,
            None,
            "the trailer's /Info now points at an object the signed revision shows".into(),
        );
    }
    if new.trailer().get(b"Encrypt").is_some() {
        push(
            ChangeLevel::Content,
            None,
            None,
            "encryption was added".into(),
        );
    }
    let mut pairs: Vec<(u32, Object, Object)> = Vec::new();
    for &n in &changed {
        let r_old = old
            .entry(n)
            .and_then(|_| gen_of(old, n))
            .unwrap_or(ObjRef::new(n, 0));
        let before = old.resolve(r_old).unwrap_or(Object::Null);
        let r_new = gen_of(new, n).unwrap_or(ObjRef::new(n, 0));
        let after = match new.resolve(r_new) {
            Ok(o) => o,
            Err(e) => {
                push(
                    ChangeLevel::Content,
                    Some(n),
                    None,
                    format!("object {n} cannot be read: {e}"),
                );
                continue;
            }
        };
        if !matches!(before, Object::Null) && r_old.gen != r_new.gen {
            // References name a generation: the signed revision's `n g R` read one object,
            // another generation is another object (and a reference to it may have dangled).
            push(
                ChangeLevel::Content,
                Some(n),
                None,
                format!(
                    "object {n} ({}) was replaced by generation {}",
                    describe(&before),
                    r_new.gen
                ),
            );
            continue;
        }
        if same(old, &before, new, &after) {
            continue;
        }
        if matches!(before, Object::Null) {
            // An object that did not exist: harmless while nothing signed refers to it (new
            // objects, object streams and xref streams are reached through the changes that
            // refer to them), a content change when the signed revision already did.
            if reach.seen.contains(&n) {
                push(
                    ChangeLevel::Content,
                    Some(n),
                    None,
                    format!(
                        "object {n} ({}) is defined, but the signed revision already referred \
                         to it when it did not exist: what the signed revision shows changed",
                        describe(&after)
                    ),
                );
            }
            continue;
        }
        if matches!(after, Object::Null) {
            push(
                ChangeLevel::Content,
                Some(n),
                None,
                format!("object {n} ({}) was deleted", describe(&before)),
            );
            continue;
        }
        pairs.push((n, before, after));
    }
    // Objects the older revision referred to while they read as null, and that now read as
    // something without being listed (an entry that pointed past the end of the file, say).
    let mut dangling: Vec<u32> = reach.dangling.iter().copied().collect();
    dangling.sort_unstable();
    for d in dangling {
        if changed.binary_search(&d).is_ok() {
            continue;
        }
        let now = gen_of(new, d).map(|r| new.resolve(r));
        if let Some(Ok(o)) = now.filter(|o| !matches!(o, Ok(Object::Null) | Err(_))) {
            push(
                ChangeLevel::Content,
                Some(d),
                None,
                format!(
                    "object {d} ({}) now reads as something, but the signed revision referred to \
                     it when it read as nothing: what the signed revision shows changed",
                    describe(&o)
                ),
            );
        }
    }
    let mut ctx = Context::new(old, old_root, &reach.seen, last_fields);
    ctx.fills = pairs
        .iter()
        .filter(|(n, before, _)| {
            ctx.roles.fields.contains(n)
                && before.as_dict().is_some_and(|a| {
                    a.get(b"T").is_some()
                        && (a.get(b"Subtype").is_none()
                            || a.get(b"Subtype").and_then(Object::as_name) == Some(b"Widget"))
                })
        })
        .filter_map(|(n, before, after)| {
            let (a, b) = (before.as_dict()?, after.as_dict()?);
            let (va, vb) = (a.get(b"V"), b.get(b"V"));
            if va == vb {
                None
            } else if is_empty_value(va) && !is_empty_value(vb) {
                Some((*n, Fill::Filled))
            } else {
                Some((*n, Fill::Changed))
            }
        })
        .collect();
    for (n, before, after) in &pairs {
        let (level, field, what) = classify(&ctx, *n, before, after, old, new, last);
        push(level, Some(*n), field, what);
    }
    // Later visible signatures are allowed, but named: a reader must see that something now
    // covers part of the signed page.
    for (n, field, what) in ctx.visible.take() {
        push(ChangeLevel::Signatures, Some(n), field, what);
    }
    let claims = ctx
        .claims
        .take()
        .into_iter()
        .map(|c| Claim { end, ..c })
        .collect();
    // A change to the form itself (its resources, drawing defaults) concerns every field.
    for c in out.iter_mut() {
        if c.object
            .is_some_and(|n| Some(n) == ctx.acroform || Some(n) == ctx.root)
            && c.level >= ChangeLevel::FormChanges
        {
            c.every_field = true;
        }
    }
    drop(ctx);
    reach.update(new, &changed);
    claims
}

/// Most bytes of a change's description.
const WHAT_BYTES: usize = 400;

/// `what`, cut to [`WHAT_BYTES`] at a character boundary.
fn bounded(mut what: String) -> String {
    if what.len() > WHAT_BYTES {
        let mut at = WHAT_BYTES;
        while !what.is_char_boundary(at) {
            at -= 1;
        }
        what.truncate(at);
        what.push('…');
    }
    what
}

fn gen_of(doc: &Document<'_>, n: u32) -> Option<ObjRef> {
    match doc.entry(n)? {
        crate::pdf::XrefEntry::InFile { gen, .. } => Some(ObjRef::new(n, gen)),
        crate::pdf::XrefEntry::Compressed { .. } => Some(ObjRef::new(n, 0)),
        crate::pdf::XrefEntry::Free => None,
    }
}

/// Value equality across revisions (streams: dictionary and raw bytes).
fn same(a_doc: &Document<'_>, a: &Object, b_doc: &Document<'_>, b: &Object) -> bool {
    match (a, b) {
        (Object::Stream(x), Object::Stream(y)) => {
            let mut dx = x.dict.clone();
            let mut dy = y.dict.clone();
            dx.remove(b"Length");
            dy.remove(b"Length");
            dx == dy && a_doc.data().get(x.data.clone()) == b_doc.data().get(y.data.clone())
        }
        _ => a == b,
    }
}

fn describe(o: &Object) -> String {
    match o
        .as_dict()
        .and_then(|d| d.get(b"Type"))
        .and_then(Object::as_name)
    {
        Some(t) => format!("/{}", String::from_utf8_lossy(t)),
        None => o.type_name().to_string(),
    }
}

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

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use crate::pdf::object::{Dict, ObjRef, Object};
use crate::pdf::{Document, XrefEntry};

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
            *cell = Some(Diffs { changes, reach });
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
            diff(
                &older.doc,
                &newer.doc,
                last,
                newer.end,
                &mut diffs.reach,
                last_fields,
                &mut v,
            );
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

/// Object numbers reachable from a revision's catalog, dangling references included.
struct Reach<'s> {
    seen: HashSet<u32>,
    /// Of those, the ones that read as null (missing, free, unreadable) where they were met.
    dangling: HashSet<u32>,
    visits: usize,
    /// Most visits allowed.
    budget: usize,
    /// The visit budget ran out (or the caller stopped): what is known is incomplete.
    exhausted: bool,
    stop: &'s dyn Fn() -> bool,
    /// The catalog, whose `/DSS` is not followed.
    root: Option<u32>,
}

impl Reach<'_> {
    /// Add everything reachable in `doc` from `from` that is not known yet.
    fn extend(&mut self, doc: &Document<'_>, from: impl Iterator<Item = Object>) {
        let mut stack: Vec<Object> = from.collect();
        while let Some(o) = stack.pop() {
            match o {
                Object::Reference(r) => {
                    if !self.seen.insert(r.num) {
                        continue;
                    }
                    self.visits += 1;
                    if self.visits > self.budget || (self.visits % 64 == 0 && (self.stop)()) {
                        self.exhausted = true;
                        return;
                    }
                    match doc.resolve(r) {
                        // Numbers without an entry can only be defined by a later section,
                        // which lists them; listed entries that do not read are re-read.
                        Ok(Object::Null) | Err(_) => {
                            if doc.entry(r.num).is_some_and(|e| e != XrefEntry::Free) {
                                self.dangling.insert(r.num);
                            }
                        }
                        // What the catalog shows, its validation data aside.
                        Ok(Object::Dict(mut d)) if Some(r.num) == self.root => {
                            d.remove(b"DSS");
                            stack.push(Object::Dict(d));
                        }
                        Ok(obj) => stack.push(obj),
                    }
                }
                Object::Array(a) => stack.extend(a),
                Object::Dict(d) => stack.extend(d.iter().map(|(_, v)| v.clone())),
                Object::Stream(s) => stack.extend(s.dict.iter().map(|(_, v)| v.clone())),
                _ => {}
            }
        }
    }

    /// After a revision: what its changed objects that are reachable now refer to.
    fn update(&mut self, doc: &Document<'_>, changed: &[u32]) {
        self.dangling.retain(|&d| {
            gen_of(doc, d)
                .map(|r| doc.resolve(r))
                .is_none_or(|o| matches!(o, Ok(Object::Null) | Err(_)))
        });
        let reachable: Vec<Object> = changed
            .iter()
            .filter(|n| self.seen.contains(n))
            .filter_map(|&n| {
                let o = doc.resolve(gen_of(doc, n)?).ok()?;
                Some(match o {
                    Object::Dict(mut d) if Some(n) == self.root => {
                        d.remove(b"DSS");
                        Object::Dict(d)
                    }
                    o => o,
                })
            })
            .collect();
        self.extend(doc, reachable.into_iter());
    }
}

/// How a revision changed the value of a field (keyed by the object that holds `/V`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fill {
    /// Empty before (no `/V`, an empty string, `/Off`), a value now.
    Filled,
    /// Had a value, now another (or none).
    Changed,
}

/// Is a field value empty (nothing shown)?
fn is_empty_value(v: Option<&Object>) -> bool {
    match v {
        None | Some(Object::Null) => true,
        Some(Object::String(s)) => s.is_empty(),
        Some(Object::Name(n)) => n.as_slice() == b"Off",
        Some(_) => false,
    }
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
) {
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
        return;
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
        return;
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

/// Roles of objects in the older revision, found by how its catalog reaches them (never by how
/// an object looks: any dictionary can carry `/Type /DSS`, `/T` or `/Fields`).
struct Context<'r> {
    root: Option<u32>,
    acroform: Option<u32>,
    /// The trailer's `/Info`, when nothing the catalog shows reaches it.
    info: Option<u32>,
    /// The catalog's `/DSS`, when nothing else the catalog shows reaches it.
    dss: Option<u32>,
    roles: Roles,
    /// What the signed revision (and those since) show, from the catalog, `/DSS` aside.
    shown: &'r HashSet<u32>,
    /// Fields of the final document (each is verified as a signature if it is one).
    last_fields: &'r HashSet<u32>,
    /// Fields whose value the newer revision changed, by the field that holds `/V`.
    fills: HashMap<u32, Fill>,
}

/// Objects by role in one revision.
#[derive(Default)]
struct Roles {
    /// Pages (leaves of the page tree).
    pages: HashSet<u32>,
    /// Intermediate page tree nodes.
    page_nodes: HashSet<u32>,
    /// Annotations listed by pages, widgets included.
    annots: HashSet<u32>,
    /// Indirect `/Annots` arrays of pages.
    annot_arrays: HashSet<u32>,
    /// Form fields (the `/Fields` tree through `/Kids`), widgets merged with fields included.
    fields: HashSet<u32>,
    /// An indirect `/Fields` array.
    fields_array: Option<u32>,
    /// What pages draw: everything reached from their `/Contents` and `/Resources`.
    drawn: HashSet<u32>,
}

/// Most page tree nodes and fields walked for roles.
const MAX_ROLE_NODES: usize = 1_000_000;

impl Roles {
    /// Walk `doc`'s page tree and field tree from its catalog.
    fn of(doc: &Document<'_>, catalog: Option<&Dict>) -> Self {
        let mut roles = Self::default();
        let Some(catalog) = catalog else {
            return roles;
        };
        let mut seen = HashSet::new();
        let mut stack: Vec<ObjRef> = catalog
            .get(b"Pages")
            .and_then(Object::as_ref)
            .into_iter()
            .collect();
        while let Some(r) = stack.pop() {
            if seen.len() >= MAX_ROLE_NODES || !seen.insert(r.num) {
                continue;
            }
            let Ok(Object::Dict(d)) = doc.resolve(r) else {
                continue;
            };
            // What the node or page draws: its content, and its (inheritable) resources.
            let mut from: Vec<Object> = [b"Contents".as_slice(), b"Resources"]
                .iter()
                .filter_map(|k| d.get(k).cloned())
                .collect();
            while let Some(o) = from.pop() {
                match o {
                    Object::Reference(r)
                        if roles.drawn.len() < MAX_ROLE_NODES && roles.drawn.insert(r.num) =>
                    {
                        if let Ok(o) = doc.resolve(r) {
                            from.push(o);
                        }
                    }
                    Object::Array(a) => from.extend(a),
                    Object::Dict(d) => from.extend(d.iter().map(|(_, v)| v.clone())),
                    Object::Stream(s) => from.extend(s.dict.iter().map(|(_, v)| v.clone())),
                    _ => {}
                }
            }
            if let Some(kids) = d.get(b"Kids") {
                roles.page_nodes.insert(r.num);
                stack.extend(refs_of(doc, kids).into_iter().rev());
            } else {
                roles.pages.insert(r.num);
                if let Some(annots) = d.get(b"Annots") {
                    if let Some(a) = annots.as_ref() {
                        roles.annot_arrays.insert(a.num);
                    }
                    roles
                        .annots
                        .extend(refs_of(doc, annots).iter().map(|r| r.num));
                }
            }
        }
        let form = catalog
            .get(b"AcroForm")
            .and_then(|f| doc.resolve_dict(f, "form").ok());
        if let Some(fields) = form.as_ref().and_then(|f| f.get(b"Fields")) {
            roles.fields_array = fields.as_ref().map(|r| r.num);
            let mut stack = refs_of(doc, fields);
            let mut walked = 0;
            while let Some(r) = stack.pop() {
                walked += 1;
                if walked > MAX_ROLE_NODES || !roles.fields.insert(r.num) {
                    continue;
                }
                if let Ok(Object::Dict(d)) = doc.resolve(r) {
                    if let Some(kids) = d.get(b"Kids") {
                        stack.extend(refs_of(doc, kids));
                    }
                }
            }
        }
        roles
    }
}

/// The references in an array (direct, or one reference away).
fn refs_of(doc: &Document<'_>, o: &Object) -> Vec<ObjRef> {
    resolve_array(doc, Some(o))
        .iter()
        .filter_map(Object::as_ref)
        .collect()
}

impl<'r> Context<'r> {
    fn new(
        old: &Document<'_>,
        root: Option<ObjRef>,
        shown: &'r HashSet<u32>,
        last_fields: &'r HashSet<u32>,
    ) -> Self {
        let catalog = root
            .and_then(|r| old.resolve(r).ok())
            .and_then(|o| o.as_dict().cloned());
        let get = |k: &[u8]| {
            catalog
                .as_ref()
                .and_then(|c| c.get(k))
                .and_then(Object::as_ref)
                .map(|r| r.num)
        };
        let unshown = |n: Option<u32>| n.filter(|n| !shown.contains(n));
        Self {
            root: root.map(|r| r.num),
            acroform: get(b"AcroForm"),
            info: unshown(
                old.trailer()
                    .get(b"Info")
                    .and_then(Object::as_ref)
                    .map(|r| r.num),
            ),
            dss: unshown(get(b"DSS")),
            roles: Roles::of(old, catalog.as_ref()),
            shown,
            last_fields,
            fills: HashMap::new(),
        }
    }

    /// Is `v` (a new `/DSS` or `/Info` value) something the signed revision shows?
    fn points_at_shown(&self, v: Option<&Object>) -> bool {
        v.and_then(Object::as_ref)
            .is_some_and(|r| self.shown.contains(&r.num))
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

/// Keys whose values differ between two dictionaries.
fn changed_keys(a: &Dict, b: &Dict) -> Vec<Vec<u8>> {
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
const NAMED_KEYS: usize = 8;
const NAME_BYTES: usize = 40;

fn names(keys: &[Vec<u8>]) -> String {
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

fn classify(
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
        if ctx.roles.annot_arrays.contains(&n) || ctx.roles.fields_array == Some(n) {
            return appended(ctx, a, b, new, last, &format!("array object {n}"));
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
                );
                level = level.max(l);
                notes.push(what);
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
fn field_change(
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
fn form_change(
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
                let (l, _, what) = appended(ctx, &before, &cur, new, last, "/AcroForm /Fields");
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
/// up signed and verified, or invisible empty signature fields.
fn appended(
    ctx: &Context<'_>,
    old: &[Object],
    cur: &[Object],
    new: &Document<'_>,
    last: &Document<'_>,
    what: &str,
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
            Some(_) => level = level.max(Signatures),
        }
    }
    let added = if level == Ltv {
        "document timestamps added"
    } else {
        "signature fields added"
    };
    (level, None, format!("{what}: {added}"))
}

/// Is the catalog `/Version` change an upgrade (to a higher version than before)?
fn version_upgrade(before: Option<&Object>, after: Option<&Object>, old: &Document<'_>) -> bool {
    let parse = |o: Option<&Object>| -> Option<(u8, u8)> {
        let n = o?.as_name()?;
        let s = std::str::from_utf8(n).ok()?;
        let (ma, mi) = s.split_once('.')?;
        Some((ma.parse().ok()?, mi.parse().ok()?))
    };
    let was = parse(before).unwrap_or(old.version()).max(old.version());
    parse(after).is_some_and(|v| v >= was && v <= (2, 0))
}

fn resolve_array(doc: &Document<'_>, o: Option<&Object>) -> Vec<Object> {
    match o.map(|o| doc.deref(o)) {
        Some(Ok(Object::Array(a))) => a,
        _ => Vec::new(),
    }
}

/// Is the appended entry `d` drawn nowhere? A field that is no widget (no `/Subtype`, no
/// `/Rect`) draws nothing itself: its widgets are judged where they are added to a page.
fn invisible(doc: &Document<'_>, d: &Dict) -> bool {
    (d.get(b"Subtype").is_none() && d.get(b"Rect").is_none()) || zero_area(doc, d)
}

/// Does the widget `d` cover no area? Its `/Rect` (direct or not, and each number too) must
/// read as four numbers with a zero width or height; anything else counts as visible.
fn zero_area(doc: &Document<'_>, d: &Dict) -> bool {
    let nums: Vec<f64> = resolve_array(doc, d.get(b"Rect"))
        .iter()
        .filter_map(|o| match doc.deref(o).ok()? {
            Object::Integer(i) => Some(i as f64),
            Object::Real(r) => Some(r),
            _ => None,
        })
        .collect();
    nums.len() == 4 && ((nums[2] - nums[0]).abs() < 1e-9 || (nums[3] - nums[1]).abs() < 1e-9)
}

/// The field whose value a field or widget shows: the object itself when it has `/T` (a
/// field, possibly merged with its widget), else the nearest ancestor in `doc` with `/T`.
fn value_owner(doc: &Document<'_>, n: u32, d: &Dict) -> u32 {
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
fn state_mismatch(doc: &Document<'_>, owner: u32, widget: &Dict) -> Option<String> {
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
            parts.push(crate::sign::decode_text(t));
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

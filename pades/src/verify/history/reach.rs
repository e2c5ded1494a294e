//! What a revision reaches from its catalog: every object number, dangling references
//! included, walked once and then only where a revision changed something.

use std::collections::HashSet;

use super::*;
use crate::pdf::object::Object;
use crate::pdf::{Document, XrefEntry};

/// Object numbers reachable from a revision's catalog, dangling references included.
pub(super) struct Reach<'s> {
    pub(super) seen: HashSet<u32>,
    /// Of those, the ones that read as null (missing, free, unreadable) where they were met.
    pub(super) dangling: HashSet<u32>,
    pub(super) visits: usize,
    /// Most visits allowed.
    pub(super) budget: usize,
    /// The visit budget ran out (or the caller stopped): what is known is incomplete.
    pub(super) exhausted: bool,
    pub(super) stop: &'s dyn Fn() -> bool,
    /// The catalog, whose `/DSS` is not followed.
    pub(super) root: Option<u32>,
}

impl Reach<'_> {
    /// Add everything reachable in `doc` from `from` that is not known yet.
    pub(super) fn extend(&mut self, doc: &Document<'_>, from: impl Iterator<Item = Object>) {
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
    pub(super) fn update(&mut self, doc: &Document<'_>, changed: &[u32]) {
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

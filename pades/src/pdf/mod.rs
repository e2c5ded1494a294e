//! The PDF layer: object syntax, cross-reference reading, incremental writing.

pub mod budget;
pub mod document;
pub(crate) mod filter;
pub mod form;
pub mod object;
pub(crate) mod parse;
pub(crate) mod text;
pub mod update;

/// Deepest nesting of arrays and dictionaries accepted.
pub const MAX_DEPTH: usize = 64;

pub use document::{Document, Section, XrefEntry, XrefKind};
pub use object::{Dict, ObjRef, Object, Stream};

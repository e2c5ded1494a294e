//! The work budget of one document open: whatever a hostile file asks for, reading it costs time
//! and memory linear in its size.
//!
//! Every public entry point that reads an untrusted document ([`crate::verify::verify`],
//! [`crate::sign::prepare`]) opens one scope; every [`Document`](super::Document) opened on
//! the same thread while it lasts (the file, and the earlier revisions that the verifier opens as
//! prefixes of it) draws on that scope's single budget. A document opened outside any scope
//! gets a budget of its own.
//!
//! A budget counts, against limits that are a fixed floor plus a multiple of the input size:
//!
//! | what | limit for an input of `n` bytes |
//! |---|---|
//! | work units: bytes parsed + bytes inflated + 64 per object read + 1/8 per byte hashed | [`WORK_FLOOR`] + [`WORK_PER_BYTE`] × `n` |
//! | bytes inflated from xref and object streams (all kept at most once in memory) | [`DECODED_FLOOR`] + [`DECODED_PER_BYTE`] × `n` |
//! | cross-reference rows stored (16 bytes of memory each, plus 4 per section listing) | [`ROWS_FLOOR`] + `n` / [`INPUT_BYTES_PER_ROW`] |
//!
//! Besides the budget, each bounded where it is built: one parsed object holds at most 500,000
//! values plus one per 40 bytes of the buffer it is parsed from (a value takes 40 bytes while
//! held); references resolve at most 16 inside one another, and one that leads back to an object
//! being resolved is a cycle; a form's fully qualified field names take at most
//! [`NAMES_FLOOR`](super::form::NAMES_FLOOR) plus the input size in total.
//!
//! Running out is sticky: once a limit is passed, every later charge fails too, and the entry
//! point that opened the scope returns the error instead of a verdict built
//! from a partial reading.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::error::{Error, LimitError, Result};

/// Work units every open may use, whatever the input size.
pub const WORK_FLOOR: u64 = 64 << 20;
/// Work units allowed per input byte, on top of [`WORK_FLOOR`].
pub const WORK_PER_BYTE: u64 = 16;
/// Bytes every open may inflate from xref and object streams, whatever the input size.
pub const DECODED_FLOOR: u64 = 32 << 20;
/// Inflated bytes allowed per input byte, on top of [`DECODED_FLOOR`].
pub const DECODED_PER_BYTE: u64 = 2;
/// Cross-reference rows every open may store, whatever the input size.
pub const ROWS_FLOOR: u64 = 1 << 20;
/// One more cross-reference row is allowed per this many input bytes (a table row takes 20).
pub const INPUT_BYTES_PER_ROW: u64 = 16;
/// Work units charged for each object read (lookup, header check, bookkeeping).
pub(crate) const OBJECT_COST: u64 = 64;
/// Hashing is this many times cheaper per byte than parsing.
const HASH_DISCOUNT: u64 = 8;
const DECODED: &str = "bytes inflated from xref and object streams";

/// The limits and what has been used of them, shared by every document of one scope.
#[derive(Debug)]
pub(crate) struct Budget {
    work_limit: u64,
    decoded_limit: u64,
    rows_limit: u64,
    work: Cell<u64>,
    decoded: Cell<u64>,
    rows: Cell<u64>,
    exceeded: RefCell<Option<LimitError>>,
}

/// What the reads on this thread have cost so far, summed over every open (for tests and fuzz
/// targets; see [`crate::fuzzing::work`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Objects read (parsed from the file or an object stream, or skimmed).
    pub objects: u64,
    /// Bytes of object syntax parsed or skipped (stream data is not parsed).
    pub parsed: u64,
    /// Bytes inflated from xref and object streams.
    pub decoded: u64,
    /// Bytes hashed for signature digests.
    pub hashed: u64,
    /// Cross-reference rows read.
    pub rows: u64,
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<Budget>>> = const { RefCell::new(None) };
    static COUNTERS: Cell<Counters> = const {
        Cell::new(Counters { objects: 0, parsed: 0, decoded: 0, hashed: 0, rows: 0 })
    };
}

/// The counters of this thread.
pub(crate) fn counters() -> Counters {
    COUNTERS.with(Cell::get)
}

fn count(f: impl FnOnce(&mut Counters)) {
    COUNTERS.with(|c| {
        let mut v = c.get();
        f(&mut v);
        c.set(v);
    });
}

impl Budget {
    fn new(input_len: usize) -> Self {
        let n = input_len as u64;
        Self {
            work_limit: WORK_FLOOR.saturating_add(WORK_PER_BYTE.saturating_mul(n)),
            decoded_limit: DECODED_FLOOR.saturating_add(DECODED_PER_BYTE.saturating_mul(n)),
            rows_limit: ROWS_FLOOR.saturating_add(n / INPUT_BYTES_PER_ROW),
            work: Cell::new(0),
            decoded: Cell::new(0),
            rows: Cell::new(0),
            exceeded: RefCell::new(None),
        }
    }

    /// The budget of the scope open on this thread, or a new one for a document of
    /// `input_len` bytes.
    pub(crate) fn current_or_new(input_len: usize) -> Rc<Self> {
        CURRENT
            .with(|c| c.borrow().clone())
            .unwrap_or_else(|| Rc::new(Self::new(input_len)))
    }

    /// The error if a limit was passed.
    pub(crate) fn check(&self) -> Result<()> {
        match &*self.exceeded.borrow() {
            Some(e) => Err(Error::Limit(e.clone())),
            None => Ok(()),
        }
    }

    fn add(&self, cell: &Cell<u64>, limit: u64, amount: u64, what: &'static str) -> Result<()> {
        self.check()?;
        let used = cell.get().saturating_add(amount);
        cell.set(used);
        if used > limit {
            let e = LimitError::Budget { what, limit };
            *self.exceeded.borrow_mut() = Some(e.clone());
            return Err(Error::Limit(e));
        }
        Ok(())
    }

    /// Charge reading one object of `bytes` bytes of syntax.
    pub(crate) fn charge_object(&self, bytes: usize) -> Result<()> {
        count(|c| {
            c.objects += 1;
            c.parsed += bytes as u64;
        });
        self.add(
            &self.work,
            self.work_limit,
            OBJECT_COST + bytes as u64,
            "work units (objects and bytes parsed)",
        )
    }

    /// Charge parsing `bytes` bytes that are not one object (cross-reference tables).
    pub(crate) fn charge_parsed(&self, bytes: usize) -> Result<()> {
        count(|c| c.parsed += bytes as u64);
        self.add(
            &self.work,
            self.work_limit,
            bytes as u64,
            "work units (objects and bytes parsed)",
        )
    }

    /// How many more bytes may be inflated.
    pub(crate) fn decoded_left(&self) -> usize {
        usize::try_from(self.decoded_limit.saturating_sub(self.decoded.get())).unwrap_or(usize::MAX)
    }

    /// Record that a stream would inflate past what is left to inflate.
    pub(crate) fn exhaust_decoded(&self) -> Error {
        let e = LimitError::Budget {
            what: DECODED,
            limit: self.decoded_limit,
        };
        *self.exceeded.borrow_mut() = Some(e.clone());
        Error::Limit(e)
    }

    /// Charge `bytes` inflated bytes.
    pub(crate) fn charge_decoded(&self, bytes: usize) -> Result<()> {
        count(|c| c.decoded += bytes as u64);
        self.add(&self.decoded, self.decoded_limit, bytes as u64, DECODED)?;
        self.add(
            &self.work,
            self.work_limit,
            bytes as u64,
            "work units (objects and bytes parsed)",
        )
    }

    /// Charge `n` cross-reference rows, before they are stored.
    pub(crate) fn charge_rows(&self, n: u64) -> Result<()> {
        self.add(&self.rows, self.rows_limit, n, "cross-reference rows")?;
        count(|c| c.rows += n);
        Ok(())
    }

    /// Charge hashing `bytes` bytes.
    pub(crate) fn charge_hash(&self, bytes: usize) -> Result<()> {
        count(|c| c.hashed += bytes as u64);
        self.add(
            &self.work,
            self.work_limit,
            bytes as u64 / HASH_DISCOUNT,
            "work units (objects and bytes parsed)",
        )
    }
}

/// Charge one public-key signature verification with a key of `bits` bits to the scope open on
/// this thread (none open: nothing to charge). An RSA verification's work grows with the square
/// of the modulus; smaller keys (EC) count as RSA-2048, about 65,000 units (tens of
/// microseconds, as many bytes parsed would take).
pub(crate) fn charge_signature_check(bits: usize) -> Result<()> {
    let bits = bits.max(2048) as u64;
    let units = bits * bits / 64;
    match CURRENT.with(|c| c.borrow().clone()) {
        Some(b) => b.add(
            &b.work,
            b.work_limit,
            units,
            "work units (signature checks)",
        ),
        None => Ok(()),
    }
}

/// The budget of one entry point's reading, current on this thread until dropped.
#[derive(Debug)]
pub(crate) struct Scope {
    budget: Rc<Budget>,
    /// This scope installed the budget (an inner scope shares the outer one's).
    owner: bool,
}

impl Scope {
    /// Open a scope for an input of `input_len` bytes (or join the one already open).
    pub(crate) fn enter(input_len: usize) -> Self {
        CURRENT.with(|c| {
            if let Some(b) = &*c.borrow() {
                return Self {
                    budget: b.clone(),
                    owner: false,
                };
            }
            let budget = Rc::new(Budget::new(input_len));
            *c.borrow_mut() = Some(budget.clone());
            Self {
                budget,
                owner: true,
            }
        })
    }

    /// The error if any limit was passed while the scope was open.
    pub(crate) fn check(&self) -> Result<()> {
        self.budget.check()
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        if self.owner {
            CURRENT.with(|c| c.borrow_mut().take());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exhaustion_is_sticky_and_scopes_nest() {
        let outer = Scope::enter(0);
        {
            let inner = Scope::enter(1 << 30);
            assert!(Rc::ptr_eq(&inner.budget, &outer.budget));
            assert!(inner.budget.charge_rows(ROWS_FLOOR).is_ok());
        }
        assert!(outer.budget.charge_rows(1).is_err());
        // Sticky: a charge that would fit on its own fails too.
        assert!(outer.budget.charge_parsed(1).is_err());
        assert!(matches!(
            outer.check(),
            Err(Error::Limit(LimitError::Budget { .. }))
        ));
        drop(outer);
        assert!(Budget::current_or_new(0).check().is_ok());
    }

    #[test]
    fn signature_checks_are_charged_by_key_size() {
        let _scope = Scope::enter(0);
        // RSA-8192 costs 16 times RSA-2048; EC keys count as RSA-2048.
        let rsa_2048 = WORK_FLOOR / (2048 * 2048 / 64);
        let mut n = 0;
        while charge_signature_check(8192).is_ok() {
            n += 1;
        }
        assert_eq!(n, rsa_2048 / 16, "RSA-8192 checks within the floor");
        assert!(charge_signature_check(0).is_err(), "sticky");
    }
}

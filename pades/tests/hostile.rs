//! Hostile documents: one generator per way a small file can make a PDF reader do far more
//! than linear work. Each document goes through `verify` (which is also
//! the CLI batch's "already signed?" check) and `prepare`, and must give a clear error or a
//! report within the budget: no panic, no stack overflow, at most 64 MiB plus 4× the input of
//! memory allocated at once, and work counters (objects read, bytes parsed, inflated, hashed,
//! cross-reference rows) linear in the input.
//!
//! Each case runs in a child process (this test binary, run again for that one test), so that a
//! stack overflow or an allocation over the limit fails the test instead of taking the whole
//! suite down, and so that the allocator's counters see that case alone. Memory is measured by a
//! counting global allocator whose limit is set to the budget: an allocation past it aborts the
//! child, and the parent reports it.

#[path = "hostile/harness.rs"]
mod harness;
#[path = "hostile/writer.rs"]
mod writer;

#[path = "hostile/cycles.rs"]
mod cycles;
#[path = "hostile/forms.rs"]
mod forms;
#[path = "hostile/nesting.rs"]
mod nesting;
#[path = "hostile/signatures.rs"]
mod signatures;
#[path = "hostile/sizes.rs"]
mod sizes;
#[path = "hostile/xref.rs"]
mod xref;

use std::alloc::System;
use std::io::Write;

use cap::Cap;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use pades::{SignatureRequest, UnixTime};

use harness::{holds_budget, Expect};
use writer::{skeleton, zero_bomb, Pdf};

#[global_allocator]
static ALLOC: Cap<System> = Cap::new(System, usize::MAX);

#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| pades::fuzzing::open_document(data));

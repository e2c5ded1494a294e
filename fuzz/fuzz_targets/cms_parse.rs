#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| pades::fuzzing::parse_cms(data));

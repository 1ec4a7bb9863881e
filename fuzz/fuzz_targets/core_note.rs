//! Signed notes: parsing never panics, and what parses serializes to bytes
//! that parse to the same note (signature base64 is re-encoded
//! canonically, so the bytes themselves may differ in unused bits).
#![no_main]
use attestlog_core::note::Note;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(note) = Note::parse(data) {
        let again = note.to_bytes();
        assert_eq!(Note::parse(&again).as_ref(), Ok(&note));
        assert_eq!(again.len(), data.len());
    }
});

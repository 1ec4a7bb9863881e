//! Signed notes: parsing never panics, and what parses re-serializes to the
//! same bytes.
#![no_main]
use attestlog_core::note::Note;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(note) = Note::parse(data) {
        assert_eq!(note.to_bytes(), data);
    }
});

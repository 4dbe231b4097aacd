//! Fuzzes the Sigma front end: any bytes must read into rules and diagnostics, never a
//! panic, a hang or a stack overflow; the lints must run on whatever was read.
#![no_main]

use libfuzzer_sys::fuzz_target;

fn check(mut file: sigil_sigma::SigmaFile) {
    sigil_sigma::lint::check_file(&mut file);
    let _ = sigil_sigma::lint::check_set(&[&file]);
    for d in &file.diagnostics {
        assert!(d.span.line > 0, "diagnostic without a line: {d:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    check(sigil_sigma::parse_bytes(data));
    // Most mutations add NUL or invalid bytes, which `parse_bytes` refuses up front; read
    // the text around them too, so the YAML and Sigma layers see those inputs as well.
    let text = String::from_utf8_lossy(data).replace('\0', " ");
    check(sigil_sigma::parse_str(&text));
});

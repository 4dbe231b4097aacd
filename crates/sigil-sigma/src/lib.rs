//! Sigma front end (being written). The public entry point will be
//! `parse_str(text) -> SigmaFile { rules, diagnostics }`.

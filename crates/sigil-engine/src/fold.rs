//! Case folding for case-insensitive matching.
//!
//! Sigma compares strings case-insensitively. The reference (pySigma over SQLite) folds
//! ASCII letters only, so `É` and `é` differ there. sigil folds every letter that has a
//! simple lowercase form, because a rule written as `C:\Users\Élodie` should match
//! `C:\USERS\ÉLODIE` for users of any language. One restriction keeps the literal
//! prefilter exact: a non-ASCII character never folds to ASCII text (the Kelvin sign
//! `K` stays itself instead of becoming `k`, and `İ` stays itself instead of becoming
//! `i` plus a combining dot). So ASCII text folds to ASCII text of the same length,
//! every other character folds to exactly one character, and an ASCII-case-insensitive
//! scan of the original text finds exactly the ASCII literals the folded text holds.

/// Appends the folded form of `text` to `out`.
pub fn fold_into(text: &str, out: &mut String) {
    if text.is_ascii() {
        let start = out.len();
        out.push_str(text);
        out[start..].make_ascii_lowercase();
        return;
    }
    for c in text.chars() {
        out.push(fold_char(c));
    }
}

/// The folded form of `text`.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    fold_into(text, &mut out);
    out
}

/// Whether `text` is its own folded form (then no copy is needed).
pub fn is_folded(text: &str) -> bool {
    if text.is_ascii() {
        return !text.bytes().any(|b| b.is_ascii_uppercase());
    }
    text.chars().all(|c| fold_char(c) == c)
}

/// The folded form of one character (see the module documentation).
pub fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) if !l.is_ascii() => l,
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_and_unicode_letters_fold() {
        assert_eq!(fold(r"C:\Windows\SYSTEM32"), r"c:\windows\system32");
        assert_eq!(fold("ÉLODIE Straße ПРИВЕТ"), "élodie straße привет");
        assert!(is_folded("abc é"));
        assert!(!is_folded("abC"));
        assert!(!is_folded("É"));
    }

    #[test]
    fn non_ascii_never_folds_to_ascii() {
        // Kelvin sign and capital I with dot keep the prefilter exact.
        assert_eq!(fold("\u{212a}"), "\u{212a}");
        assert_eq!(fold("\u{130}"), "\u{130}");
        assert_eq!(fold("\u{130}").chars().count(), 1);
    }
}

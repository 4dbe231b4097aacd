//! Names and paths of published pages. Rule ids, test GUIDs and technique ids come from
//! untrusted files, so every one becomes a file name through [`file_name`], and every
//! page path is checked by [`is_safe_relative`] before it is written or served.

/// A file name made of `[A-Za-z0-9._-]` only (others become `_`), never starting with a
/// dot (no hidden files, no `..`), at most 120 bytes, never empty.
pub fn file_name(raw: &str) -> String {
    let mut out: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    if out.starts_with('.') {
        out.replace_range(0..1, "_");
    }
    if out.is_empty() {
        out.push('_');
    }
    out
}

/// Whether `path` (with `/` separators) stays inside the folder it is relative to: no
/// empty, `.` or `..` segment, no leading `/`, no backslash, colon or NUL.
pub fn is_safe_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.contains(['\\', ':', '\0'])
        && path
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

/// A stable 64-bit FNV-1a hash as 16 hex digits: names indicator pages, so the same
/// indicator keeps its address from one build to the next.
pub fn stable_hash(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_cannot_escape() {
        assert_eq!(file_name("../../etc/passwd"), "_._.._etc_passwd");
        assert_eq!(file_name(".."), "_.");
        assert_eq!(file_name(""), "_");
        assert_eq!(file_name("a/b\\c:d"), "a_b_c_d");
        assert_eq!(
            file_name("797011dc-44f4-4e6f-9f10-a8ceefbe566b"),
            "797011dc-44f4-4e6f-9f10-a8ceefbe566b"
        );
        assert_eq!(file_name(&"x".repeat(500)).len(), 120);
    }

    #[test]
    fn relative_paths_are_checked() {
        assert!(is_safe_relative("rules/a.html"));
        assert!(!is_safe_relative("../a"));
        assert!(!is_safe_relative("/etc/passwd"));
        assert!(!is_safe_relative("rules/../../a"));
        assert!(!is_safe_relative("rules//a"));
        assert!(!is_safe_relative("a\\..\\b"));
        assert!(!is_safe_relative("C:/x"));
    }

    #[test]
    fn hash_is_stable_and_separates_parts() {
        assert_eq!(stable_hash(&["a", "b"]), stable_hash(&["a", "b"]));
        assert_ne!(stable_hash(&["ab", ""]), stable_hash(&["a", "b"]));
    }
}

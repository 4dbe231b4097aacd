//! Which events a run reads: a time window and computer names.
//!
//! The window is the reader's (`sigil-logs` skips whole EVTX chunks outside it); the
//! computer names are checked here, before an event meets any rule or search.

use sigil_logs::{Reader, RecordMeta, TimeWindow};

/// Which events a run looks at.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Only events of this window.
    pub window: TimeWindow,
    /// Only events of a computer matching one of these (none: any computer).
    pub computers: Vec<ComputerPattern>,
}

impl EventFilter {
    /// Sets the filter's window on `reader`: call before reading a part with it.
    pub fn prepare(&self, reader: &mut Reader) {
        reader.set_window(self.window);
    }

    /// Whether an event read (of the window already) passes the rest of the filter.
    pub fn admits(&self, meta: &RecordMeta<'_>) -> bool {
        self.computers.is_empty()
            || meta
                .computer
                .is_some_and(|c| self.computers.iter().any(|p| p.matches(c)))
    }

    /// Whether the filter lets every event through.
    pub fn is_everything(&self) -> bool {
        self.window.is_unbounded() && self.computers.is_empty()
    }
}

/// A computer name with `*` (any run of characters) and `?` (one character) wildcards,
/// compared ignoring case.
#[derive(Debug, Clone)]
pub struct ComputerPattern {
    text: String,
    regex: regex::Regex,
}

impl ComputerPattern {
    /// The pattern `text`; an error for an empty one.
    pub fn new(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Err("an empty computer name".to_string());
        }
        let mut re = String::from("(?is)^");
        for c in text.chars() {
            match c {
                '*' => re.push_str(".*"),
                '?' => re.push('.'),
                c => re.push_str(&regex::escape(&c.to_string())),
            }
        }
        re.push('$');
        let regex = regex::Regex::new(&re).map_err(|e| e.to_string())?;
        Ok(Self {
            text: text.to_string(),
            regex,
        })
    }

    /// Whether `computer` matches.
    pub fn matches(&self, computer: &str) -> bool {
        self.regex.is_match(computer)
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computer_patterns_take_wildcards_and_ignore_case() {
        let p = ComputerPattern::new("ws0?.corp*").expect("valid");
        assert!(p.matches("WS01.corp.local"));
        assert!(!p.matches("WS011.corp.local"));
        assert!(!p.matches("xWS01.corp"));
        let exact = ComputerPattern::new("PC.1").expect("valid");
        assert!(exact.matches("pc.1"));
        assert!(!exact.matches("PCx1"));
        assert!(ComputerPattern::new("").is_err());
    }
}

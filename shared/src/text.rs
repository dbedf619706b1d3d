//! Text that people type and other people (or the same person elsewhere) read back: titles,
//! names, descriptions. Characters that are invisible or change how the surrounding text
//! renders are refused, so what the API shows is what was typed: control characters (C0,
//! DEL and C1: they can end a line early, ring a terminal, or hide text) and bidirectional
//! overrides and isolates (they reorder what follows, e.g. make `exe.txt` read `txt.exe`).

/// A JSON field that must be a string (the message is the field error shown to the client).
pub fn string(value: &serde_json::Value) -> Result<&str, String> {
    value.as_str().ok_or_else(|| "must be a string".to_string())
}

/// Bidirectional embeddings/overrides (U+202A..=U+202E) and isolates (U+2066..=U+2069).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Which layout characters a kind of text may keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// One line: a title or a name. No control character at all.
    Line,
    /// Free text over several lines: `\n`, `\r` and `\t` are allowed, nothing else of those.
    Multiline,
}

/// Whether `c` is refused in text of `kind`.
pub fn is_refused(kind: TextKind, c: char) -> bool {
    let layout = kind == TextKind::Multiline && matches!(c, '\n' | '\r' | '\t');
    (c.is_control() && !layout) || is_bidi_control(c)
}

/// The one check every text newtype runs: `Err` names the first refused character and where it
/// is (in characters, from 1), as a field error message.
pub fn check(kind: TextKind, s: &str) -> Result<(), String> {
    match s.chars().enumerate().find(|(_, c)| is_refused(kind, *c)) {
        None => Ok(()),
        Some((position, c)) => {
            let allowed = match kind {
                TextKind::Line => "",
                TextKind::Multiline => " (line breaks and tabs are allowed)",
            };
            Err(format!(
                "must not contain control characters or bidirectional overrides{allowed}; \
                 found U+{:04X} at character {}",
                u32::from(c),
                position + 1
            ))
        }
    }
}

/// Characters of a [`user_agent_summary`] at most.
pub const MAX_USER_AGENT_CHARS: usize = 200;

/// What the session list shows of a login's `User-Agent`: the header with the characters
/// [`check`] refuses in a line removed (but tabs and line breaks count as whitespace), runs of
/// whitespace made one space, cut to
/// [`MAX_USER_AGENT_CHARS`]. `None` if nothing is left (no header, or only such characters).
pub fn user_agent_summary(raw: &str) -> Option<String> {
    let visible: String = raw
        .chars()
        .filter(|c| c.is_whitespace() || !is_refused(TextKind::Line, *c))
        .collect();
    let summary: String = visible
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(MAX_USER_AGENT_CHARS)
        .collect();
    let summary = summary.trim_end();
    (!summary.is_empty()).then(|| summary.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_summaries_are_one_short_visible_line() {
        assert_eq!(
            user_agent_summary("Mozilla/5.0 (X11; Linux x86_64)").as_deref(),
            Some("Mozilla/5.0 (X11; Linux x86_64)")
        );
        assert_eq!(
            user_agent_summary("  curl/8.5\t\u{1B}[31m  \u{202E}evil\u{0}  ").as_deref(),
            Some("curl/8.5 [31m evil")
        );
        let long = "x".repeat(500);
        assert_eq!(
            user_agent_summary(&long).map(|s| s.chars().count()),
            Some(200)
        );
        let wide = "é".repeat(300);
        assert_eq!(user_agent_summary(&wide), Some("é".repeat(200)));
        assert_eq!(user_agent_summary(""), None);
        assert_eq!(user_agent_summary(" \u{7}\t "), None);
    }
    use proptest::prelude::*;

    #[test]
    fn lines_refuse_every_control_and_bidi_character() {
        for c in [
            '\0', '\u{7}', '\n', '\r', '\t', '\u{1B}', '\u{7F}', '\u{80}', '\u{9F}',
        ] {
            assert!(check(TextKind::Line, &format!("a{c}b")).is_err(), "{c:?}");
        }
        for c in ['\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}'] {
            assert!(check(TextKind::Line, &format!("a{c}b")).is_err(), "{c:?}");
        }
        for c in ['\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}'] {
            assert!(
                check(TextKind::Multiline, &format!("a{c}b")).is_err(),
                "{c:?}"
            );
        }
        assert_eq!(
            check(TextKind::Line, "bad\u{0}title").unwrap_err(),
            "must not contain control characters or bidirectional overrides; \
             found U+0000 at character 4"
        );
    }

    #[test]
    fn multiline_text_keeps_line_breaks_and_tabs_only() {
        assert!(check(TextKind::Multiline, "a\nb\r\n\tc").is_ok());
        assert!(check(TextKind::Multiline, "bell\u{7}").is_err());
        assert!(check(TextKind::Multiline, "\u{85}").is_err());
        assert!(check(TextKind::Multiline, "\u{1F}").is_err());
    }

    #[test]
    fn ordinary_unicode_is_kept() {
        for s in [
            "Buy milk",
            "Grüße",
            "日本語",
            "עברית",
            "مرحبا",
            "🔑 emoji",
            "a\u{200D}b",
        ] {
            assert!(check(TextKind::Line, s).is_ok(), "{s}");
        }
    }

    proptest! {
        #[test]
        fn check_refuses_exactly_the_refused_characters(s in "\\PC*|[\\x00-\\x{9F}\\x{2060}-\\x{2070}\\x{2028}-\\x{2030}a ]{0,8}") {
            for kind in [TextKind::Line, TextKind::Multiline] {
                let refused = s.chars().any(|c| is_refused(kind, c));
                prop_assert_eq!(check(kind, &s).is_err(), refused);
            }
        }
    }
}

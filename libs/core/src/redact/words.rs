//! Words of a text with their byte spans, and the small predicates the detectors share.

/// A word: a maximal run of alphanumeric characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Word<'a> {
    /// Byte offset of the word.
    pub start: usize,
    /// Byte offset just past the word.
    pub end: usize,
    /// The word itself.
    pub text: &'a str,
}

/// The words of `text`, in order.
pub(super) fn words(text: &str) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        match (start, c.is_alphanumeric()) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                out.push(Word {
                    start: s,
                    end: i,
                    text: &text[s..i],
                });
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Whether `word` is one of `list` (ASCII case-insensitive).
pub(super) fn is_one_of(word: &str, list: &[&str]) -> bool {
    list.iter().any(|w| w.eq_ignore_ascii_case(word))
}

/// Whether the text between two words ends a sentence (`.`, `?`, `!`, `;` or a line break), so
/// a cue word on one side says nothing about a number on the other.
pub(super) fn ends_sentence(between: &str) -> bool {
    between.contains(['.', '?', '!', ';', '\n'])
}

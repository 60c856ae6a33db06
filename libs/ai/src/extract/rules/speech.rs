//! Turns one spoken turn, as an ASR transcript writes it, into clean clauses.
//!
//! Owns the tolerance for speech noise: missing or wrong punctuation, lower case, fillers ("um",
//! "uh", "you know"), false starts ("I'm- I'm"), stutters ("I I live in"), self-corrections
//! ("Denver, I mean Boulder"), run-on sentences joined by "and I …", polite requests ("can you
//! email me instead") and interrogatives without a question mark. Invariants:
//! - every [`Token`] keeps the caller's own spelling in `text` (for names and places) next to
//!   a lower-case canonical form in `norm` (contractions expanded: "I'm" → "i am");
//! - a [`Clause`]'s `text` is its norms joined by single spaces, and `starts[i]` is the byte
//!   offset of token `i` in it, so a pattern match maps back to tokens exactly;
//! - a clause is marked a question when it ends with "?" or opens like one; requests ("can you
//!   text me") are rewritten as imperatives and are not questions.

/// One word of a clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    /// The word as spoken (punctuation trimmed), or the expansion of a contraction.
    pub text: String,
    /// Lower-case canonical form.
    pub norm: String,
    /// Whether a comma or dash came right before it.
    pub pause: bool,
}

/// One clause: a sentence, or a part of a run-on sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Clause {
    /// Its words.
    pub tokens: Vec<Token>,
    /// Norms joined by single spaces.
    pub text: String,
    /// Byte offset of each token in `text`.
    pub starts: Vec<usize>,
    /// Whether it asks something rather than states it.
    pub question: bool,
}

impl Clause {
    fn new(tokens: Vec<Token>, question: bool) -> Self {
        let mut text = String::new();
        let mut starts = Vec::with_capacity(tokens.len());
        for token in &tokens {
            if !text.is_empty() {
                text.push(' ');
            }
            starts.push(text.len());
            text.push_str(&token.norm);
        }
        Self {
            tokens,
            text,
            starts,
            question,
        }
    }

    /// Index of the token starting at or after byte `offset` of `text`.
    pub fn token_at(&self, offset: usize) -> usize {
        self.starts
            .iter()
            .position(|&s| s >= offset)
            .unwrap_or(self.tokens.len())
    }

    /// Tokens covering the byte range `start..end` of `text`.
    pub fn span(&self, start: usize, end: usize) -> &[Token] {
        let first = self.token_at(start);
        let last = self.token_at(end);
        &self.tokens[first..last.max(first)]
    }
}

const FILLERS: &[&str] = &[
    "um",
    "umm",
    "uh",
    "uhh",
    "uhm",
    "er",
    "erm",
    "ah",
    "hmm",
    "hm",
    "mm",
    "mhm",
    "basically",
    "literally",
    "honestly",
    "actually",
    "just",
    "please",
    "totally",
    "definitely",
    "also",
];
const FILLER_PAIRS: &[[&str; 2]] = &[
    ["you", "know"],
    ["kind", "of"],
    ["sort", "of"],
    ["i", "guess"],
    ["i", "think"],
];
/// Words after which "like" is a verb, not a filler.
const LIKE_KEEPERS: &[&str] = &[
    "i",
    "we",
    "they",
    "you",
    "he",
    "she",
    "would",
    "really",
    "also",
    "do",
    "not",
    "does",
    "did",
    "to",
    "who",
    "looks",
    "sounds",
    "feel",
    "feels",
    "something",
    "anything",
];
const LEADING_MARKERS: &[&str] = &[
    "oh", "okay", "ok", "so", "well", "yeah", "yes", "yep", "yup", "right", "and", "but", "also",
    "hi", "hello", "hey", "alright", "anyway", "see", "look", "listen", "sure", "great", "then",
    "now", "because",
];
const SUBJECTS: &[&str] = &["i", "my", "we", "our"];
const CONJUNCTIONS: &[&str] = &["and", "but", "so", "also", "plus", "because", "or"];
const INTERROGATIVES: &[&str] = &[
    "what", "which", "when", "where", "who", "whom", "whose", "why", "how", "do", "does", "did",
    "is", "are", "was", "were", "can", "could", "would", "will", "should", "shall", "have", "has",
    "am", "may",
];
const ABBREVIATIONS: &[&str] = &[
    "dr", "mr", "mrs", "ms", "st", "jr", "sr", "mt", "vs", "etc", "a.m", "p.m", "e.g", "i.e",
    "ave", "apt",
];

/// Splits one turn's words into clauses.
pub(crate) fn clauses(message: &str) -> Vec<Clause> {
    let mut out = Vec::new();
    for (sentence, question) in sentences(message) {
        let tokens = apply_corrections(collapse_repeats(drop_fillers(tokenize(&sentence))));
        let parts = split_run_ons(tokens);
        let count = parts.len();
        for (i, part) in parts.into_iter().enumerate() {
            let part = strip_leading_markers(part);
            if part.is_empty() {
                continue;
            }
            let (part, request) = strip_request(part);
            let asks = !request && ((question && i + 1 == count) || opens_like_question(&part));
            out.push(Clause::new(part, asks));
        }
    }
    out
}

/// Sentences and whether each ended with a question mark.
fn sentences(message: &str) -> Vec<(String, bool)> {
    let text = message.replace(['\u{2019}', '\u{2018}'], "'");
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        current.push(c);
        if !matches!(c, '.' | '!' | '?' | ';') {
            continue;
        }
        let at_break = chars.get(i + 1).is_none_or(|n| n.is_whitespace());
        if !at_break || (c == '.' && ends_with_abbreviation(&current)) {
            continue;
        }
        let question = current
            .chars()
            .rev()
            .take_while(|c| matches!(c, '.' | '!' | '?' | ';'))
            .any(|c| c == '?');
        out.push((std::mem::take(&mut current), question));
    }
    if !current.trim().is_empty() {
        out.push((current, false));
    }
    out
}

fn ends_with_abbreviation(sentence: &str) -> bool {
    let last = sentence
        .trim_end_matches('.')
        .rsplit(char::is_whitespace)
        .next()
        .unwrap_or("")
        .to_lowercase();
    ABBREVIATIONS.contains(&last.as_str())
}

/// Words with punctuation trimmed, false starts dropped and contractions expanded.
fn tokenize(sentence: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut pause = false;
    for raw in sentence.split_whitespace() {
        let bare = raw.trim_end_matches([',', '.', '!', '?', ';', ':', '"', ')']);
        if bare
            .chars()
            .all(|c| matches!(c, '-' | '\u{2014}' | '\u{2013}'))
        {
            pause = true;
            continue;
        }
        // "I'm-" or "I—": a word cut off and started again.
        if bare.ends_with(['-', '\u{2014}', '\u{2013}']) {
            pause = true;
            continue;
        }
        let word = bare
            .trim_start_matches(['"', '(', '\''])
            .trim_end_matches('\'');
        if word.is_empty() {
            continue;
        }
        for (i, (text, norm)) in expand(word).into_iter().enumerate() {
            tokens.push(Token {
                text,
                norm,
                pause: pause && i == 0,
            });
        }
        pause = raw.ends_with([',', ':']) || raw.ends_with(['\u{2014}', '\u{2013}']);
    }
    tokens
}

/// A word as (spelling, norm) pairs: contractions become two words, "10am" becomes "10 am".
fn expand(word: &str) -> Vec<(String, String)> {
    let lower = word.to_lowercase();
    let pair = |a: &str, b: &str| vec![(a.to_owned(), a.to_owned()), (b.to_owned(), b.to_owned())];
    let fixed: Option<Vec<(String, String)>> = match lower.as_str() {
        "i'm" | "im" => Some(vec![("I".into(), "i".into()), ("am".into(), "am".into())]),
        "i've" | "ive" => Some(vec![
            ("I".into(), "i".into()),
            ("have".into(), "have".into()),
        ]),
        "i'd" => Some(vec![
            ("I".into(), "i".into()),
            ("would".into(), "would".into()),
        ]),
        "i'll" => Some(vec![
            ("I".into(), "i".into()),
            ("will".into(), "will".into()),
        ]),
        "we're" => Some(pair("we", "are")),
        "we've" => Some(pair("we", "have")),
        "we'd" => Some(pair("we", "would")),
        "we'll" => Some(pair("we", "will")),
        "you're" => Some(pair("you", "are")),
        "you've" => Some(pair("you", "have")),
        "you'll" => Some(pair("you", "will")),
        "they're" => Some(pair("they", "are")),
        "it's" => Some(pair("it", "is")),
        "that's" => Some(pair("that", "is")),
        "there's" => Some(pair("there", "is")),
        "what's" => Some(pair("what", "is")),
        "he's" => Some(pair("he", "is")),
        "she's" => Some(pair("she", "is")),
        "name's" => Some(pair("name", "is")),
        "let's" => Some(pair("let", "us")),
        "can't" | "cant" | "cannot" => Some(pair("can", "not")),
        "won't" | "wont" => Some(pair("will", "not")),
        "gonna" => Some(pair("going", "to")),
        "wanna" => Some(pair("want", "to")),
        "kinda" => Some(pair("kind", "of")),
        "sorta" => Some(pair("sort", "of")),
        "cuz" | "'cause" => Some(vec![("because".into(), "because".into())]),
        "e-mail" | "e-mails" => Some(vec![(word.into(), "email".into())]),
        "a.m" => Some(vec![("am".into(), "am".into())]),
        "p.m" => Some(vec![("pm".into(), "pm".into())]),
        _ => None,
    };
    if let Some(fixed) = fixed {
        return fixed;
    }
    if let Some(stem) = lower.strip_suffix("n't") {
        return pair(stem, "not");
    }
    if let Some(stem) = [
        "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "havent", "hasnt",
    ]
    .iter()
    .find(|w| **w == lower)
    .and_then(|w| w.strip_suffix("nt"))
    {
        return pair(stem, "not");
    }
    if lower.len() > 2 && lower.ends_with("'s") {
        let cut = word.len() - 2;
        return vec![
            (word[..cut].to_owned(), lower[..cut].to_owned()),
            ("'s".into(), "'s".into()),
        ];
    }
    for suffix in ["am", "pm"] {
        if let Some(digits) = lower.strip_suffix(suffix)
            && !digits.is_empty()
            && digits.chars().all(|c| c.is_ascii_digit() || c == ':')
        {
            return pair(digits, suffix);
        }
    }
    vec![(word.to_owned(), lower)]
}

/// Removes fillers; "like" only where it is not a verb. A pause before a removed filler moves
/// to the next word kept.
fn drop_fillers(tokens: Vec<Token>) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    let mut pending_pause = false;
    let mut i = 0;
    while i < tokens.len() {
        let norm = tokens[i].norm.as_str();
        let next = tokens.get(i + 1).map(|t| t.norm.as_str());
        let pair = FILLER_PAIRS
            .iter()
            .any(|[a, b]| *a == norm && Some(*b) == next);
        // "do you know …" is a question, not a filler.
        let asks = norm == "you" && out.last().is_some_and(|t| t.norm == "do");
        let filler_like = norm == "like"
            && !out
                .last()
                .is_some_and(|t| LIKE_KEEPERS.contains(&t.norm.as_str()));
        let width = if pair && !asks {
            2
        } else if FILLERS.contains(&norm) || filler_like {
            1
        } else {
            0
        };
        if width > 0 {
            pending_pause |= tokens[i].pause;
            i += width;
            continue;
        }
        let mut token = tokens[i].clone();
        token.pause |= pending_pause && !out.is_empty();
        pending_pause = false;
        out.push(token);
        i += 1;
    }
    out
}

/// "I I live in", "I live in I live in Denver": a repeated run of up to four words said once.
fn collapse_repeats(mut tokens: Vec<Token>) -> Vec<Token> {
    let mut i = 0;
    while i < tokens.len() {
        let repeated = (1..=4).rev().find(|&n| {
            i + 2 * n <= tokens.len()
                && !tokens[i].norm.chars().all(|c| c.is_ascii_digit())
                && (0..n).all(|k| tokens[i + k].norm == tokens[i + n + k].norm)
        });
        match repeated {
            Some(n) => {
                let pause = tokens[i].pause;
                tokens.drain(i..i + n);
                tokens[i].pause = pause;
            }
            None => i += 1,
        }
    }
    tokens
}

/// Splits "my name is Dana and I live in Denver" and "Dana here, can you help" into clauses.
fn split_run_ons(tokens: Vec<Token>) -> Vec<Vec<Token>> {
    let mut parts = vec![Vec::new()];
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        let next_is_subject = tokens
            .get(i + 1)
            .is_some_and(|n| SUBJECTS.contains(&n.norm.as_str()));
        let current_has_words = parts.last().is_some_and(|p| !p.is_empty());
        if current_has_words && CONJUNCTIONS.contains(&token.norm.as_str()) && next_is_subject {
            parts.push(Vec::new());
            i += 1;
            continue;
        }
        let starts_anew = SUBJECTS.contains(&token.norm.as_str())
            || INTERROGATIVES.contains(&token.norm.as_str());
        if current_has_words && token.pause && starts_anew {
            parts.push(Vec::new());
        }
        if let Some(part) = parts.last_mut() {
            part.push(token.clone());
        }
        i += 1;
    }
    parts.retain(|p| !p.is_empty());
    parts
}

/// "Denver, I mean Boulder" → "Boulder". A restart ("…, I mean I live in Boulder") keeps both
/// clauses; the later value wins when candidates are tidied.
fn apply_corrections(mut tokens: Vec<Token>) -> Vec<Token> {
    const MARKERS: &[&[&str]] = &[
        &["i", "mean"],
        &["i", "meant"],
        &["no", "wait"],
        &["or", "rather"],
        &["sorry"],
    ];
    loop {
        let found = (0..tokens.len()).find_map(|at| {
            MARKERS.iter().find_map(|m| {
                let hit = m
                    .iter()
                    .enumerate()
                    .all(|(k, w)| tokens.get(at + k).is_some_and(|t| t.norm == *w));
                // "I'm sorry", "so sorry": an apology, not a correction.
                let apology = m[0] == "sorry"
                    && at > 0
                    && ["am", "so", "really", "i", "very"].contains(&tokens[at - 1].norm.as_str());
                (hit && !apology).then_some((at, m.len()))
            })
        });
        let Some((at, len)) = found else {
            return tokens;
        };
        let fragment: Vec<Token> = tokens[at + len..].to_vec();
        let restart = fragment
            .first()
            .is_some_and(|t| SUBJECTS.contains(&t.norm.as_str()) || t.norm == "it");
        if at == 0
            || fragment.is_empty()
            || restart
            || fragment.len() > 3
            || fragment.len() + 2 > at
        {
            tokens.drain(at..at + len);
            if let Some(next) = tokens.get_mut(at) {
                next.pause = true;
            }
        } else {
            let keep = at - fragment.len();
            tokens.truncate(keep);
            tokens.extend(fragment);
        }
    }
}

fn strip_leading_markers(mut tokens: Vec<Token>) -> Vec<Token> {
    let skip = tokens
        .iter()
        .enumerate()
        .take_while(|(i, t)| {
            let longer = tokens.get(i + 1).is_some_and(|n| n.norm == "longer");
            LEADING_MARKERS.contains(&t.norm.as_str())
                || (t.norm == "no" && !longer)
                || (t.norm == "thank" || t.norm == "thanks")
        })
        .count();
    tokens.drain(..skip);
    tokens
}

/// "can you email me instead" → ("email me instead", true).
fn strip_request(mut tokens: Vec<Token>) -> (Vec<Token>, bool) {
    const PREFIXES: &[&[&str]] = &[
        &["can", "you"],
        &["could", "you"],
        &["would", "you"],
        &["will", "you"],
        &["i", "would", "like", "you", "to"],
        &["i", "want", "you", "to"],
        &["i", "need", "you", "to"],
    ];
    for prefix in PREFIXES {
        let hit =
            prefix.len() < tokens.len() && prefix.iter().zip(&tokens).all(|(w, t)| t.norm == *w);
        if hit {
            tokens.drain(..prefix.len());
            return (tokens, true);
        }
    }
    (tokens, false)
}

fn opens_like_question(tokens: &[Token]) -> bool {
    let first = tokens.first().map(|t| t.norm.as_str()).unwrap_or("");
    let second = tokens.get(1).map(|t| t.norm.as_str()).unwrap_or("");
    INTERROGATIVES.contains(&first) && second != "not"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(message: &str) -> Vec<(String, bool)> {
        clauses(message)
            .into_iter()
            .map(|c| (c.text, c.question))
            .collect()
    }

    #[test]
    fn splits_run_ons_and_drops_fillers() {
        assert_eq!(
            texts("um so my name is uh Dana and I I live in Denver you know"),
            vec![
                ("my name is dana".to_owned(), false),
                ("i live in denver".to_owned(), false),
            ]
        );
    }

    #[test]
    fn false_starts_and_repeated_phrases_collapse() {
        assert_eq!(
            texts("I'm- I'm allergic to peanuts")[0].0,
            "i am allergic to peanuts"
        );
        assert_eq!(texts("i live in i live in austin")[0].0, "i live in austin");
    }

    #[test]
    fn self_corrections_keep_the_corrected_value() {
        assert_eq!(
            texts("I live in Denver, I mean Boulder")[0].0,
            "i live in boulder"
        );
        assert_eq!(
            texts("I'm sorry to bother you")[0].0,
            "i am sorry to bother you"
        );
        assert_eq!(
            texts("i live in denver i mean i live in boulder"),
            vec![
                ("i live in denver".to_owned(), false),
                ("i live in boulder".to_owned(), false)
            ]
        );
    }

    #[test]
    fn questions_with_and_without_marks() {
        assert!(texts("did I already tell you which pharmacy I switched to")[0].1);
        assert_eq!(
            texts("My name is Dana, what's my balance?"),
            vec![
                ("my name is dana".to_owned(), false),
                ("what is my balance".to_owned(), true)
            ]
        );
        assert_eq!(
            texts("Can you text me instead?"),
            vec![("text me instead".to_owned(), false)]
        );
        assert!(!texts("Don't call me before 10am")[0].1);
        assert_eq!(
            texts("Don't call me before 10am")[0].0,
            "do not call me before 10 am"
        );
    }

    #[test]
    fn possessives_and_abbreviations() {
        assert_eq!(
            texts("My daughter's name is Maya.")[0].0,
            "my daughter 's name is maya"
        );
        assert_eq!(texts("I see Dr. Patel on Fridays.").len(), 1);
    }
}

//! Words of a spoken sentence: spelling kept, noise removed.
//!
//! Owns [`Token`] and the word-level clean-up of an ASR sentence: punctuation trimmed, false
//! starts dropped ("I'm-"), contractions expanded ("I'm" → "i am", "10am" → "10 am",
//! "daughter's" → "daughter 's"), fillers removed ("um", "you know", a "like" that is not a
//! verb), and stutters collapsed ("I I live in I live in" → "I live in"). Invariants: a token's
//! `text` is the speaker's spelling (or a contraction's expansion) and its `norm` is lower case;
//! a pause (comma or dash) before a removed word moves to the next word kept.

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
/// Words with punctuation trimmed, false starts dropped, contractions expanded, fillers
/// removed and repeats collapsed.
pub(crate) fn words(sentence: &str) -> Vec<Token> {
    collapse_repeats(drop_fillers(tokenize(sentence)))
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

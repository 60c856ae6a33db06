//! Deterministic mutations for the stable replay: a small xorshift generator seeded from the
//! input's file name, and libFuzzer-like edits (bit flips, interesting bytes, dictionary tokens,
//! deletions, duplications, truncation, splices from another seed). The same corpus always
//! gives the same mutants, so a failure reproduces exactly.

/// A xorshift64* generator: deterministic, good enough to pick edits.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded from `label` (FNV-1a), never zero.
    pub fn new(label: &str) -> Self {
        let hash = label.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
        Self(hash | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `bound` (0 when `bound` is 0).
    pub fn below(&mut self, bound: usize) -> usize {
        if bound == 0 {
            return 0;
        }
        usize::try_from(self.next() % u64::try_from(bound).unwrap_or(u64::MAX)).unwrap_or(0)
    }
}

/// Bytes that often change how a parser reads the text around them.
const INTERESTING: &[u8] = b"\0\xff\x7f\x80\xc3\xe2\"\\{}[],:=.-+0 19\neE";

/// `input` changed by one to four edits; `dictionary` and `others` (other seeds of the same
/// target) supply tokens and splices.
pub fn mutate(input: &[u8], rng: &mut Rng, dictionary: &[Vec<u8>], others: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(8) {
            0 if at < bytes.len() => bytes[at] ^= 1 << rng.below(8),
            1 if at < bytes.len() => bytes[at] = INTERESTING[rng.below(INTERESTING.len())],
            2 if !dictionary.is_empty() => {
                let token = &dictionary[rng.below(dictionary.len())];
                bytes.splice(at..at, token.iter().copied());
            }
            3 => {
                let end = (at + 1 + rng.below(16)).min(bytes.len());
                bytes.drain(at.min(end)..end);
            }
            4 => {
                let end = (at + 1 + rng.below(32)).min(bytes.len());
                let chunk = bytes[at.min(end)..end].to_vec();
                bytes.splice(at..at, chunk);
            }
            5 => bytes.truncate(at),
            6 if !others.is_empty() => {
                let other = &others[rng.below(others.len())];
                let from = rng.below(other.len() + 1);
                let end = (from + 1 + rng.below(64)).min(other.len());
                bytes.splice(at..at, other[from.min(end)..end].iter().copied());
            }
            _ => bytes.insert(at, INTERESTING[rng.below(INTERESTING.len())]),
        }
    }
    bytes
}

/// The tokens of a libFuzzer dictionary (`name="token"` or `"token"` lines, `\\`, `\"` and
/// `\xNN` escapes; `#` comments).
pub fn dictionary(text: &str) -> Vec<Vec<u8>> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.starts_with('#') {
                return None;
            }
            let quoted = &line[line.find('"')? + 1..line.rfind('"')?];
            let mut token = Vec::new();
            let mut chars = quoted.bytes();
            while let Some(byte) = chars.next() {
                match (byte, chars.clone().next()) {
                    (b'\\', Some(b'x')) => {
                        chars.next();
                        let hex = [chars.next()?, chars.next()?];
                        token.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
                    }
                    (b'\\', Some(escaped)) => {
                        chars.next();
                        token.push(escaped);
                    }
                    _ => token.push(byte),
                }
            }
            Some(token)
        })
        .collect()
}

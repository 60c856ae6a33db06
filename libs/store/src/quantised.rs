//! A heavy user's vectors as 8-bit codes, scanned first so a search reads a quarter of the
//! bytes: each row is stored as `round(v / max|v| × 127)` with its scale, the query is coded
//! the same way, and the integer dot product times both scales approximates the cosine. The
//! scan keeps the best [`shortlist`] rows, which are then scored exactly on the `f32` matrix,
//! so the ranking returned is the exact one unless a row the codes misplace by more than the
//! shortlist's margin would have made the top — which a margin of several times the limit
//! makes vanishingly rare for unit vectors (each code errs by at most half a step of 1/127).

/// Users with at least this many vectors get codes: below it the `f32` scan is cheap enough.
pub const QUANTISE_FROM: usize = 2_048;

/// How many rows the coded scan keeps for exact scoring when `limit` are asked for.
pub fn shortlist(limit: usize) -> usize {
    limit.saturating_mul(4).saturating_add(32)
}

/// Row-major 8-bit codes of a matrix, with one scale per row.
#[derive(Debug, Default, Clone)]
pub struct CodedRows {
    codes: Vec<i8>,
    scales: Vec<f32>,
    dimension: usize,
}

/// The codes and scale of one vector.
pub fn code(vector: &[f32]) -> (Vec<i8>, f32) {
    let largest = vector.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    if largest == 0.0 {
        return (vec![0; vector.len()], 0.0);
    }
    let step = largest / 127.0;
    let codes = vector
        .iter()
        .map(|x| (x / step).round().clamp(-127.0, 127.0) as i8)
        .collect();
    (codes, step)
}

/// Integer dot product of two code rows.
fn dot_codes(a: &[i8], b: &[i8]) -> i32 {
    let mut sums = [0i32; 16];
    let chunks_a = a.chunks_exact(16);
    let chunks_b = b.chunks_exact(16);
    let tail: i32 = chunks_a
        .remainder()
        .iter()
        .zip(chunks_b.remainder())
        .map(|(x, y)| i32::from(*x) * i32::from(*y))
        .sum();
    for (ca, cb) in chunks_a.zip(chunks_b) {
        for i in 0..16 {
            sums[i] += i32::from(ca[i]) * i32::from(cb[i]);
        }
    }
    sums.iter().sum::<i32>() + tail
}

impl CodedRows {
    /// Codes every row of `matrix` (`dimension` values a row).
    pub fn of(matrix: &[f32], dimension: usize) -> Self {
        let rows = matrix.len().checked_div(dimension).unwrap_or(0);
        let mut coded = Self {
            codes: Vec::with_capacity(rows * dimension),
            scales: Vec::with_capacity(rows),
            dimension,
        };
        for row in matrix.chunks_exact(dimension.max(1)) {
            let (codes, scale) = code(row);
            coded.codes.extend(codes);
            coded.scales.push(scale);
        }
        coded
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.codes.len() + self.scales.len() * size_of::<f32>()
    }

    /// The approximate similarity of `query` (coded by [`code`]) to row `row`.
    pub fn similarity(&self, query: &(Vec<i8>, f32), row: usize) -> f32 {
        let start = row * self.dimension;
        let codes = &self.codes[start..start + self.dimension];
        dot_codes(&query.0, codes) as f32 * query.1 * self.scales[row]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coded_similarity_is_within_a_few_hundredths_of_the_cosine() {
        let a: Vec<f32> = (0..256)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0)
            .collect();
        let b: Vec<f32> = (0..256)
            .map(|i| ((i * 53 % 89) as f32 - 44.0) / 44.0)
            .collect();
        let unit = |v: &[f32]| {
            let n = memvox_core::vector::norm(v);
            v.iter().map(|x| x / n).collect::<Vec<f32>>()
        };
        let (a, b) = (unit(&a), unit(&b));
        let rows = CodedRows::of(&b, 256);
        let approx = rows.similarity(&code(&a), 0);
        let exact = memvox_core::vector::dot(&a, &b);
        assert!((approx - exact).abs() < 0.02, "{approx} vs {exact}");
        assert_eq!(rows.bytes(), 256 + 4);
        assert_eq!(code(&[0.0, 0.0]), (vec![0, 0], 0.0));
    }
}

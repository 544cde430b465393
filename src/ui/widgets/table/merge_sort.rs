//! A merge sort that can stop after a number of steps and go on later, so
//! a table in memory is sorted a slice per frame without holding up the
//! window. Stable: equal rows keep their order.

use std::cmp::Ordering;

/// Row indices being sorted.
#[derive(Clone, Debug, Default)]
pub struct MergeSort {
    from: Vec<u32>,
    into: Vec<u32>,
    width: usize,
    /// The merge under way: its runs `lo..mid`, `mid..hi` and where each
    /// has got to (`None`: start the next one at `lo`).
    merge: Option<(usize, usize, usize, usize, usize)>,
    lo: usize,
}

impl MergeSort {
    /// Starts sorting `rows`.
    pub fn new(rows: Vec<u32>) -> Self {
        MergeSort {
            into: vec![0; rows.len()],
            from: rows,
            width: 1,
            merge: None,
            lo: 0,
        }
    }

    /// Moves at most `budget` rows; true once sorted.
    pub fn step(&mut self, mut budget: usize, compare: impl Fn(u32, u32) -> Ordering) -> bool {
        let n = self.from.len();
        while self.width < n {
            if self.lo >= n {
                std::mem::swap(&mut self.from, &mut self.into);
                self.width *= 2;
                self.lo = 0;
                continue;
            }
            let (mid, hi, mut i, mut j, mut k) = self.merge.unwrap_or_else(|| {
                let mid = (self.lo + self.width).min(n);
                let hi = (self.lo + 2 * self.width).min(n);
                (mid, hi, self.lo, mid, self.lo)
            });
            while k < hi {
                if budget == 0 {
                    self.merge = Some((mid, hi, i, j, k));
                    return false;
                }
                budget -= 1;
                let left = j >= hi
                    || (i < mid && compare(self.from[i], self.from[j]) != Ordering::Greater);
                if left {
                    self.into[k] = self.from[i];
                    i += 1;
                } else {
                    self.into[k] = self.from[j];
                    j += 1;
                }
                k += 1;
            }
            self.merge = None;
            self.lo = hi;
        }
        true
    }

    /// The rows (sorted once [`MergeSort::step`] said so).
    pub fn into_rows(self) -> Vec<u32> {
        self.from
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_in_slices_like_a_stable_sort() {
        for n in [0usize, 1, 2, 3, 7, 64, 1000, 1025] {
            let keys: Vec<u32> = (0..n as u32).map(|i| (i * 7919) % 13).collect();
            let mut sort = MergeSort::new((0..n as u32).collect());
            let mut calls = 0;
            while !sort.step(17, |a, b| keys[a as usize].cmp(&keys[b as usize])) {
                calls += 1;
                assert!(calls < 10_000);
            }
            let mut want: Vec<u32> = (0..n as u32).collect();
            want.sort_by_key(|i| keys[*i as usize]);
            assert_eq!(sort.into_rows(), want, "{n} rows");
        }
    }
}

//! CPU mirror of `shaders/reduce.wgsl`: per-field sum, minimum, maximum and counts of
//! non-finite and negative values, summed block by block in a fixed order so the result
//! does not depend on thread scheduling.

use rayon::prelude::*;

use crate::numerics::REDUCE_BLOCK;
use crate::sim::FieldStats;

/// Statistics of each field.
pub fn reduce(fields: &[f32], n_vox: usize) -> Vec<FieldStats> {
    fields
        .chunks(n_vox)
        .map(|field| {
            let partials: Vec<FieldStats> = field
                .par_chunks(REDUCE_BLOCK)
                .map(|c| {
                    let mut s = FieldStats::empty();
                    let mut sum = 0f32;
                    for &v in c {
                        if v.is_finite() {
                            sum += v;
                            s.min = s.min.min(v as f64);
                            s.max = s.max.max(v as f64);
                            if v < 0.0 {
                                s.negative += 1;
                            }
                        } else {
                            s.nonfinite += 1;
                        }
                    }
                    s.sum = sum as f64;
                    s
                })
                .collect();
            partials
                .into_iter()
                .fold(FieldStats::empty(), |a, b| a.merge(&b))
        })
        .collect()
}

//! The numbers both backends share, in one place below them: the implicit solve's
//! tolerance and iteration cap, the block sizes that fix the order of f32 sums (the CPU
//! adds in the blocks the GPU's workgroups add), and the shape of the multigrid hierarchy.
//! The GPU kernels get them from [`wgsl_constants`], generated into every kernel's prelude
//! (`gpu::layout`), so no shader repeats one as a literal.

/// Relative residual at which an implicit solve stops, unless the preset sets
/// `time.implicit_tolerance`.
pub const TOLERANCE: f64 = 1e-5;

/// Iterations after which an implicit solve that has not converged is an error.
pub const MAX_ITERATIONS: usize = 1000;

/// Floor on the squared norm `|b|^2` of an implicit solve's right-hand side (field units
/// squared; `RHS_FLOOR_SQ` in WGSL). A field that, with its sources, has decayed to
/// `|b| < 1e-15` over the whole domain (for a cytokine, 1e-15 nM summed over every voxel)
/// is solved to an absolute residual of tolerance x 1e-15: its relative residual is then
/// f32 round-off of near-zero numbers, which no iteration can lower. Both backends stop on
/// `|r|^2 <= tolerance^2 max(|b|^2, RHS_FLOOR_SQ)`.
pub const RHS_FLOOR_SQ: f64 = 1e-30;

/// Voxels per partial sum of the solve's dot products (one GPU workgroup of the solve
/// kernels: `DOT_BLOCK` in WGSL, and their `WG`, from the kernel table).
pub const DOT_BLOCK: usize = 256;

/// Voxels per partial sum of the field statistics (`REDUCE_BLOCK` in WGSL).
pub const REDUCE_BLOCK: usize = 1024;

/// Invocations per workgroup of the statistics kernel (`REDUCE_THREADS` in WGSL); each
/// reduces `REDUCE_BLOCK / REDUCE_THREADS` voxels.
pub const REDUCE_THREADS: usize = 256;

/// A multigrid level is not coarsened further once no axis is longer than this many voxels.
pub const COARSEST: usize = 4;

/// Symmetric red-black sweep pairs that solve the coarsest multigrid level
/// (`COARSE_SWEEPS` in WGSL).
pub const COARSE_SWEEPS: usize = 4;

/// Dimensions of the multigrid level below `dims`.
pub fn coarse_dims(dims: [usize; 3]) -> [usize; 3] {
    dims.map(|n| n.div_ceil(2))
}

/// True when a level of `dims` is coarsened further.
pub fn coarsens(dims: [usize; 3]) -> bool {
    dims.iter().any(|&n| n > COARSEST)
}

/// The block sizes as WGSL constants, for the kernels' prelude.
pub fn wgsl_constants() -> String {
    format!(
        "const DOT_BLOCK: u32 = {DOT_BLOCK}u;\nconst REDUCE_BLOCK: u32 = {REDUCE_BLOCK}u;\n\
         const REDUCE_THREADS: u32 = {REDUCE_THREADS}u;\nconst COARSE_SWEEPS: u32 = {COARSE_SWEEPS}u;\n\
         const RHS_FLOOR_SQ: f32 = {RHS_FLOOR_SQ:e};\n"
    )
}

/// `12` for 12.0, `213.333` for 213.33333333333334: a number as people write it (at most
/// `digits` significant digits, no trailing zeros).
pub fn plain(x: f64, digits: usize) -> String {
    if x == 0.0 || !x.is_finite() {
        return x.to_string();
    }
    let magnitude = x.abs().log10().floor() as i64;
    let decimals = (digits as i64 - 1 - magnitude).max(0) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statistics_block_is_whole_workgroups() {
        assert_eq!(REDUCE_BLOCK % REDUCE_THREADS, 0);
        let w = wgsl_constants();
        for (name, v) in [
            ("DOT_BLOCK", DOT_BLOCK),
            ("REDUCE_BLOCK", REDUCE_BLOCK),
            ("REDUCE_THREADS", REDUCE_THREADS),
            ("COARSE_SWEEPS", COARSE_SWEEPS),
        ] {
            assert!(w.contains(&format!("const {name}: u32 = {v}u;")), "{w}");
        }
        assert!(w.contains("const RHS_FLOOR_SQ: f32 = 1e-30;"), "{w}");
    }

    #[test]
    fn the_hierarchy_halves_to_the_coarsest_level() {
        assert_eq!(coarse_dims([9, 8, 1]), [5, 4, 1]);
        assert!(coarsens([5, 4, 4]) && !coarsens([4, 4, 1]));
    }
}

//! What the host's uploaded structs share with their WGSL twins: each `#[repr(C)]` struct
//! lists, beside itself, every member of the WGSL struct it is uploaded as and the byte
//! offset where that member lies on the Rust side ([`wgsl_members!`]). The struct check
//! (`gpu::bindings` tests) compares each member's offset with naga's layout of the
//! generated shader, so two swapped members of the same size are caught, not only a change
//! of size.

/// `&[(WGSL member name, byte offset in the Rust struct)]` for `Type`: each entry
/// `"name" => field` (or `"name" => field + bytes`, for a WGSL member that is part of a
/// Rust array).
macro_rules! wgsl_members {
    ($t:ty { $($wgsl:literal => $field:ident $(+ $extra:expr)?),* $(,)? }) => {
        &[$(($wgsl, ::std::mem::offset_of!($t, $field) $(+ $extra)?)),*]
    };
}
pub(crate) use wgsl_members;

/// One struct's member map, as [`wgsl_members!`] makes it.
pub type Members = &'static [(&'static str, usize)];

//! The kernel table: one typed record per compute kernel, the only place a kernel's name
//! is written. A record says where the kernel's WGSL is, which shared files it includes,
//! which buffers the host binds before the field chunks (by the shader variables' names,
//! checked against naga's reflection in [`super::bindings`]), whether it binds every field
//! chunk or one at a time, whether it needs the bone-metastasis model's fields, and its
//! workgroup size, which the generated prelude gives the shader as `WG`. Adding a kernel:
//! a variant and a record here, its `shaders/<name>.wgsl`, and its CPU mirror
//! (docs/architecture.md).

use crate::numerics::DOT_BLOCK;

/// A compute kernel. The discriminant indexes [`TABLE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// Split-operator transport sweeps (`transport.wgsl`).
    Transport,
    /// Supply and uptake regions (`sources.wgsl`).
    Sources,
    /// Per-voxel reactions: biology and drug pools (`react.wgsl`).
    React,
    /// Per-field statistics (`reduce.wgsl`).
    Reduce,
    /// The implicit solves' Krylov steps (`implicit.wgsl`).
    Implicit,
    /// Their multigrid preconditioner (`multigrid.wgsl`).
    Multigrid,
    /// The bone surface after remodelling (`surface.wgsl`).
    Surface,
    /// Chemotaxis of the motile cells (`motility.wgsl`).
    Motility,
}

/// A shared WGSL file a kernel includes after the prelude.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Include {
    /// The solve's bindings and helpers (`shared/solve.wgsl`).
    Solve,
    /// Region weights (`shared/regions.wgsl`).
    Regions,
    /// The model's per-voxel terms and the drugs in tissue (`shared/biology.wgsl`,
    /// `shared/drugs.wgsl`), or stand-ins when the model is off.
    Biology,
}

/// How a kernel binds the field chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunks {
    /// One chunk at a time, as the binding named `chunk` among the host's.
    One,
    /// Every chunk, as `chunk0`, `chunk1`, ... after the host's bindings.
    All,
}

/// One kernel's record.
#[derive(Debug)]
pub struct KernelSpec {
    /// The kernel's name: its file `shaders/<name>.wgsl`, its label `osteoniche.<name>`,
    /// its pass name, and its entry point where it has one.
    pub name: &'static str,
    /// Its WGSL body.
    pub source: &'static str,
    /// Shared files it includes after the prelude, in order.
    pub includes: &'static [Include],
    /// The buffers the host binds before the field chunks, by their shader names.
    pub host: &'static [&'static str],
    /// How it binds the field chunks.
    pub chunks: Chunks,
    /// Whether it needs the bone-metastasis model's fields.
    pub needs_model: bool,
    /// Invocations per workgroup (`WG` in its prelude).
    pub workgroup: u32,
}

impl KernelSpec {
    /// Its debug label, `osteoniche.<name>`.
    pub fn label(&self) -> String {
        format!("osteoniche.{}", self.name)
    }

    /// Whether it binds every field chunk.
    pub fn binds_all_chunks(&self) -> bool {
        self.chunks == Chunks::All
    }
}

/// Everything that builds a kernel (`gpu/layout.rs`, `gpu/bindings.rs`, `gpu/kernel.rs`,
/// the host modules) takes its record this way: a [`Kernel`] of the table, or a record of
/// its own (a scratch kernel in a test, built and dispatched through the same code).
impl AsRef<KernelSpec> for KernelSpec {
    fn as_ref(&self) -> &KernelSpec {
        self
    }
}

impl AsRef<KernelSpec> for Kernel {
    fn as_ref(&self) -> &KernelSpec {
        self.spec()
    }
}

/// The bindings of the implicit solve and its preconditioner (`shared/solve.wgsl`).
const SOLVE_HOST: &[&str] = &[
    "step", "lvl", "fields", "regions", "bone", "reaction", "slots", "state", "partials", "kx",
    "ky", "kz", "mass", "bnd", "diag", "mx", "mb", "mr", "x", "p", "q", "rhs",
];

/// Every kernel's record, in the order of [`Kernel`].
pub const TABLE: [KernelSpec; 8] = [
    KernelSpec {
        name: "transport",
        source: include_str!("../shaders/transport.wgsl"),
        includes: &[],
        host: &["step", "fields", "bone", "chunk"],
        chunks: Chunks::One,
        needs_model: false,
        workgroup: 64,
    },
    KernelSpec {
        name: "sources",
        source: include_str!("../shaders/sources.wgsl"),
        includes: &[Include::Regions],
        host: &["step", "regions"],
        chunks: Chunks::All,
        needs_model: false,
        workgroup: 64,
    },
    KernelSpec {
        name: "react",
        source: include_str!("../shaders/react.wgsl"),
        includes: &[Include::Biology],
        host: &["step", "species", "model", "implicit_rates"],
        chunks: Chunks::All,
        needs_model: false,
        workgroup: 64,
    },
    KernelSpec {
        name: "reduce",
        source: include_str!("../shaders/reduce.wgsl"),
        includes: &[],
        host: &["step", "chunk", "partials", "list"],
        chunks: Chunks::One,
        needs_model: false,
        workgroup: crate::numerics::REDUCE_THREADS as u32,
    },
    KernelSpec {
        name: "implicit",
        source: include_str!("../shaders/implicit.wgsl"),
        includes: &[Include::Solve, Include::Regions],
        host: SOLVE_HOST,
        chunks: Chunks::All,
        needs_model: false,
        workgroup: DOT_BLOCK as u32,
    },
    KernelSpec {
        name: "multigrid",
        source: include_str!("../shaders/multigrid.wgsl"),
        includes: &[Include::Solve],
        host: SOLVE_HOST,
        chunks: Chunks::All,
        needs_model: false,
        workgroup: DOT_BLOCK as u32,
    },
    KernelSpec {
        name: "surface",
        source: include_str!("../shaders/surface.wgsl"),
        includes: &[],
        host: &["step", "model"],
        chunks: Chunks::All,
        needs_model: true,
        workgroup: 64,
    },
    KernelSpec {
        name: "motility",
        source: include_str!("../shaders/motility.wgsl"),
        includes: &[],
        host: &["step", "pair", "scratch"],
        chunks: Chunks::All,
        needs_model: true,
        workgroup: 64,
    },
];

impl Kernel {
    /// Every kernel, in the order of [`TABLE`].
    pub const ALL: [Kernel; 8] = [
        Kernel::Transport,
        Kernel::Sources,
        Kernel::React,
        Kernel::Reduce,
        Kernel::Implicit,
        Kernel::Multigrid,
        Kernel::Surface,
        Kernel::Motility,
    ];

    /// Its record.
    pub const fn spec(self) -> &'static KernelSpec {
        &TABLE[self as usize]
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// Its debug label, `osteoniche.<name>`.
    pub fn label(self) -> String {
        self.spec().label()
    }

    /// Whether it binds every field chunk.
    pub fn binds_all_chunks(self) -> bool {
        self.spec().binds_all_chunks()
    }

    /// The kernel of that name.
    pub fn named(name: &str) -> Option<Kernel> {
        Kernel::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl std::fmt::Display for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_the_order_of_the_enum_and_names_are_unique() {
        for (i, k) in Kernel::ALL.into_iter().enumerate() {
            assert_eq!(k as usize, i);
            assert_eq!(Kernel::named(k.name()), Some(k));
        }
        let mut names: Vec<&str> = TABLE.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TABLE.len());
    }
}

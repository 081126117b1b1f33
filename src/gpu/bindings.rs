//! Bindings from the shaders. Each kernel's bind group layout is built from naga's
//! reflection of its generated WGSL: index, name and kind (uniform, read-only storage,
//! read-write storage) come from the shader's own `@binding` declarations. The host says
//! only which buffer goes where, by the shader variable's name (the kernel table's `host`,
//! [`super::kernels`]), and [`check`]
//! refuses a kernel whose shader and host disagree. `tests` run that check for every kernel
//! without an adapter, so a mismatch fails `cargo test`, not pipeline creation on a GPU.

use super::kernel::Slot;
use crate::error::{Error, Result};
use crate::kernels::KernelSpec;

/// The bindings the host passes to `kernel`, in order, before its field chunks
/// (`chunk0`, `chunk1`, ...): its record in the kernel table.
pub fn host(kernel: impl AsRef<KernelSpec>) -> &'static [&'static str] {
    kernel.as_ref().host
}

/// First binding of the field chunks of `kernel`, when it binds them all.
pub fn first_chunk(kernel: impl AsRef<KernelSpec>) -> Option<u32> {
    let spec = kernel.as_ref();
    spec.binds_all_chunks().then_some(spec.host.len() as u32)
}

/// One binding a shader declares.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// `@binding(i)`.
    pub index: u32,
    /// The variable's name.
    pub name: String,
    /// How it is used.
    pub slot: Slot,
}

/// The bindings of group 0 that `source` declares, in index order; every binding must be
/// a buffer in group 0, and the indices `0..n` without a gap.
pub fn reflect(kernel: impl AsRef<KernelSpec>, source: &str) -> Result<Vec<Binding>> {
    let kernel = kernel.as_ref().name;
    let module = naga::front::wgsl::parse_str(source)
        .map_err(|e| Error::Gpu(format!("kernel `{kernel}`: {}", e.emit_to_string(source))))?;
    let mut out = Vec::new();
    for (_, var) in module.global_variables.iter() {
        let Some(rb) = &var.binding else { continue };
        let name = var.name.clone().unwrap_or_default();
        if rb.group != 0 {
            return Err(Error::Gpu(format!(
                "kernel `{kernel}`: `{name}` is in group {}; kernels use group 0 only",
                rb.group
            )));
        }
        let slot = match var.space {
            naga::AddressSpace::Uniform => Slot::Uniform,
            naga::AddressSpace::Storage { access } => {
                if access.contains(naga::StorageAccess::STORE) {
                    Slot::ReadWrite
                } else {
                    Slot::Read
                }
            }
            other => {
                return Err(Error::Gpu(format!(
                    "kernel `{kernel}`: binding {} `{name}` is in address space {other:?}; kernels bind buffers only",
                    rb.binding
                )));
            }
        };
        out.push(Binding {
            index: rb.binding,
            name,
            slot,
        });
    }
    out.sort_by_key(|b| b.index);
    for (i, b) in out.iter().enumerate() {
        if b.index != i as u32 {
            return Err(Error::Gpu(format!(
                "kernel `{kernel}`: bindings must be 0..{} without a gap; `{}` is at {} where {i} is missing",
                out.len(),
                b.name,
                b.index
            )));
        }
    }
    Ok(out)
}

/// The names the host binds for `kernel` with `chunks` field chunks.
pub fn host_names(kernel: impl AsRef<KernelSpec>, chunks: usize) -> Vec<String> {
    let spec = kernel.as_ref();
    let mut names: Vec<String> = spec.host.iter().map(|s| s.to_string()).collect();
    if spec.binds_all_chunks() {
        names.extend((0..chunks).map(|c| format!("chunk{c}")));
    }
    names
}

/// Refuses a kernel whose shader declares other bindings than the host passes: a missing
/// or extra binding, or another name at an index, said with both sides.
pub fn check(kernel: impl AsRef<KernelSpec>, shader: &[Binding], host: &[String]) -> Result<()> {
    let kernel = kernel.as_ref().name;
    let shown = |names: Vec<&str>| names.join(", ");
    if shader.len() != host.len() || shader.iter().zip(host).any(|(b, h)| b.name != *h) {
        let at = shader
            .iter()
            .zip(host)
            .position(|(b, h)| b.name != *h)
            .unwrap_or(shader.len().min(host.len()));
        return Err(Error::Gpu(format!(
            "kernel `{kernel}`: the shader and the host disagree from binding {at}: the shader declares [{}], the host binds [{}]",
            shown(shader.iter().map(|b| b.name.as_str()).collect()),
            shown(host.iter().map(String::as_str).collect())
        )));
    }
    Ok(())
}

/// The checked, reflected slots of `kernel`'s generated `source` with `chunks` chunks.
pub fn slots(kernel: impl AsRef<KernelSpec>, source: &str, chunks: usize) -> Result<Vec<Slot>> {
    let spec = kernel.as_ref();
    let shader = reflect(spec, source)?;
    check(spec, &shader, &host_names(spec, chunks))?;
    Ok(shader.into_iter().map(|b| b.slot).collect())
}

/// The size in bytes of struct `name` as `source` declares it (naga's layout), and each
/// member's name and byte offset, if it declares it.
pub fn struct_layout(source: &str, name: &str) -> Option<(u32, Vec<(String, u32)>)> {
    let module = naga::front::wgsl::parse_str(source).ok()?;
    module.types.iter().find_map(|(_, t)| match &t.inner {
        naga::TypeInner::Struct { span, members } if t.name.as_deref() == Some(name) => Some((
            *span,
            members
                .iter()
                .map(|m| (m.name.clone().unwrap_or_default(), m.offset))
                .collect(),
        )),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::layout::FieldLayout;
    use crate::grid::Grid;
    use crate::kernels::Kernel;
    use crate::model::{Solver, Species, SpeciesList};

    /// The model's fields, so that every kernel (the model's included) can be assembled.
    fn model_species() -> SpeciesList {
        SpeciesList::new(
            crate::model::biology::MODEL_FIELDS
                .iter()
                .map(|(name, kind, _)| Species {
                    name: name.to_string(),
                    kind: *kind,
                    unit: "nM".into(),
                    diffusion_um2_min: 100.0,
                    decay_per_min: 0.0,
                    bone_permeability: 0.0,
                    growth_per_min: 0.0,
                    capacity: 1.0,
                    solver: Solver::Split,
                })
                .collect(),
        )
    }

    /// Every struct the host uploads has the size its shader declares and every member at
    /// the offset its shader gives it, by naga's layout of the generated source (the
    /// compile-time asserts beside the Rust structs pin the Rust sizes only).
    #[test]
    fn host_structs_have_the_layout_their_shaders_declare() {
        use crate::gpu::implicit::{SlotParams, SolveState};
        use crate::gpu::multigrid::LevelUniform;
        use crate::gpu::reduce::Partial;
        use crate::model::reactions::SpeciesRates;
        use crate::sim::params::{Chemotaxis, FieldTransport, SourceRegion, StepUniform};
        use crate::wgsl::Members;
        use std::mem::size_of;
        let sp = model_species();
        let fl =
            FieldLayout::new(Grid::new(8, 8, 8, 20.0), sp.len(), &wgpu::Limits::default()).unwrap();
        let cases: [(Kernel, &str, usize, Members); 9] = [
            (
                Kernel::Transport,
                "Step",
                size_of::<StepUniform>(),
                StepUniform::WGSL_MEMBERS,
            ),
            (
                Kernel::Transport,
                "FieldTransport",
                size_of::<FieldTransport>(),
                FieldTransport::WGSL_MEMBERS,
            ),
            (
                Kernel::Sources,
                "SourceRegion",
                size_of::<SourceRegion>(),
                SourceRegion::WGSL_MEMBERS,
            ),
            (
                Kernel::React,
                "SpeciesRates",
                size_of::<SpeciesRates>(),
                SpeciesRates::WGSL_MEMBERS,
            ),
            (
                Kernel::Reduce,
                "Partial",
                size_of::<Partial>(),
                Partial::WGSL_MEMBERS,
            ),
            (
                Kernel::Implicit,
                "SlotParams",
                size_of::<SlotParams>(),
                SlotParams::WGSL_MEMBERS,
            ),
            (
                Kernel::Implicit,
                "SolveState",
                size_of::<SolveState>(),
                SolveState::WGSL_MEMBERS,
            ),
            (
                Kernel::Multigrid,
                "Level",
                size_of::<LevelUniform>(),
                LevelUniform::WGSL_MEMBERS,
            ),
            (
                Kernel::Motility,
                "Chemotaxis",
                size_of::<Chemotaxis>(),
                Chemotaxis::WGSL_MEMBERS,
            ),
        ];
        for (kernel, name, rust, members) in cases {
            let src = fl.shader_source(kernel, &sp).unwrap();
            let (size, wgsl) = struct_layout(&src, name)
                .unwrap_or_else(|| panic!("kernel `{kernel}` declares no struct `{name}`"));
            assert_eq!(size as usize, rust, "{kernel}: struct {name}");
            let rust: Vec<(String, u32)> = members
                .iter()
                .map(|(n, o)| (n.to_string(), *o as u32))
                .collect();
            assert_eq!(
                wgsl, rust,
                "{kernel}: members of struct {name} (WGSL vs Rust)"
            );
        }
        // The check sees a change the size check cannot: two members of the same size
        // swapped on the shader side only.
        let src = fl.shader_source(Kernel::Reduce, &sp).unwrap();
        let swapped = src.replacen(
            "    nonfinite: u32,\n    negative: u32,",
            "    negative: u32,\n    nonfinite: u32,",
            1,
        );
        assert_ne!(swapped, src, "the edit applies");
        let (size, wgsl) = struct_layout(&swapped, "Partial").unwrap();
        assert_eq!(size as usize, size_of::<Partial>());
        let rust: Vec<(String, u32)> = Partial::WGSL_MEMBERS
            .iter()
            .map(|(n, o)| (n.to_string(), *o as u32))
            .collect();
        assert_ne!(wgsl, rust);
    }
}

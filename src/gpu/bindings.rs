//! Bindings from the shaders. Each kernel's bind group layout is built from naga's
//! reflection of its generated WGSL: index, name and kind (uniform, read-only storage,
//! read-write storage) come from the shader's own `@binding` declarations. The host says
//! only which buffer goes where, by the shader variable's name ([`host`]), and [`check`]
//! refuses a kernel whose shader and host disagree. `tests` run that check for every kernel
//! without an adapter, so a mismatch fails `cargo test`, not pipeline creation on a GPU.

use super::kernel::Slot;
use crate::error::{Error, Result};

/// The bindings the host passes to `kernel`, in order, before its field chunks
/// (`chunk0`, `chunk1`, ...; `None` for a kernel the host does not build).
pub fn host(kernel: &str) -> Option<&'static [&'static str]> {
    Some(match kernel {
        "transport" => &["step", "fields", "bone", "chunk"],
        "sources" => &["step", "regions"],
        "react" => &["step", "species", "model", "implicit_rates"],
        "surface" => &["step", "model"],
        "motility" => &["step", "pair", "scratch"],
        "reduce" => &["step", "chunk", "partials", "list"],
        "implicit" | "multigrid" => &[
            "step", "lvl", "fields", "regions", "bone", "reaction", "slots", "state", "partials",
            "kx", "ky", "kz", "mass", "bnd", "diag", "mx", "mb", "mr", "x", "p", "q", "rhs",
        ],
        _ => return None,
    })
}

/// Whether `kernel` binds every field chunk after [`host`]'s bindings (the per-voxel and
/// solve kernels); the others bind one chunk at a time as `chunk`.
pub fn binds_all_chunks(kernel: &str) -> bool {
    matches!(
        kernel,
        "sources" | "react" | "surface" | "motility" | "implicit" | "multigrid"
    )
}

/// First binding of the field chunks of `kernel`, when it binds them all.
pub fn first_chunk(kernel: &str) -> Option<u32> {
    binds_all_chunks(kernel)
        .then(|| host(kernel).map(|h| h.len() as u32))
        .flatten()
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
pub fn reflect(kernel: &str, source: &str) -> Result<Vec<Binding>> {
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
pub fn host_names(kernel: &str, chunks: usize) -> Result<Vec<String>> {
    let fixed = host(kernel).ok_or_else(|| Error::Gpu(format!("no kernel `{kernel}`")))?;
    let mut names: Vec<String> = fixed.iter().map(|s| s.to_string()).collect();
    if binds_all_chunks(kernel) {
        names.extend((0..chunks).map(|c| format!("chunk{c}")));
    }
    Ok(names)
}

/// Refuses a kernel whose shader declares other bindings than the host passes: a missing
/// or extra binding, or another name at an index, said with both sides.
pub fn check(kernel: &str, shader: &[Binding], host: &[String]) -> Result<()> {
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
pub fn slots(kernel: &str, source: &str, chunks: usize) -> Result<Vec<Slot>> {
    let shader = reflect(kernel, source)?;
    check(kernel, &shader, &host_names(kernel, chunks)?)?;
    Ok(shader.into_iter().map(|b| b.slot).collect())
}

/// The size in bytes of struct `name` as `source` declares it (naga's layout), if it does.
pub fn struct_size(source: &str, name: &str) -> Option<u32> {
    let module = naga::front::wgsl::parse_str(source).ok()?;
    module.types.iter().find_map(|(_, t)| match &t.inner {
        naga::TypeInner::Struct { span, .. } if t.name.as_deref() == Some(name) => Some(*span),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::layout::FieldLayout;
    use crate::grid::Grid;
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

    /// Every struct the host uploads has the size its shader declares, by naga's layout of
    /// the generated source (the compile-time asserts beside the Rust structs pin the Rust
    /// side only).
    #[test]
    fn host_structs_have_the_sizes_their_shaders_declare() {
        use crate::sim::params::{Chemotaxis, FieldTransport, SourceRegion, StepUniform};
        use std::mem::size_of;
        let sp = model_species();
        let fl =
            FieldLayout::new(Grid::new(8, 8, 8, 20.0), sp.len(), &wgpu::Limits::default()).unwrap();
        let cases = [
            ("transport", "Step", size_of::<StepUniform>()),
            ("transport", "FieldTransport", size_of::<FieldTransport>()),
            ("sources", "SourceRegion", size_of::<SourceRegion>()),
            (
                "react",
                "SpeciesRates",
                size_of::<crate::model::reactions::SpeciesRates>(),
            ),
            (
                "reduce",
                "Partial",
                size_of::<crate::gpu::reduce::Partial>(),
            ),
            (
                "implicit",
                "SlotParams",
                size_of::<crate::gpu::implicit::SlotParams>(),
            ),
            (
                "implicit",
                "SolveState",
                size_of::<crate::gpu::implicit::SolveState>(),
            ),
            (
                "multigrid",
                "Level",
                size_of::<crate::gpu::multigrid::LevelUniform>(),
            ),
            ("motility", "Chemotaxis", size_of::<Chemotaxis>()),
        ];
        for (kernel, name, rust) in cases {
            let src = fl.shader_source(kernel, &sp).unwrap();
            let wgsl = struct_size(&src, name)
                .unwrap_or_else(|| panic!("kernel `{kernel}` declares no struct `{name}`"));
            assert_eq!(wgsl as usize, rust, "{kernel}: struct {name}");
        }
        // The check sees a change: a field added on the shader side only.
        let src = fl.shader_source("reduce", &sp).unwrap();
        let grown = src.replacen(
            "struct Partial {",
            "struct Partial {\n    extra: vec4<f32>,",
            1,
        );
        assert_eq!(
            struct_size(&grown, "Partial"),
            Some(size_of::<crate::gpu::reduce::Partial>() as u32 + 16)
        );
    }
}

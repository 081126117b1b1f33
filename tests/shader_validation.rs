//! Every WGSL kernel, assembled with its generated prelude, parses and validates with naga
//! (no GPU needed), for single- and multi-chunk layouts, with and without a bone field; its
//! bindings, reflected from the shader, are the ones the host binds, and a shader edited to
//! disagree with the host is refused.

use osteoniche::gpu::FieldLayout;
use osteoniche::gpu::bindings;
use osteoniche::gpu::kernel::Slot;
use osteoniche::grid::Grid;
use osteoniche::kernels::Kernel;
use osteoniche::model::{Species, SpeciesKind, SpeciesList};

fn species(n: usize, bone: bool) -> SpeciesList {
    let mut list: Vec<Species> = (0..n)
        .map(|i| Species {
            name: format!("tgf-beta{i}"),
            kind: SpeciesKind::Factor,
            unit: "nM".into(),
            diffusion_um2_min: 1000.0,
            decay_per_min: 0.1,
            bone_permeability: 0.5,
            growth_per_min: 0.0,
            capacity: 1.0,
            solver: osteoniche::model::Solver::Split,
        })
        .collect();
    if bone {
        list.push(Species {
            name: "bone".into(),
            kind: SpeciesKind::Bone,
            unit: "volume fraction".into(),
            diffusion_um2_min: 0.0,
            decay_per_min: 0.0,
            bone_permeability: 1.0,
            growth_per_min: 0.0,
            capacity: 1.0,
            solver: osteoniche::model::Solver::Split,
        });
    }
    SpeciesList::new(list)
}

/// The bone-metastasis model's fields, in its own order.
fn model_species() -> SpeciesList {
    SpeciesList::new(
        osteoniche::model::biology::MODEL_FIELDS
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
                solver: osteoniche::model::Solver::Split,
            })
            .collect(),
    )
}

fn validate(source: &str, what: &str) {
    let module = naga::front::wgsl::parse_str(source)
        .unwrap_or_else(|e| panic!("{what}: WGSL parse error:\n{}", e.emit_to_string(source)));
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::default(),
    )
    .validate(&module)
    .unwrap_or_else(|e| panic!("{what}: validation error: {e:?}"));
}

/// The shader's reflected bindings are the host's, one per chunk after the fixed ones
/// where the kernel binds every chunk.
fn host_agrees(kernel: Kernel, src: &str, chunks: usize, what: &str) {
    let slots = bindings::slots(kernel, src, chunks).unwrap_or_else(|e| panic!("{what}: {e}"));
    let fixed = bindings::host(kernel).len();
    let want = if kernel.binds_all_chunks() {
        fixed + chunks
    } else {
        fixed
    };
    assert_eq!(slots.len(), want, "{what}");
    assert_eq!(
        slots[0],
        Slot::Uniform,
        "{what}: binding 0 is the step uniform"
    );
}

/// The transport kernel's source for a small layout, to edit.
fn transport_source() -> String {
    let sp = species(3, true);
    let limits = wgpu::Limits::default();
    let layout = FieldLayout::new(Grid::new(8, 8, 8, 20.0), sp.len(), &limits).unwrap();
    layout.shader_source(Kernel::Transport, &sp).unwrap()
}

#[test]
fn a_shader_that_disagrees_with_the_host_is_refused_without_an_adapter() {
    let good = transport_source();
    assert!(bindings::slots(Kernel::Transport, &good, 1).is_ok());
    let edit = |from: &str, to: &str| {
        assert!(good.contains(from), "the shader declares `{from}`");
        good.replace(from, to)
    };
    // A renamed binding (renamed where it is used too, so the shader itself is valid): the
    // host would bind its bone buffer to a variable of another name.
    let renamed = edit(
        "@group(0) @binding(2) var<storage, read> bone:",
        "@group(0) @binding(2) var<storage, read> bone_mask:",
    )
    .replace(" bone[", " bone_mask[")
    .replace("(bone[", "(bone_mask[");
    validate(&renamed, "the renamed scratch copy");
    let e = bindings::slots(Kernel::Transport, &renamed, 1)
        .unwrap_err()
        .to_string();
    assert!(e.contains("disagree from binding 2"), "{e}");
    assert!(
        e.contains("[step, fields, bone_mask, chunk]") && e.contains("[step, fields, bone, chunk]"),
        "{e}"
    );
    // Two bindings swapped.
    let swapped = edit(
        "@binding(1) var<storage, read> fields",
        "@binding(9) var<storage, read> fields",
    )
    .replace(
        "@binding(2) var<storage, read> bone",
        "@binding(1) var<storage, read> bone",
    )
    .replace(
        "@binding(9) var<storage, read> fields",
        "@binding(2) var<storage, read> fields",
    );
    let e = bindings::slots(Kernel::Transport, &swapped, 1)
        .unwrap_err()
        .to_string();
    assert!(e.contains("disagree from binding 1"), "{e}");
    // A gap in the indices.
    let gap = edit(
        "@binding(3) var<storage, read_write> chunk",
        "@binding(4) var<storage, read_write> chunk",
    );
    let e = bindings::slots(Kernel::Transport, &gap, 1)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("without a gap") && e.contains("`chunk` is at 4"),
        "{e}"
    );
    // The kind of a binding is the shader's: made writable there, the layout follows.
    let writable = edit(
        "@group(0) @binding(2) var<storage, read> bone:",
        "@group(0) @binding(2) var<storage, read_write> bone:",
    );
    assert_eq!(
        bindings::slots(Kernel::Transport, &writable, 1).unwrap()[2],
        Slot::ReadWrite
    );
    assert_eq!(
        bindings::slots(Kernel::Transport, &good, 1).unwrap()[2],
        Slot::Read
    );
}

#[test]
fn every_kernel_validates_for_several_layouts() {
    let cases = [
        (Grid::new(16, 12, 8, 20.0), 3, false, None),
        (Grid::new(16, 12, 8, 20.0), 5, true, None),
        // Two fields per buffer: three chunks, switch-based load/store.
        (Grid::new(10, 10, 10, 20.0), 5, true, Some(2 * 4 * 1000)),
    ];
    for (grid, n, bone, limit) in cases {
        let sp = species(n, bone);
        let mut limits = wgpu::Limits {
            max_storage_buffers_per_shader_stage: 16,
            ..Default::default()
        };
        if let Some(l) = limit {
            limits.max_storage_buffer_binding_size = l;
        }
        let layout = FieldLayout::new(grid, sp.len(), &limits).expect("layout");
        for kernel in Kernel::ALL {
            if kernel.spec().needs_model {
                let err = layout.shader_source(kernel, &sp).unwrap_err().to_string();
                assert!(err.contains("model"), "{kernel} without the model: {err}");
                continue;
            }
            let src = layout.shader_source(kernel, &sp).expect("source");
            let what = format!("{kernel} ({} fields, {} chunks)", sp.len(), layout.chunks());
            validate(&src, &what);
            host_agrees(kernel, &src, layout.chunks(), &what);
        }
        if limit.is_some() {
            assert!(
                layout.chunks() > 1,
                "the case really splits fields over buffers"
            );
        }
    }
}

#[test]
fn every_kernel_validates_with_the_model() {
    let sp = model_species();
    // One buffer, and four fields per buffer (seven chunks, switch-based load/store).
    for limit in [None, Some(4 * 4 * 1000)] {
        let mut limits = wgpu::Limits {
            max_storage_buffers_per_shader_stage: 16,
            ..Default::default()
        };
        if let Some(l) = limit {
            limits.max_storage_buffer_binding_size = l;
        }
        let layout = FieldLayout::new(Grid::new(10, 10, 10, 20.0), sp.len(), &limits).unwrap();
        for kernel in Kernel::ALL {
            let src = layout.shader_source(kernel, &sp).expect("source");
            assert!(src.contains("const MODEL_ON: bool = true;"));
            let what = format!("{kernel} with the model, {} chunks", layout.chunks());
            validate(&src, &what);
            host_agrees(kernel, &src, layout.chunks(), &what);
        }
    }
}

#[test]
fn the_viewer_shaders_validate() {
    validate(osteoniche::render::volume::VIEW_WGSL, "view");
    validate(osteoniche::render::volume::BLIT_WGSL, "blit");
}

#[test]
fn a_broken_kernel_is_caught() {
    // The validator is not a rubber stamp: a type error in a kernel fails.
    let sp = species(2, false);
    let layout = FieldLayout::new(Grid::cube(8, 20.0), sp.len(), &wgpu::Limits::default()).unwrap();
    let src = layout
        .shader_source(Kernel::React, &sp)
        .unwrap()
        .replace("store(f, v, x);", "store(f, 1.5, x);");
    let module = naga::front::wgsl::parse_str(&src);
    let failed = match module {
        Err(_) => true,
        Ok(m) => naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::default(),
        )
        .validate(&m)
        .is_err(),
    };
    assert!(failed);
}

#[test]
fn a_grid_with_too_many_lines_is_refused() {
    let limits = wgpu::Limits {
        max_storage_buffer_binding_size: u64::MAX / 4,
        max_buffer_size: u64::MAX / 4,
        ..Default::default()
    };
    let err = FieldLayout::new(Grid::new(4096, 4096, 2, 20.0), 1, &limits)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("lines per sweep") && err.contains("--resolution"),
        "{err}"
    );
}

#[test]
fn a_grid_too_large_for_the_adapter_is_refused_with_figures() {
    let limits = wgpu::Limits {
        max_storage_buffer_binding_size: 128 << 20,
        ..Default::default()
    };
    let e = FieldLayout::new(Grid::cube(512, 20.0), 4, &limits).unwrap_err();
    // The figures are typed too, for a caller that picks a grid that fits.
    match &e {
        osteoniche::Error::Resources { limit: Some(l), .. } => assert_eq!(
            (l.needed, l.allowed, l.unit),
            (512 << 20, 128 << 20, "bytes in one buffer")
        ),
        other => panic!("not a typed limit: {other:?}"),
    }
    let err = e.to_string();
    assert!(
        err.contains("512 MiB") && err.contains("128 MiB") && err.contains("--resolution"),
        "{err}"
    );
}

//! How fields sit in GPU buffers, and the WGSL prelude generated from it.
//!
//! Fields are f32, field-major (`f * voxels + voxel`). A storage binding holds at most the
//! adapter's `max_storage_buffer_binding_size`, so the fields are split into chunks of
//! `fields_per_chunk` whole fields, one buffer each. Kernels that work field by field
//! (transport, reduce) bind one chunk; per-voxel kernels (sources, react) bind them all and
//! reach them through the generated `load(f, v)` / `store(f, v, x)`.

use crate::error::{Error, Limit, Result};
use crate::grid::Grid;
use crate::kernels::{Include, Kernel, KernelSpec};
use crate::model::SpeciesList;

/// Shared WGSL files, in the order they are prepended.
const SHARED: &[&str] = &[
    include_str!("../../shaders/shared/params.wgsl"),
    include_str!("../../shaders/shared/model.wgsl"),
];

/// The bone-metastasis model's terms, for the react kernel when the model is on.
const BIOLOGY: &str = include_str!("../../shaders/shared/biology.wgsl");

/// Drugs in tissue, for the react kernel when the model is on.
const DRUGS: &str = include_str!("../../shaders/shared/drugs.wgsl");

/// The react kernel's stand-ins for `biology()` and the drug terms when the model is off.
const NO_BIOLOGY: &str = "fn biology(u: ptr<function, array<f32, NF>>, \
    th: ptr<function, array<f32, NT>>, prod: ptr<function, array<f32, NF>>, \
    loss: ptr<function, array<f32, NF>>) -> f32 { return 0.0; }\n\
    fn therapy_defaults(th: ptr<function, array<f32, NT>>) {}\n\
    fn drug_effects(u: ptr<function, array<f32, NF>>, th: ptr<function, array<f32, NT>>) {}\n\
    fn drug_pools(u: ptr<function, array<f32, NF>>, r: f32, v: u32) {}\n";

/// Region weights, for the kernels that apply supply and uptake.
const REGIONS: &str = include_str!("../../shaders/shared/regions.wgsl");

/// The bindings the implicit solve and its multigrid preconditioner share.
const SOLVE: &str = include_str!("../../shaders/shared/solve.wgsl");

/// Most bindings a per-voxel kernel (one that binds every chunk, the solve's aside) takes
/// before its field chunks.
fn most_bindings_before_chunks() -> u32 {
    Kernel::ALL
        .into_iter()
        .filter(|k| k.binds_all_chunks() && !k.spec().includes.contains(&Include::Solve))
        .map(|k| k.spec().host.len() as u32)
        .max()
        .unwrap_or(0)
}

/// Placement of the fields in buffers.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldLayout {
    /// The grid.
    pub grid: Grid,
    /// Number of fields.
    pub fields: usize,
    /// Whole fields per buffer.
    pub fields_per_chunk: usize,
}

impl FieldLayout {
    /// Chooses chunks for `fields` fields on `grid` within the adapter's limits.
    pub fn new(grid: Grid, fields: usize, limits: &wgpu::Limits) -> Result<FieldLayout> {
        let field_bytes = 4 * grid.len() as u64;
        let max_binding = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size);
        let fields_per_chunk = (max_binding / field_bytes.max(1)) as usize;
        if fields_per_chunk == 0 {
            let fit = ((max_binding / 4) as f64).cbrt() as usize;
            return Err(Error::Resources {
                message: format!(
                    "one field of {}x{}x{} voxels needs {:.0} MiB but this adapter binds at most {:.0} MiB \
                 per buffer; use --resolution {fit} or smaller, or --backend cpu",
                    grid.nx,
                    grid.ny,
                    grid.nz,
                    field_bytes as f64 / 1048576.0,
                    max_binding as f64 / 1048576.0
                ),
                limit: Some(Limit::count(
                    field_bytes,
                    max_binding,
                    "bytes in one buffer",
                )),
            });
        }
        // One invocation per grid line, a transport workgroup of them per group, along one
        // dispatch dimension.
        let wg = Kernel::Transport.spec().workgroup as u64;
        let lines = (grid.ny * grid.nz)
            .max(grid.nx * grid.nz)
            .max(grid.nx * grid.ny) as u64;
        let max_groups = limits.max_compute_workgroups_per_dimension as u64;
        if lines.div_ceil(wg) > max_groups {
            return Err(Error::Resources {
                message: format!(
                    "a {}x{}x{} grid has {lines} lines per sweep; this adapter dispatches at most {} \
                 ({wg} x {max_groups}); use --resolution {} or smaller, or --backend cpu",
                    grid.nx,
                    grid.ny,
                    grid.nz,
                    wg * max_groups,
                    ((wg * max_groups) as f64).sqrt() as usize
                ),
                limit: Some(Limit::count(lines, wg * max_groups, "lines per sweep")),
            });
        }
        let layout = FieldLayout {
            grid,
            fields,
            fields_per_chunk: fields_per_chunk.min(fields.max(1)),
        };
        let needed = layout.chunks() as u32 + most_bindings_before_chunks();
        if needed > limits.max_storage_buffers_per_shader_stage + 1 {
            return Err(Error::Resources {
                message: format!(
                    "{fields} fields of {} voxels need {} storage buffers per kernel; this adapter allows {}; \
                 use a coarser --resolution or --backend cpu",
                    grid.len(),
                    needed - 1,
                    limits.max_storage_buffers_per_shader_stage
                ),
                limit: Some(Limit::count(
                    needed as u64 - 1,
                    limits.max_storage_buffers_per_shader_stage as u64,
                    "storage buffers per kernel",
                )),
            });
        }
        Ok(layout)
    }

    /// Number of chunk buffers.
    pub fn chunks(&self) -> usize {
        self.fields.div_ceil(self.fields_per_chunk)
    }

    /// Storage buffers the implicit and multigrid kernels bind (every binding of
    /// `shaders/shared/solve.wgsl` but the two uniforms, and the chunks).
    pub fn implicit_storage_buffers(&self) -> u32 {
        super::bindings::first_chunk(Kernel::Implicit).expect("the solve binds its chunks") - 2
            + self.chunks() as u32
    }

    /// Fields held by chunk `c`.
    pub fn chunk_fields(&self, c: usize) -> usize {
        (self.fields - c * self.fields_per_chunk).min(self.fields_per_chunk)
    }

    /// The WGSL source of `kernel`: generated constants (the kernel's workgroup size as
    /// `WG` among them), shared files, the files its record includes, and (for kernels
    /// that bind every chunk) the chunk bindings with `load`/`store`.
    pub fn shader_source(
        &self,
        kernel: impl AsRef<KernelSpec>,
        species: &SpeciesList,
    ) -> Result<String> {
        let spec = kernel.as_ref();
        let kernel = spec.name;
        let g = &self.grid;
        let model = crate::model::ModelIndex::new(species).is_ok();
        if spec.needs_model && !model {
            return Err(Error::Gpu(format!(
                "kernel `{kernel}` needs the bone-metastasis model's fields"
            )));
        }
        let mut s = species.wgsl_constants();
        s.push_str(&crate::model::parameters::wgsl_constants());
        s.push_str(&crate::pharma::tissue::wgsl_constants());
        s.push_str(&format!("const MODEL_ON: bool = {model};\n"));
        s.push_str(&crate::numerics::wgsl_constants());
        s.push_str(&format!(
            "const WG: u32 = {}u;\nconst MAX_GROUPS: u32 = {}u;\nconst PER_DAY: f32 = {:e};\n",
            spec.workgroup,
            super::kernel::MAX_GROUPS,
            crate::model::reactions::PER_DAY
        ));
        s.push_str(&format!(
            "const NX: u32 = {}u;\nconst NY: u32 = {}u;\nconst NZ: u32 = {}u;\nconst NV: u32 = {}u;\n\
             const MAX_LINE: u32 = {}u;\nconst FIELDS_PER_CHUNK: u32 = {}u;\n",
            g.nx,
            g.ny,
            g.nz,
            g.len(),
            g.max_line(),
            self.fields_per_chunk
        ));
        let x_tile = x_tile_lines(g.nx).max(1);
        s.push_str(&format!(
            "const X_TILE: u32 = {x_tile}u;\nconst X_TILE_LEN: u32 = {}u;\n",
            X_TILE_FLOATS
        ));
        for shared in SHARED {
            s.push_str(shared);
            s.push('\n');
        }
        if spec.includes.contains(&Include::Solve) {
            s.push_str(SOLVE);
            s.push('\n');
        }
        if let Some(first) = super::bindings::first_chunk(spec) {
            s.push_str(&self.chunk_accessors(first));
        }
        if spec.includes.contains(&Include::Biology) {
            if model {
                s.push_str(&crate::pharma::tissue::wgsl_therapy_defaults());
                s.push_str(&crate::model::biology::wgsl_constants());
                s.push_str(BIOLOGY);
                s.push_str(DRUGS);
            } else {
                s.push_str(NO_BIOLOGY);
            }
        }
        if spec.includes.contains(&Include::Regions) {
            s.push_str(REGIONS);
        }
        s.push_str(spec.source);
        Ok(s)
    }

    fn chunk_accessors(&self, first_binding: u32) -> String {
        let mut s = String::new();
        for c in 0..self.chunks() {
            s.push_str(&format!(
                "@group(0) @binding({}) var<storage, read_write> chunk{c}: array<f32>;\n",
                first_binding as usize + c
            ));
        }
        let cases = |body: &dyn Fn(usize) -> String| -> String {
            (0..self.chunks())
                .map(|c| format!("        case {c}u: {{ {} }}\n", body(c)))
                .collect()
        };
        s.push_str(&format!(
            "fn load(f: u32, v: u32) -> f32 {{\n    let o = (f % FIELDS_PER_CHUNK) * NV + v;\n    \
             switch (f / FIELDS_PER_CHUNK) {{\n{}        default: {{ return 0.0; }}\n    }}\n}}\n",
            cases(&|c| format!("return chunk{c}[o];"))
        ));
        s.push_str(&format!(
            "fn store(f: u32, v: u32, x: f32) {{\n    let o = (f % FIELDS_PER_CHUNK) * NV + v;\n    \
             switch (f / FIELDS_PER_CHUNK) {{\n{}        default: {{ }}\n    }}\n}}\n",
            cases(&|c| format!("chunk{c}[o] = x;"))
        ));
        s
    }
}

/// Floats of each of the transport kernel's two workgroup tiles (values and bone): both
/// together stay under the 16,352 bytes every adapter wgpu supports offers.
pub const X_TILE_FLOATS: usize = 2040;

/// Whole x lines of `nx` voxels the tiled x sweep holds per workgroup (row pitch nx + 1),
/// at most 64 (one per invocation); 0 when not even one fits.
pub fn x_tile_lines(nx: usize) -> usize {
    (X_TILE_FLOATS / (nx + 1)).min(64)
}

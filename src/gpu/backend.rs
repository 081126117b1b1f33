//! [`Backend`] for [`GpuBackend`]: uploads and readbacks (whole fields, one field, a voxel
//! range), stepping with a submission every few steps, the statistics and sums through the
//! `reduce` kernel, and the counters.

use super::context::{map_read, map_read_all};
use super::recorder::Recorder;
use super::{GpuBackend, STEPS_PER_SUBMIT, compute_pass, implicit};
use crate::error::{Error, Result};
use crate::kernels::Kernel;
use crate::sim::params::Stages;
use crate::sim::profile::StageTimes;
use crate::sim::{Backend, BackendInfo, Counters, FieldStats};

impl Backend for GpuBackend {
    fn info(&self) -> BackendInfo {
        self.ctx.backend_info()
    }

    fn write_fields(&mut self, data: &[f32]) -> Result<()> {
        self.settle()?;
        let n = self.setup.grid.len();
        if data.len() != n * self.layout.fields {
            return Err(Error::Invalid(format!(
                "field data has {} values, the simulation holds {}",
                data.len(),
                n * self.layout.fields
            )));
        }
        let fpc = self.layout.fields_per_chunk;
        for (c, chunk) in self.chunks.iter().enumerate() {
            let first = c * fpc * n;
            let len = self.layout.chunk_fields(c) * n;
            self.ctx
                .queue
                .write_buffer(chunk, 0, bytemuck::cast_slice(&data[first..first + len]));
        }
        self.ctx.queue.submit([]);
        self.wait()
    }

    fn read_fields(&mut self) -> Result<Vec<f32>> {
        self.settle()?;
        let n = self.setup.grid.len();
        let mut out = Vec::with_capacity(n * self.layout.fields);
        for (c, chunk) in self.chunks.iter().enumerate() {
            let bytes = self.read_buffer(chunk, 4 * (n * self.layout.chunk_fields(c)) as u64)?;
            out.extend_from_slice(bytemuck::cast_slice(&bytes));
        }
        Ok(out)
    }

    fn read_field(&mut self, f: usize) -> Result<Vec<f32>> {
        self.settle()?;
        let (chunk, offset) = self.locate(f);
        let bytes = 4 * self.setup.grid.len() as u64;
        let data = self.read_range(&self.chunks[chunk], offset, bytes)?;
        Ok(bytemuck::cast_slice(&data).to_vec())
    }

    fn write_field_range(&mut self, f: usize, first: usize, values: &[f32]) -> Result<()> {
        crate::sim::check_range(
            f,
            first,
            values.len(),
            self.layout.fields,
            self.setup.grid.len(),
        )?;
        self.settle()?;
        let (chunk, offset) = self.locate(f);
        self.ctx.queue.write_buffer(
            &self.chunks[chunk],
            offset + 4 * first as u64,
            bytemuck::cast_slice(values),
        );
        self.ctx.queue.submit([]);
        self.wait()
    }

    fn field_count(&self) -> usize {
        self.layout.fields
    }

    fn step_index(&self) -> u64 {
        self.step_index
    }

    fn set_step_index(&mut self, step: u64) {
        self.step_index = step;
    }

    /// Records and submits the steps. With an implicit solve the host does not wait: the
    /// next readback (or the next step's implicit solve) waits and reads the solve state
    /// with it; without one it waits here, as every call did before.
    fn advance(&mut self, steps: u64, stages: Stages) -> Result<()> {
        let mut rec = Recorder::new(&self.ctx, false);
        for s in 0..steps {
            self.record_step(&mut rec, self.step_index, stages)?;
            self.step_index += 1;
            if (s + 1) % STEPS_PER_SUBMIT == 0 {
                rec.flush()?;
            }
        }
        rec.finish()?;
        if self.pending.get() {
            // The next readback waits (and reads the solve state with its data).
            self.ctx.check_fault()
        } else {
            self.wait()
        }
    }

    fn profile_step(&mut self) -> Result<StageTimes> {
        let mut rec = Recorder::new(&self.ctx, true);
        self.record_step(&mut rec, self.step_index, self.setup.stages)?;
        self.step_index += 1;
        let times = rec.finish()?.expect("a profiling recorder returns times");
        self.settle()?;
        self.wait()?;
        Ok(times)
    }

    fn stats(&mut self) -> Result<Vec<FieldStats>> {
        self.settle()?;
        let mut enc = self.ctx.device.create_command_encoder(&Default::default());
        {
            let mut pass = compute_pass(&mut enc, Kernel::Reduce);
            self.ctx.count_dispatches(self.reduce.encode(&mut pass));
        }
        self.ctx.submit(enc.finish());
        let bytes = self.read_buffer(&self.reduce.partials, self.reduce.partials.size())?;
        Ok(self.reduce.finish(bytemuck::cast_slice(&bytes)))
    }

    /// The sums of `fields` and the state of the step's implicit solve, read back together
    /// (one wait); only when a solve has to continue are the sums read again.
    fn field_sums(&mut self, fields: &[usize]) -> Result<Vec<f64>> {
        let (bytes, states) = {
            let mut enc = self.ctx.device.create_command_encoder(&Default::default());
            {
                let mut pass = compute_pass(&mut enc, Kernel::Reduce);
                self.ctx
                    .count_dispatches(self.reduce.encode_fields(&mut pass, fields));
            }
            let staging = self.reduce.stage_fields(&mut enc, fields);
            self.ctx.check_fault()?;
            self.ctx.submit(enc.finish());
            let pending = self.pending.get();
            let mut buffers = vec![&staging];
            if let (Some(imp), true) = (&self.implicit, pending) {
                buffers.extend(imp.staging());
            }
            let mut read = map_read_all(&self.ctx, &buffers)?;
            let sums = read.remove(0);
            let states: Vec<implicit::SolveState> = read
                .iter()
                .flat_map(|b| bytemuck::cast_slice::<u8, implicit::SolveState>(b).to_vec())
                .collect();
            (sums, pending.then_some(states))
        };
        if let (Some(imp), Some(states)) = (&self.implicit, states) {
            let short = states.iter().any(|s| s.done == 0);
            self.settle_states(imp, states)?;
            if short {
                return self.field_sums(fields);
            }
        }
        Ok(self.reduce.sums(bytemuck::cast_slice(&bytes), fields))
    }

    fn counters(&mut self) -> Result<Counters> {
        self.settle()?;
        let t = self.ctx.traffic();
        let states = self.solve_states.borrow();
        Ok(Counters {
            implicit_solves: states.iter().map(|s| s.solves as u64).sum(),
            implicit_iterations: states.iter().map(|s| s.total_iterations as u64).sum(),
            host_waits: t.waits,
            submits: t.submits,
            dispatches: t.dispatches,
        })
    }

    fn set_model_values(&mut self, values: &[f32]) -> Result<()> {
        match &mut self.setup.model {
            Some(m) if m.params.values.len() == values.len() => {
                m.params.values.copy_from_slice(values);
                self.ctx
                    .queue
                    .write_buffer(&self.model_params, 0, bytemuck::cast_slice(values));
                Ok(())
            }
            _ => Err(Error::Invalid(
                "this simulation has no model parameters to update".into(),
            )),
        }
    }
}

/// The backend's own readbacks and waits (used by the trait methods above only).
impl GpuBackend {
    /// Copies `size` bytes of `src` back to the host.
    fn read_buffer(&self, src: &wgpu::Buffer, size: u64) -> Result<Vec<u8>> {
        self.read_range(src, 0, size)
    }

    /// Copies `size` bytes of `src` from byte `offset` back to the host.
    fn read_range(&self, src: &wgpu::Buffer, offset: u64, size: u64) -> Result<Vec<u8>> {
        let device = &self.ctx.device;
        let staging = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("osteoniche.readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut enc = device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(src, offset, &staging, 0, size);
        self.ctx.check_fault()?;
        self.ctx.submit(enc.finish());
        let data = map_read(&self.ctx, &staging);
        self.ctx.check_fault()?;
        data
    }

    fn wait(&self) -> Result<()> {
        self.ctx.wait()
    }
}

//! Records a step's commands; when profiling, closes every stage with a fence (wall time)
//! and, where the adapter has them, brackets it with timestamp queries (device time).

use super::{GpuContext, map_read};
use crate::error::Result;
use crate::sim::profile::{Stage, StageClock, StageTimes};

/// Timestamp slots: two per stage segment (sources run twice per step).
const QUERIES: u32 = 32;

/// What a profiling recorder holds.
struct Profiler {
    clock: StageClock,
    /// Query set, resolve buffer, readback buffer; `None` without timestamp support.
    queries: Option<(wgpu::QuerySet, wgpu::Buffer, wgpu::Buffer)>,
    /// Stage of each bracketed segment, in query-pair order.
    segments: Vec<Stage>,
}

/// Command recording for one or more steps.
pub(crate) struct Recorder<'c> {
    ctx: &'c GpuContext,
    enc: Option<wgpu::CommandEncoder>,
    profile: Option<Profiler>,
}

impl<'c> Recorder<'c> {
    /// A recorder; `profile` times every stage (slower: one submission and wait each).
    pub fn new(ctx: &'c GpuContext, profile: bool) -> Self {
        let profile = profile.then(|| {
            let queries = ctx.timestamps.then(|| {
                let set = ctx.device.create_query_set(&wgpu::QuerySetDescriptor {
                    label: Some("osteoniche.stage-timestamps"),
                    ty: wgpu::QueryType::Timestamp,
                    count: QUERIES,
                });
                let size = 8 * QUERIES as u64;
                let buffer = |label, usage| {
                    ctx.device.create_buffer(&wgpu::BufferDescriptor {
                        label: Some(label),
                        size,
                        usage,
                        mapped_at_creation: false,
                    })
                };
                let resolve = buffer(
                    "osteoniche.timestamp-resolve",
                    wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                );
                let read = buffer(
                    "osteoniche.timestamp-read",
                    wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                );
                (set, resolve, read)
            });
            Profiler {
                clock: StageClock::default(),
                queries,
                segments: Vec::new(),
            }
        });
        Recorder {
            ctx,
            enc: None,
            profile,
        }
    }

    /// The open command encoder.
    pub fn enc(&mut self) -> &mut wgpu::CommandEncoder {
        let device = &self.ctx.device;
        self.enc.get_or_insert_with(|| {
            device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("osteoniche.step"),
            })
        })
    }

    /// Submits what has been recorded.
    pub fn flush(&mut self) -> Result<()> {
        if let Some(enc) = self.enc.take() {
            self.ctx.check_fault()?;
            self.ctx.submit(enc.finish());
        }
        Ok(())
    }

    /// Opens a stage (profiling: starts its clock and writes its first timestamp).
    pub fn begin(&mut self, stage: Stage) {
        let Some(p) = self.profile.as_mut() else {
            return;
        };
        if let Some((set, ..)) = &p.queries {
            let slot = 2 * p.segments.len() as u32;
            if slot + 1 < QUERIES {
                p.segments.push(stage);
                let set = set.clone();
                self.enc().write_timestamp(&set, slot);
            }
        }
        if let Some(p) = self.profile.as_mut() {
            p.clock.restart();
        }
    }

    /// Closes a stage (profiling: writes its second timestamp, submits, waits for the
    /// queue and books the wall time).
    pub fn end(&mut self, stage: Stage) -> Result<()> {
        let Some(p) = self.profile.as_ref() else {
            return Ok(());
        };
        if let Some((set, ..)) = &p.queries
            && p.segments.last() == Some(&stage)
        {
            let slot = 2 * p.segments.len() as u32 - 1;
            let set = set.clone();
            self.enc().write_timestamp(&set, slot);
        }
        self.flush()?;
        self.ctx.wait()?;
        if let Some(p) = self.profile.as_mut() {
            p.clock.lap(stage);
        }
        Ok(())
    }

    /// Submits the rest; when profiling, returns the stage times.
    pub fn finish(mut self) -> Result<Option<StageTimes>> {
        let Some(mut p) = self.profile.take() else {
            self.flush()?;
            return Ok(None);
        };
        if let Some((set, resolve, read)) = &p.queries
            && !p.segments.is_empty()
        {
            let used = 2 * p.segments.len() as u32;
            let enc = self.enc();
            enc.resolve_query_set(set, 0..used, resolve, 0);
            enc.copy_buffer_to_buffer(resolve, 0, read, 0, 8 * used as u64);
            self.flush()?;
            let bytes = map_read(self.ctx, read)?;
            let ticks: &[u64] = bytemuck::cast_slice(&bytes);
            let period_ns = self.ctx.queue.get_timestamp_period() as f64;
            let mut device = [0f64; 7];
            for (i, s) in p.segments.iter().enumerate() {
                let dt = ticks[2 * i + 1].saturating_sub(ticks[2 * i]);
                device[*s as usize] += dt as f64 * period_ns * 1e-9;
            }
            p.clock.times.device_s = Some(device);
        }
        self.flush()?;
        Ok(Some(p.clock.times))
    }
}

//! Adapter and device: chosen once, passed into backends so tests can bring their own.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::sim::BackendInfo;

/// How to pick the adapter.
#[derive(Debug, Clone, Default)]
pub struct GpuOptions {
    /// Accept only a software adapter (lavapipe/llvmpipe/WARP) when true.
    pub force_software: bool,
}

/// An adapter with its device and queue.
#[derive(Clone)]
pub struct GpuContext {
    /// The device.
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
    /// The adapter's description.
    pub info: wgpu::AdapterInfo,
    /// Limits the device was created with (everything the adapter allows).
    pub limits: wgpu::Limits,
    /// True when the device has timestamp queries inside encoders (per-stage device time
    /// in `bench`).
    pub timestamps: bool,
    /// The first asynchronous fault (device lost, uncaptured error), reported by the next
    /// operation that waits on the device.
    pub fault: Arc<Mutex<Option<String>>>,
    /// What the host asked of the device since the context was made (clones share it).
    pub traffic: Arc<Traffic>,
    /// Which x-sweep kernel transport uses.
    pub x_sweep: XSweep,
}

/// The x-sweep kernel of the transport step (`shaders/transport.wgsl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum XSweep {
    /// Tiled on hardware adapters, plain on software ones (where the tile's copies and
    /// barriers cost more than the strided reads they save: measured on lavapipe).
    #[default]
    Auto,
    /// One line per invocation, read in place (neighbouring invocations NX apart).
    Plain,
    /// Whole lines copied through workgroup memory with coalesced reads and writes (falls
    /// back to plain when fewer than two lines fit a tile).
    Tiled,
}

/// Counts of host-device round trips and work, since a context was made.
#[derive(Debug, Default)]
pub struct Traffic {
    waits: AtomicU64,
    submits: AtomicU64,
    dispatches: AtomicU64,
}

/// A snapshot of [`Traffic`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrafficCounts {
    /// Times the host blocked until the device finished (a poll that waits, a readback).
    pub waits: u64,
    /// Command buffer submissions.
    pub submits: u64,
    /// Compute dispatches recorded.
    pub dispatches: u64,
}

/// True for CPU-emulated adapters.
pub fn is_software(info: &wgpu::AdapterInfo) -> bool {
    info.device_type == wgpu::DeviceType::Cpu
}

/// Keeps adapter probing quiet where there is no desktop session (SSH logins, containers,
/// cluster nodes). Mesa's implicit Vulkan layer `VK_LAYER_MESA_device_select` connects to
/// the Wayland and X servers while the adapters are listed, to put the display's GPU first;
/// without a session (`XDG_RUNTIME_DIR` unset, or neither `WAYLAND_DISPLAY` nor `DISPLAY`
/// set) libwayland prints `error: XDG_RUNTIME_DIR is invalid or not set in the
/// environment.` for nothing: there is no display whose GPU could come first, and
/// osteoniche ranks the adapters itself. There the layer is switched off (`NODEVICE_SELECT=1`,
/// its documented off switch), unless the user chose a device for it (`NODEVICE_SELECT`,
/// `MESA_VK_DEVICE_SELECT` or `DRI_PRIME` set).
///
/// # Safety
/// Changes the process environment: call it before any other thread exists (first thing
/// in `main`).
pub unsafe fn quiet_headless_probing() {
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    let session = set("XDG_RUNTIME_DIR") && (set("WAYLAND_DISPLAY") || set("DISPLAY"));
    let chosen = ["NODEVICE_SELECT", "MESA_VK_DEVICE_SELECT", "DRI_PRIME"]
        .iter()
        .any(|k| std::env::var_os(k).is_some());
    if !session && !chosen {
        // SAFETY: the caller guarantees no other thread reads the environment meanwhile.
        unsafe { std::env::set_var("NODEVICE_SELECT", "1") };
    }
}

fn instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle().with_env())
}

/// Name of the first hardware (non-CPU) adapter, if any. Starts no device.
pub fn probe_hardware_adapter() -> Option<String> {
    let adapters = pollster::block_on(instance().enumerate_adapters(wgpu::Backends::all()));
    adapters
        .iter()
        .map(|a| a.get_info())
        .find(|i| !is_software(i))
        .map(|i| i.name)
}

impl GpuContext {
    /// Opens the best adapter: a hardware one if present, otherwise a software one.
    pub fn new(options: &GpuOptions) -> Result<GpuContext> {
        let instance = instance();
        let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
        let mut ranked: Vec<wgpu::Adapter> = adapters
            .into_iter()
            .filter(|a| !options.force_software || is_software(&a.get_info()))
            .collect();
        // Hardware first, then Vulkan before GL (more storage buffers per stage).
        ranked.sort_by_key(|a| {
            let i = a.get_info();
            (is_software(&i), i.backend != wgpu::Backend::Vulkan)
        });
        let adapter = ranked.into_iter().next().ok_or_else(|| {
            Error::Gpu(
                "no GPU adapter found (on Linux without a GPU, install Mesa's software Vulkan: \
                 apt-get install mesa-vulkan-drivers libvulkan1); use --backend cpu"
                    .into(),
            )
        })?;
        let info = adapter.get_info();
        let limits = adapter.limits();
        let stamps =
            wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::TIMESTAMP_QUERY_INSIDE_ENCODERS;
        let timestamps = adapter.features().contains(stamps);
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("osteoniche"),
            required_features: if timestamps {
                stamps
            } else {
                wgpu::Features::empty()
            },
            required_limits: limits.clone(),
            memory_hints: wgpu::MemoryHints::Performance,
            ..Default::default()
        }))
        .map_err(|e| Error::Device {
            context: format!("could not open `{}`", info.name),
            source: Box::new(e),
        })?;
        let fault: Arc<Mutex<Option<String>>> = Arc::default();
        let record = |fault: &Arc<Mutex<Option<String>>>, what: String| {
            log::error!("GPU: {what}");
            if let Ok(mut f) = fault.lock() {
                f.get_or_insert(what);
            }
        };
        let f = fault.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            record(&f, format!("error: {e}"))
        }));
        let f = fault.clone();
        device.set_device_lost_callback(move |reason, message| {
            record(&f, format!("the device was lost ({reason:?}): {message}"))
        });
        Ok(GpuContext {
            device,
            queue,
            info,
            limits,
            timestamps,
            fault,
            traffic: Arc::default(),
            x_sweep: XSweep::Auto,
        })
    }

    /// Fails with the first asynchronous fault, if one happened.
    pub fn check_fault(&self) -> Result<()> {
        match self.fault.lock().ok().and_then(|f| f.clone()) {
            Some(what) => Err(Error::DeviceLost { what }),
            None => Ok(()),
        }
    }

    /// Submits one command buffer (counted).
    pub fn submit(&self, commands: wgpu::CommandBuffer) {
        self.traffic.submits.fetch_add(1, Ordering::Relaxed);
        self.queue.submit([commands]);
    }

    /// Books `n` recorded dispatches.
    pub fn count_dispatches(&self, n: u64) {
        self.traffic.dispatches.fetch_add(n, Ordering::Relaxed);
    }

    /// Books one blocking wait.
    pub fn count_wait(&self) {
        self.traffic.waits.fetch_add(1, Ordering::Relaxed);
    }

    /// The counts so far.
    pub fn traffic(&self) -> TrafficCounts {
        let t = &self.traffic;
        TrafficCounts {
            waits: t.waits.load(Ordering::Relaxed),
            submits: t.submits.load(Ordering::Relaxed),
            dispatches: t.dispatches.load(Ordering::Relaxed),
        }
    }

    /// Waits until the queue is idle; fails with any fault seen meanwhile.
    pub fn wait(&self) -> Result<()> {
        self.count_wait();
        self.check_fault()?;
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Device {
                context: "waiting for the GPU failed".into(),
                source: Box::new(e),
            })?;
        self.check_fault()
    }

    /// The adapter as [`BackendInfo`].
    pub fn backend_info(&self) -> BackendInfo {
        BackendInfo {
            kind: "gpu".into(),
            device: format!("{} ({:?})", self.info.name, self.info.backend),
            driver: format!("{} {}", self.info.driver, self.info.driver_info)
                .trim()
                .to_string(),
            software: is_software(&self.info),
        }
    }
}

/// Maps a MAP_READ buffer and copies its contents out (one wait).
pub(crate) fn map_read(ctx: &GpuContext, buffer: &wgpu::Buffer) -> Result<Vec<u8>> {
    Ok(map_read_all(ctx, &[buffer])?.remove(0))
}

/// Maps several MAP_READ buffers with one wait and copies their contents out.
pub(crate) fn map_read_all(ctx: &GpuContext, buffers: &[&wgpu::Buffer]) -> Result<Vec<Vec<u8>>> {
    let (tx, rx) = std::sync::mpsc::channel();
    for (i, buffer) in buffers.iter().enumerate() {
        let tx = tx.clone();
        buffer.map_async(wgpu::MapMode::Read, .., move |r| {
            let _ = tx.send((i, r));
        });
    }
    drop(tx);
    ctx.count_wait();
    ctx.device
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(|e| Error::Device {
            context: "waiting for a readback failed".into(),
            source: Box::new(e),
        })?;
    for _ in buffers {
        rx.recv()
            .map_err(|_| Error::Gpu("the readback was dropped".into()))?
            .1
            .map_err(|e| Error::Device {
                context: "mapping a readback failed".into(),
                source: Box::new(e),
            })?;
    }
    let mut out = Vec::with_capacity(buffers.len());
    for buffer in buffers {
        let data = {
            let view = buffer.get_mapped_range(..).map_err(|e| Error::Device {
                context: "reading a mapped buffer failed".into(),
                source: Box::new(e),
            })?;
            view.to_vec()
        };
        buffer.unmap();
        out.push(data);
    }
    Ok(out)
}

//! `osteoniche view`: a winit window drawn with wgpu, the lattice view of
//! [`crate::render`] under an egui overlay ([`ui`]), the simulation on its own thread
//! ([`session`]). A thin shell: everything it shows or does goes through the library.

pub mod plots;
mod replay;
pub mod script;
pub mod session;
pub mod ui;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use winit::application::ApplicationHandler;
use winit::event::WindowEvent;
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop};
use winit::window::{Window, WindowId};

use crate::error::{Error, Result};
use crate::launch::BackendChoice;
use crate::preset::Preset;
use crate::render::volume::{ScaledView, VolumeRenderer, read_rgba};
use replay::{Script, Wait};
use session::{Command, Session, Update};
use ui::{Intent, State};

/// How the viewer starts.
#[derive(Debug, Clone)]
pub struct ViewerOptions {
    /// The preset shown first.
    pub preset: PathBuf,
    /// Voxels on the longest axis.
    pub resolution: Option<usize>,
    /// Simulation backend.
    pub backend: BackendChoice,
    /// Actions to replay, then quit at the end of the script.
    pub script: Option<PathBuf>,
    /// Window size in logical pixels.
    pub size: [u32; 2],
    /// Where exports go.
    pub export_dir: PathBuf,
}

/// Frame and step rates of a session (printed when the viewer closes).
#[derive(Debug, Clone, Copy, Default)]
pub struct Rates {
    /// Frames drawn.
    pub frames: u64,
    /// Mean frames per second.
    pub fps: f64,
    /// Steps taken.
    pub steps: u64,
    /// Mean steps per second.
    pub steps_per_s: f64,
}

/// Opens the window and runs until it is closed (or the script ends).
pub fn run(opts: ViewerOptions) -> Result<Rates> {
    #[cfg(all(unix, not(target_os = "macos")))]
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        return Err(no_display("neither DISPLAY nor WAYLAND_DISPLAY is set"));
    }
    let preset = Preset::load(&opts.preset)?;
    let script = match &opts.script {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
            Some(script::parse(&text, &p.display().to_string())?)
        }
        None => None,
    };
    let event_loop = EventLoop::new().map_err(|e| no_display(&e.to_string()))?;
    let presets = preset_list(&opts.preset);
    let choice = presets
        .iter()
        .position(|p| p.canonicalize().ok() == opts.preset.canonicalize().ok())
        .unwrap_or(0);
    let session = Session::start(preset, opts.resolution, opts.backend);
    let mut app = App {
        state: State::new(presets, choice, opts.export_dir.clone()),
        opts,
        session,
        window: None,
        gpu: None,
        egui_ctx: egui::Context::default(),
        egui_state: None,
        script: script.map(|a| Script {
            actions: a.into(),
            wait: Wait::None,
        }),
        error: None,
        started: Instant::now(),
        frames: 0,
        last_frame: Instant::now(),
        first_step: None,
    };
    event_loop
        .run_app(&mut app)
        .map_err(|e| Error::Invalid(format!("the window's event loop failed: {e}")))?;
    if let Some(e) = app.error.take() {
        return Err(e);
    }
    let secs = app.started.elapsed().as_secs_f64().max(1e-9);
    let steps = app.state.step - app.first_step.unwrap_or(app.state.step);
    Ok(Rates {
        frames: app.frames,
        fps: app.frames as f64 / secs,
        steps,
        steps_per_s: steps as f64 / secs,
    })
}

fn no_display(why: &str) -> Error {
    Error::Invalid(format!(
        "cannot open a window: {why}. Without a display, run headless: `osteoniche run PRESET` (metrics, .vti snapshots for ParaView), `osteoniche compare` or `osteoniche sweep`; or start the viewer under a virtual display: xvfb-run -a osteoniche view PRESET"
    ))
}

/// The presets next to the shown one and in the therapy folder, for the preset picker.
fn preset_list(first: &std::path::Path) -> Vec<PathBuf> {
    let mut out = vec![first.to_path_buf()];
    let dir = first.parent().unwrap_or(std::path::Path::new("."));
    for d in [dir.to_path_buf(), dir.join("therapy"), dir.join("..")] {
        if let Ok(entries) = std::fs::read_dir(&d) {
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .filter(|p| p.file_name().is_some_and(|n| n != "claims.toml"))
                .collect();
            found.sort();
            for p in found {
                let same = |q: &PathBuf| q.canonicalize().ok() == p.canonicalize().ok();
                if !out.iter().any(same) && Preset::load(&p).is_ok_and(|x| x.model.is_some()) {
                    out.push(p);
                }
            }
        }
    }
    out
}

struct Gpu {
    surface: wgpu::Surface<'static>,
    device: wgpu::Device,
    queue: wgpu::Queue,
    config: wgpu::SurfaceConfiguration,
    volume: Option<VolumeRenderer>,
    scaled: ScaledView,
    egui: egui_wgpu::Renderer,
}

struct App {
    opts: ViewerOptions,
    state: State,
    session: Session,
    window: Option<Arc<Window>>,
    gpu: Option<Gpu>,
    egui_ctx: egui::Context,
    egui_state: Option<egui_winit::State>,
    script: Option<Script>,
    error: Option<Error>,
    started: Instant,
    frames: u64,
    last_frame: Instant,
    first_step: Option<u64>,
}

impl App {
    fn init(&mut self, el: &ActiveEventLoop) -> Result<()> {
        let attrs = Window::default_attributes()
            .with_title("osteoniche")
            .with_inner_size(winit::dpi::LogicalSize::new(
                self.opts.size[0],
                self.opts.size[1],
            ));
        let window = Arc::new(
            el.create_window(attrs)
                .map_err(|e| no_display(&format!("creating the window failed ({e})")))?,
        );
        let instance = wgpu::Instance::new(
            wgpu::InstanceDescriptor::new_with_display_handle(Box::new(el.owned_display_handle()))
                .with_env(),
        );
        let surface = instance
            .create_surface(window.clone())
            .map_err(|e| Error::Gpu(format!("no drawing surface for the window: {e}")))?;
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            compatible_surface: Some(&surface),
            force_fallback_adapter: false,
            ..Default::default()
        }))
        .map_err(|e| {
            Error::Gpu(format!(
                "no GPU adapter can draw to this window ({e}); on Linux without a GPU install mesa-vulkan-drivers, or use the headless commands"
            ))
        })?;
        let info = adapter.get_info();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("osteoniche.view"),
            required_limits: wgpu::Limits::downlevel_defaults().using_resolution(adapter.limits()),
            ..Default::default()
        }))
        .map_err(|e| Error::Gpu(format!("could not open `{}`: {e}", info.name)))?;
        let size = window.inner_size();
        let caps = surface.get_capabilities(&adapter);
        let format = caps
            .formats
            .iter()
            .copied()
            .find(|f| {
                matches!(
                    f,
                    wgpu::TextureFormat::Bgra8Unorm | wgpu::TextureFormat::Rgba8Unorm
                )
            })
            .or_else(|| caps.formats.first().copied())
            .ok_or_else(|| Error::Gpu(format!("`{}` offers no surface format", info.name)))?;
        let mut config = surface
            .get_default_config(&adapter, size.width.max(1), size.height.max(1))
            .ok_or_else(|| Error::Gpu("the surface is not supported by the adapter".into()))?;
        config.format = format;
        surface.configure(&device, &config);
        let egui = egui_wgpu::Renderer::new(&device, format, egui_wgpu::RendererOptions::default());
        let egui_state = egui_winit::State::new(
            self.egui_ctx.clone(),
            egui::ViewportId::ROOT,
            &window,
            Some(window.scale_factor() as f32),
            None,
            Some(device.limits().max_texture_dimension_2d as usize),
        );
        self.state
            .say(format!("drawing on {} ({:?})", info.name, info.backend));
        if info.device_type == wgpu::DeviceType::Cpu {
            // Ray marching in software: half resolution keeps the window responsive.
            self.state.view.render_scale = 0.5;
        }
        let scaled = ScaledView::new(&device, format);
        self.gpu = Some(Gpu {
            surface,
            device,
            queue,
            config,
            volume: None,
            scaled,
            egui,
        });
        self.egui_state = Some(egui_state);
        self.window = Some(window);
        Ok(())
    }

    /// Takes what the session sent.
    fn drain(&mut self) {
        while let Ok(u) = self.session.updates.try_recv() {
            match u {
                Update::Loaded(info) => {
                    if let Some(g) = self.gpu.as_mut() {
                        g.volume = Some(VolumeRenderer::new(&g.device, g.config.format, info.dims));
                    }
                    self.state.loaded(info);
                    self.state.bone_dirty = true;
                }
                Update::State {
                    step,
                    field_index,
                    field,
                    bone,
                    sample,
                    doses,
                    steps_per_s,
                    playing,
                } => {
                    self.first_step.get_or_insert(step);
                    self.state.step = step;
                    self.state.field_index = field_index;
                    self.state.field = field;
                    self.state.update_range();
                    self.state.field_dirty = true;
                    if let Some(b) = bone {
                        self.state.bone = b;
                        self.state.bone_dirty = true;
                    }
                    if self.state.samples.last().is_none_or(|s| s.day < sample.day) {
                        self.state.samples.push(sample);
                    }
                    self.state.doses = doses;
                    self.state.steps_per_s = steps_per_s;
                    self.state.playing = playing;
                }
                Update::Message(m) => self.state.say(m),
            }
        }
    }

    /// Builds the overlay for this frame; returns its paint jobs and textures.
    fn overlay(&mut self) -> Option<(Vec<egui::ClippedPrimitive>, egui::TexturesDelta, f32)> {
        let window = self.window.as_ref()?;
        let input = self.egui_state.as_mut()?.take_egui_input(window);
        let mut intents = Vec::new();
        let state = &mut self.state;
        let output = self.egui_ctx.run_ui(input, |ui| intents = state.show(ui));
        self.egui_state
            .as_mut()?
            .handle_platform_output(window, output.platform_output);
        for i in intents {
            match i {
                Intent::Send(c) => self.session.send(c),
                Intent::Screenshot(p) => {
                    if let Err(e) = self.screenshot(&p) {
                        self.state.say(format!("screenshot failed: {e}"));
                    }
                }
                Intent::LoadPreset(p) => match Preset::load(&p) {
                    Ok(preset) => self.session.send(Command::Load(Box::new(preset))),
                    Err(e) => self.state.say(format!("{e}")),
                },
            }
        }
        let ppp = output.pixels_per_point;
        let jobs = self.egui_ctx.tessellate(output.shapes, ppp);
        Some((jobs, output.textures_delta, ppp))
    }

    /// Draws the view and `jobs` into `target`.
    fn draw(
        &mut self,
        target: &wgpu::TextureView,
        size: [u32; 2],
        jobs: &[egui::ClippedPrimitive],
        ppp: f32,
    ) {
        let Some(g) = self.gpu.as_mut() else { return };
        if let Some(v) = &g.volume {
            if self.state.bone_dirty && !self.state.bone.is_empty() {
                v.set_bone(&g.queue, &self.state.bone);
                self.state.bone_dirty = false;
            }
            if self.state.field_dirty && !self.state.field.is_empty() {
                v.set_field(&g.queue, &self.state.field, &self.state.transfer);
                self.state.field_dirty = false;
            }
        }
        let screen = egui_wgpu::ScreenDescriptor {
            size_in_pixels: size,
            pixels_per_point: ppp,
        };
        let mut enc = g.device.create_command_encoder(&Default::default());
        let extra = g
            .egui
            .update_buffers(&g.device, &g.queue, &mut enc, jobs, &screen);
        let r = self.state.viewport_points;
        let viewport = if r.is_positive() {
            [
                r.min.x * ppp,
                r.min.y * ppp,
                r.width() * ppp,
                r.height() * ppp,
            ]
        } else {
            [0.0, 0.0, size[0] as f32, size[1] as f32]
        };
        let scale = self.state.view.render_scale.clamp(0.1, 1.0);
        let frame = self.state.camera.frame();
        let show = !self.state.bone.is_empty();
        if let Some(v) = g.volume.as_ref().filter(|_| show && scale < 1.0) {
            let s = &self.state.view;
            g.scaled
                .render(&g.device, &g.queue, &mut enc, v, &frame, s, viewport, scale);
        }
        {
            let bg = self.state.view.background;
            let mut pass = enc
                .begin_render_pass(&wgpu::RenderPassDescriptor {
                    label: Some("osteoniche.view"),
                    color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                        view: target,
                        depth_slice: None,
                        resolve_target: None,
                        ops: wgpu::Operations {
                            load: wgpu::LoadOp::Clear(wgpu::Color {
                                r: bg[0] as f64,
                                g: bg[1] as f64,
                                b: bg[2] as f64,
                                a: 1.0,
                            }),
                            store: wgpu::StoreOp::Store,
                        },
                    })],
                    depth_stencil_attachment: None,
                    timestamp_writes: None,
                    occlusion_query_set: None,
                    multiview_mask: None,
                })
                .forget_lifetime();
            if let Some(v) = g.volume.as_ref().filter(|_| show) {
                if scale < 1.0 {
                    g.scaled.composite(&g.queue, &mut pass, viewport);
                } else {
                    v.draw(&g.queue, &mut pass, &frame, &self.state.view, viewport);
                }
            }
            g.egui.render(&mut pass, jobs, &screen);
        }
        g.queue.submit(extra.into_iter().chain([enc.finish()]));
    }

    /// One frame: session updates, script, overlay, draw, present.
    fn frame(&mut self, el: &ActiveEventLoop) {
        self.drain();
        if !self.script_step() {
            el.exit();
            return;
        }
        let Some((jobs, textures, ppp)) = self.overlay() else {
            return;
        };
        let Some(g) = self.gpu.as_mut() else { return };
        upload_textures(g, &textures);
        let size = [g.config.width, g.config.height];
        let texture = match g.surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(t)
            | wgpu::CurrentSurfaceTexture::Suboptimal(t) => t,
            wgpu::CurrentSurfaceTexture::Outdated | wgpu::CurrentSurfaceTexture::Lost => {
                g.surface.configure(&g.device, &g.config);
                return;
            }
            _ => return,
        };
        let view = texture.texture.create_view(&Default::default());
        self.draw(&view, size, &jobs, ppp);
        if let Some(g) = self.gpu.as_mut() {
            g.queue.present(texture);
            for id in &textures.free {
                g.egui.free_texture(id);
            }
        }
        self.frames += 1;
        let dt = self.last_frame.elapsed().as_secs_f64();
        self.last_frame = Instant::now();
        self.state.fps = if self.state.fps == 0.0 {
            1.0 / dt.max(1e-6)
        } else {
            0.9 * self.state.fps + 0.1 / dt.max(1e-6)
        };
    }

    /// Draws the current frame again into an offscreen texture and writes it as PNG.
    fn screenshot(&mut self, path: &std::path::Path) -> Result<()> {
        let (w, h, format) = match &self.gpu {
            Some(g) => (g.config.width, g.config.height, g.config.format),
            None => return Err(Error::Invalid("no window to capture yet".into())),
        };
        let Some((jobs, textures, ppp)) = self.overlay() else {
            return Err(Error::Invalid("no window to capture yet".into()));
        };
        let g = self.gpu.as_mut().expect("checked");
        upload_textures(g, &textures);
        let texture = g.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("osteoniche.screenshot"),
            size: wgpu::Extent3d {
                width: w,
                height: h,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        let view = texture.create_view(&Default::default());
        self.draw(&view, [w, h], &jobs, ppp);
        let g = self.gpu.as_ref().expect("checked");
        let rgba = read_rgba(&g.device, &g.queue, &texture)?;
        let rgb: Vec<u8> = rgba
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        let png = crate::report::raster::encode_png(w as usize, h as usize, &rgb);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        crate::atomic::write_atomic(path, &png)?;
        self.state.say(format!("wrote {}", path.display()));
        Ok(())
    }
}

/// Hands egui's new and changed textures to its renderer.
fn upload_textures(g: &mut Gpu, textures: &egui::TexturesDelta) {
    for (id, deltas) in &textures.set {
        for delta in deltas {
            g.egui.update_texture(&g.device, &g.queue, *id, delta);
        }
    }
}

impl ApplicationHandler for App {
    fn resumed(&mut self, el: &ActiveEventLoop) {
        if self.window.is_some() {
            return;
        }
        if let Err(e) = self.init(el) {
            self.error = Some(e);
            el.exit();
        }
    }

    fn window_event(&mut self, el: &ActiveEventLoop, _id: WindowId, event: WindowEvent) {
        if let (Some(s), Some(w)) = (self.egui_state.as_mut(), self.window.as_ref()) {
            let _ = s.on_window_event(w, &event);
        }
        match event {
            WindowEvent::CloseRequested => el.exit(),
            WindowEvent::Resized(size) => {
                // Minimised windows report zero: keep the last configuration until restored.
                if let Some(g) = self.gpu.as_mut()
                    && size.width > 0
                    && size.height > 0
                {
                    g.config.width = size.width;
                    g.config.height = size.height;
                    g.surface.configure(&g.device, &g.config);
                }
            }
            WindowEvent::RedrawRequested => {
                let minimised = self.window.as_ref().is_some_and(|w| {
                    w.is_minimized().unwrap_or(false) || w.inner_size().width == 0
                });
                if !minimised {
                    self.frame(el);
                }
            }
            _ => {}
        }
    }

    fn about_to_wait(&mut self, el: &ActiveEventLoop) {
        let busy = self.state.playing || self.script.is_some();
        if let Some(w) = &self.window {
            w.request_redraw();
        }
        // Idle: look for session answers (doses, exports) 20 times a second.
        el.set_control_flow(if busy {
            ControlFlow::Poll
        } else {
            ControlFlow::WaitUntil(Instant::now() + Duration::from_millis(50))
        });
    }
}

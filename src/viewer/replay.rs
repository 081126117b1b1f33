//! Replaying an action script ([`super::script`]) in the running viewer: each frame the
//! next actions run until one has to wait for frames or steps.

use std::path::PathBuf;

use super::App;
use super::script::Action;
use super::session::Command;
use crate::error::Error;
use crate::pharma::dose::{Amount, DoseRequest};
use crate::render::colormap::Colormap;

/// What the script waits for before its next action.
pub(super) enum Wait {
    None,
    Frames(u32),
    Steps(u64),
}

/// A script being replayed: the actions left and what the next one waits for.
pub(super) struct Script {
    pub(super) actions: std::collections::VecDeque<Action>,
    pub(super) wait: Wait,
}

impl App {
    /// Runs script actions until one has to wait; false when the script asks to quit.
    pub(super) fn script_step(&mut self) -> bool {
        // Actions refer to the run: wait until it is loaded and its first state shown.
        if self.state.info.is_none() || self.state.bone.is_empty() {
            return true;
        }
        let Some(mut s) = self.script.take() else {
            return true;
        };
        let go_on = self.run_script(&mut s);
        self.script = Some(s);
        go_on
    }

    fn run_script(&mut self, s: &mut Script) -> bool {
        match &mut s.wait {
            Wait::Frames(n) if *n > 0 => {
                *n -= 1;
                return true;
            }
            Wait::Steps(target) if self.state.step < *target => return true,
            _ => s.wait = Wait::None,
        }
        while let Some(a) = s.actions.pop_front() {
            log::info!("script: {a:?}");
            match a {
                Action::Frames(n) => {
                    s.wait = Wait::Frames(n);
                    return true;
                }
                Action::Play => {
                    self.state.playing = true;
                    self.session.send(Command::Play);
                }
                Action::Pause => self.session.send(Command::Pause),
                Action::Step(n) => {
                    self.session.send(Command::Step(n));
                    s.wait = Wait::Steps(self.state.step + n);
                    return true;
                }
                Action::WaitSteps(n) => {
                    s.wait = Wait::Steps(n);
                    return true;
                }
                Action::Speed(n) => {
                    self.state.batch = n;
                    self.session.send(Command::Batch(n));
                }
                Action::Field(name) => {
                    let idx = self
                        .state
                        .info
                        .as_ref()
                        .and_then(|i| i.fields.iter().position(|f| *f == name));
                    match idx {
                        Some(i) => self.session.send(Command::Select(i)),
                        None => {
                            self.error = Some(Error::Invalid(format!("script: no field `{name}`")));
                            return false;
                        }
                    }
                }
                Action::Colormap(name) => match Colormap::from_name(&name) {
                    Some(c) => self.state.view.colormap = c,
                    None => {
                        self.error =
                            Some(Error::Invalid(format!("script: no colour map `{name}`")));
                        return false;
                    }
                },
                Action::Log(on) => {
                    self.state.transfer.log = on;
                    self.state.update_range();
                    self.state.field_dirty = true;
                }
                Action::Slice(axis, on, pos) => {
                    self.state.view.slices[axis].0 = on;
                    if let Some(p) = pos {
                        self.state.view.slices[axis].1 = p.clamp(0.0, 1.0);
                    }
                }
                Action::Pick(fx, fy) => self.state.pick(fx, fy),
                Action::Dose {
                    drug,
                    route,
                    amount,
                    per_kg,
                    hours,
                    nl,
                } => {
                    let local = route == crate::pharma::Route::Local;
                    self.session.send(Command::Dose(DoseRequest {
                        drug,
                        route,
                        amount: if per_kg {
                            Amount::MgPerKg(amount)
                        } else {
                            Amount::Mg(amount)
                        },
                        duration_h: hours,
                        point_um: if local {
                            self.state.dose.point_um
                        } else {
                            None
                        },
                        volume_nl: nl,
                    }));
                }
                Action::Screenshot(p) => {
                    if let Err(e) = self.screenshot(&PathBuf::from(p)) {
                        self.error = Some(e);
                        return false;
                    }
                }
                Action::Resize(w, h) => {
                    if let Some(win) = &self.window {
                        let _ = win.request_inner_size(winit::dpi::LogicalSize::new(w, h));
                    }
                }
                Action::Minimize(on) => {
                    if let Some(win) = &self.window {
                        win.set_minimized(on);
                    }
                }
                Action::ExportVti(p) => self.session.send(Command::ExportVti(p.into())),
                Action::ExportCsv(p) => self.session.send(Command::ExportCsv(p.into())),
                Action::Quit => return false,
            }
        }
        // The end of a script closes the viewer; the session finishes the commands already
        // sent (exports) before it sees the Quit that dropping it sends.
        self.session.send(Command::Pause);
        false
    }
}

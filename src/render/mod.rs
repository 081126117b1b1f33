//! Drawing the lattice and its fields with wgpu: colour maps, an orbit camera and a
//! ray-marching volume renderer. No window or UI types here: the desktop viewer
//! (`crate::viewer`, feature `viewer`) is a shell around these.

pub mod camera;
pub mod colormap;
pub mod volume;

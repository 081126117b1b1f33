//! An orbit camera around the lattice box (z up), and the per-pixel ray that the volume
//! shader and the CPU picker share.

/// 3-vector helpers.
pub type V3 = [f32; 3];

fn add(a: V3, b: V3) -> V3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}
fn sub(a: V3, b: V3) -> V3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
fn scale(a: V3, s: f32) -> V3 {
    [a[0] * s, a[1] * s, a[2] * s]
}
fn cross(a: V3, b: V3) -> V3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}
/// Unit vector along `a`.
pub fn normalize(a: V3) -> V3 {
    let l = (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt().max(1e-20);
    scale(a, 1.0 / l)
}

/// Orbit camera: looks at `target` from `distance` at azimuth `yaw` and elevation `pitch`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrbitCamera {
    /// Point looked at (box units: the longest box edge is 1).
    pub target: V3,
    /// Azimuth, radians.
    pub yaw: f32,
    /// Elevation, radians (kept within ±89°).
    pub pitch: f32,
    /// Distance from the target.
    pub distance: f32,
    /// Vertical field of view, radians.
    pub fov_y: f32,
}

/// The camera's frame: eye and unit forward, right, up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// Eye position.
    pub eye: V3,
    /// View direction.
    pub forward: V3,
    /// Screen right.
    pub right: V3,
    /// Screen up.
    pub up: V3,
    /// tan(fov_y / 2).
    pub tan_half: f32,
}

impl OrbitCamera {
    /// The default view of a box of extent `e`: from the front-right, slightly above.
    pub fn framing(e: V3) -> OrbitCamera {
        OrbitCamera {
            target: scale(e, 0.5),
            yaw: -0.9,
            pitch: 0.45,
            distance: 2.6,
            fov_y: 35f32.to_radians(),
        }
    }

    /// Turns by a mouse drag of (dx, dy) pixels.
    pub fn orbit(&mut self, dx: f32, dy: f32) {
        self.yaw -= dx * 0.008;
        self.pitch = (self.pitch + dy * 0.008).clamp(-1.55, 1.55);
    }

    /// Moves the target by a drag of (dx, dy) pixels in a view `height` pixels high.
    pub fn pan(&mut self, dx: f32, dy: f32, height: f32) {
        let f = self.frame();
        let per_px = 2.0 * self.distance * f.tan_half / height.max(1.0);
        self.target = add(
            self.target,
            add(scale(f.right, -dx * per_px), scale(f.up, dy * per_px)),
        );
    }

    /// Zooms by `steps` wheel notches (positive: closer).
    pub fn zoom(&mut self, steps: f32) {
        self.distance = (self.distance * 0.9f32.powf(steps)).clamp(0.2, 20.0);
    }

    /// The camera's frame.
    pub fn frame(&self) -> Frame {
        let dir = [
            self.pitch.cos() * self.yaw.cos(),
            self.pitch.cos() * self.yaw.sin(),
            self.pitch.sin(),
        ];
        let eye = add(self.target, scale(dir, self.distance));
        let forward = normalize(sub(self.target, eye));
        let right = normalize(cross(forward, [0.0, 0.0, 1.0]));
        let up = cross(right, forward);
        Frame {
            eye,
            forward,
            right,
            up,
            tan_half: (self.fov_y / 2.0).tan(),
        }
    }
}

impl Frame {
    /// The ray through normalised device coordinates (`ndc` in -1..1, y up) of a view with
    /// width/height `aspect`. Mirror of `ray_dir` in `shaders/view.wgsl`.
    pub fn ray(&self, ndc: [f32; 2], aspect: f32) -> V3 {
        normalize(add(
            self.forward,
            add(
                scale(self.right, ndc[0] * aspect * self.tan_half),
                scale(self.up, ndc[1] * self.tan_half),
            ),
        ))
    }
}

/// Entry and exit distances of a ray through the box `[0, e]`, if it hits.
pub fn hit_box(o: V3, d: V3, e: V3) -> Option<(f32, f32)> {
    let (mut t0, mut t1) = (0f32, f32::INFINITY);
    for a in 0..3 {
        let inv = 1.0 / d[a];
        let (mut ta, mut tb) = ((0.0 - o[a]) * inv, (e[a] - o[a]) * inv);
        if ta > tb {
            std::mem::swap(&mut ta, &mut tb);
        }
        t0 = t0.max(ta);
        t1 = t1.min(tb);
    }
    (t1 > t0).then_some((t0, t1))
}

/// Point `o + t d`.
pub fn along(o: V3, d: V3, t: f32) -> V3 {
    add(o, scale(d, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_centre_ray_looks_at_the_target_and_hits_the_box() {
        let e = [1.0, 1.0, 0.5];
        let cam = OrbitCamera::framing(e);
        let f = cam.frame();
        let d = f.ray([0.0, 0.0], 1.5);
        let to_target = normalize(sub(cam.target, f.eye));
        assert!((0..3).all(|a| (d[a] - to_target[a]).abs() < 1e-6));
        let (t0, t1) = hit_box(f.eye, d, e).expect("hits");
        assert!(t0 < cam.distance && cam.distance < t1);
        // A ray pointing away misses.
        assert!(hit_box(f.eye, scale(d, -1.0), e).is_none());
    }
}

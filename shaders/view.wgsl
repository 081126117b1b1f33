// Viewer: ray marching of the lattice box in one full-screen pass. The bone field is drawn
// as a lit surface (its 0.5 iso-level, normal from the gradient); the chosen field as an
// emission-absorption volume in the marrow (colour map, opacity, transfer exponent) and on
// up to three axis-aligned slice planes. Mirror of the CPU picker in src/render/volume.rs.

struct View {
    eye: vec3f,
    tan_half: f32,
    forward: vec3f,
    aspect: f32,
    right: vec3f,
    opacity: f32,
    up: vec3f,
    gamma: f32,
    extent: vec3f,
    steps: f32,
    slices: vec3f,
    flags: u32,
    viewport: vec4f,
    bone_color: vec4f,
    background: vec4f,
    cmap: array<vec4f, 9>,
}

const SHOW_VOLUME: u32 = 1u;
const SHOW_SURFACE: u32 = 2u;
const SHOW_SLICE_X: u32 = 4u;
const ENCODE_SRGB: u32 = 32u;

@group(0) @binding(0) var<uniform> v: View;
@group(0) @binding(1) var field_tex: texture_3d<f32>;
@group(0) @binding(2) var bone_tex: texture_3d<f32>;
@group(0) @binding(3) var samp: sampler;

fn colormap(t: f32) -> vec3f {
    let x = clamp(t, 0.0, 1.0) * 8.0;
    let i = min(u32(floor(x)), 7u);
    return mix(v.cmap[i].rgb, v.cmap[i + 1u].rgb, x - f32(i));
}

fn ray_dir(ndc: vec2f) -> vec3f {
    return normalize(v.forward + ndc.x * v.aspect * v.tan_half * v.right + ndc.y * v.tan_half * v.up);
}

fn bone_at(p: vec3f) -> f32 {
    return textureSampleLevel(bone_tex, samp, p / v.extent, 0.0).r;
}

fn field_at(p: vec3f) -> f32 {
    return textureSampleLevel(field_tex, samp, p / v.extent, 0.0).r;
}

// Linear light to the sRGB curve, for targets that store values as given.
fn to_srgb(c: vec3f) -> vec3f {
    let lo = c * 12.92;
    let hi = 1.055 * pow(c, vec3f(1.0 / 2.4)) - 0.055;
    return select(hi, lo, c <= vec3f(0.0031308));
}

fn finish(c: vec3f) -> vec4f {
    if (v.flags & ENCODE_SRGB) != 0u {
        return vec4f(to_srgb(clamp(c, vec3f(0.0), vec3f(1.0))), 1.0);
    }
    return vec4f(c, 1.0);
}

@fragment
fn fs_main(@builtin(position) frag: vec4f) -> @location(0) vec4f {
    let local = (frag.xy - v.viewport.xy) / v.viewport.zw;
    if any(local < vec2f(0.0)) || any(local > vec2f(1.0)) {
        return finish(v.background.rgb);
    }
    let ndc = vec2f(local.x * 2.0 - 1.0, 1.0 - local.y * 2.0);
    let d = ray_dir(ndc);
    let o = v.eye;
    // Slab test against the box [0, extent].
    let inv = 1.0 / d;
    let ta = (vec3f(0.0) - o) * inv;
    let tb = (v.extent - o) * inv;
    let t0 = max(max(min(ta.x, tb.x), min(ta.y, tb.y)), max(min(ta.z, tb.z), 0.0));
    let t1 = min(min(max(ta.x, tb.x), max(ta.y, tb.y)), max(ta.z, tb.z));
    if t1 <= t0 {
        return finish(v.background.rgb);
    }
    // Nearest slice plane inside the box.
    var t_slice = t1;
    for (var a = 0u; a < 3u; a++) {
        if (v.flags & (SHOW_SLICE_X << a)) != 0u {
            let t = (v.slices[a] * v.extent[a] - o[a]) * inv[a];
            if t > t0 && t < t_slice {
                t_slice = t;
            }
        }
    }
    let dt = length(v.extent) / v.steps;
    var acc = vec4f(0.0);
    var t = t0 + 0.5 * dt;
    let light = normalize(-d + 0.6 * v.up);
    var hit = false;
    loop {
        if t >= t_slice || acc.a > 0.985 {
            break;
        }
        let p = o + t * d;
        let b = bone_at(p);
        if (v.flags & SHOW_SURFACE) != 0u && b >= 0.5 {
            // Refine the crossing between the last two samples, then shade.
            var lo = t - dt;
            var hi = t;
            for (var k = 0u; k < 4u; k++) {
                let mid = 0.5 * (lo + hi);
                if bone_at(o + mid * d) >= 0.5 { hi = mid; } else { lo = mid; }
            }
            let q = o + hi * d;
            let h = 0.75 * v.extent / vec3f(textureDimensions(bone_tex));
            let g = vec3f(
                bone_at(q + vec3f(h.x, 0.0, 0.0)) - bone_at(q - vec3f(h.x, 0.0, 0.0)),
                bone_at(q + vec3f(0.0, h.y, 0.0)) - bone_at(q - vec3f(0.0, h.y, 0.0)),
                bone_at(q + vec3f(0.0, 0.0, h.z)) - bone_at(q - vec3f(0.0, 0.0, h.z)),
            );
            var n = -normalize(g + vec3f(1e-6));
            if dot(n, d) > 0.0 { n = -n; }
            let diffuse = max(dot(n, light), 0.0);
            let spec = pow(max(dot(reflect(-light, n), -d), 0.0), 24.0);
            let c = v.bone_color.rgb * (0.3 + 0.7 * diffuse) + vec3f(0.15 * spec);
            acc = vec4f(acc.rgb + (1.0 - acc.a) * c, 1.0);
            hit = true;
            break;
        }
        if (v.flags & SHOW_VOLUME) != 0u {
            let f = field_at(p) * (1.0 - b);
            let a = clamp(v.opacity * pow(f, v.gamma) * dt * 40.0, 0.0, 1.0);
            acc = vec4f(acc.rgb + (1.0 - acc.a) * a * colormap(f), acc.a + (1.0 - acc.a) * a);
        }
        t += dt;
    }
    if !hit && t_slice < t1 && acc.a <= 0.985 {
        let p = o + t_slice * d;
        let c = mix(colormap(field_at(p)), v.bone_color.rgb * 0.85, 0.6 * bone_at(p));
        acc = vec4f(acc.rgb + (1.0 - acc.a) * c, 1.0);
    }
    return finish(acc.rgb + (1.0 - acc.a) * v.background.rgb);
}

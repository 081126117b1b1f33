// Viewer: draws the lattice view, rendered offscreen at a reduced resolution, scaled into
// its rectangle of the window (bilinear).

struct Rect {
    viewport: vec4f,
}

@group(0) @binding(0) var<uniform> r: Rect;
@group(0) @binding(1) var image: texture_2d<f32>;
@group(0) @binding(2) var samp: sampler;

@fragment
fn fs_main(@builtin(position) frag: vec4f) -> @location(0) vec4f {
    let uv = (frag.xy - r.viewport.xy) / r.viewport.zw;
    if any(uv < vec2f(0.0)) || any(uv > vec2f(1.0)) {
        discard;
    }
    return textureSampleLevel(image, samp, uv, 0.0);
}

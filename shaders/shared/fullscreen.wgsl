// One triangle covering the target (vertices 0..3), for full-screen fragment passes; the
// viewer's shaders (view.wgsl, blit.wgsl) are appended to it.

@vertex
fn vs_main(@builtin(vertex_index) i: u32) -> @builtin(position) vec4f {
    let p = vec2f(f32((i << 1u) & 2u), f32(i & 2u));
    return vec4f(p * 2.0 - 1.0, 0.0, 1.0);
}

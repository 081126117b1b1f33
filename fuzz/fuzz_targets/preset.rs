//! Any text given as a preset is either accepted (and then resolves into a scenario) or
//! refused with an error; it never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(preset) = osteoniche::preset::Preset::parse(text, "<fuzz>")
    {
        let _ = preset.scenario(None, None);
        let _ = preset.to_toml();
    }
});

//! Any bytes given as a checkpoint are either read or refused with an error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("osteoniche-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("c.osck");
    if std::fs::write(&path, data).is_ok() {
        let _ = osteoniche::io::checkpoint::Checkpoint::read(&path);
    }
});

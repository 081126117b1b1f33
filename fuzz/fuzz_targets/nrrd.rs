//! Any bytes given as a NRRD file are either read or refused with an error; never a panic
//! or an allocation bigger than the header's validated size.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = osteoniche::lattice::nrrd::parse_nrrd(data, std::path::Path::new("<fuzz>.nrrd"));
});

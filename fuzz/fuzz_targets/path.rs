//! Routing: a request path splits into service and method only when it is
//! `/service/method`, and the parts rebuild the path.
#![no_main]

use gust::fuzzing::split_path;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else { return };
    if let Some((service, method)) = split_path(path) {
        assert!(!service.contains('/'));
        assert_eq!(format!("/{service}/{method}"), path);
    }
});

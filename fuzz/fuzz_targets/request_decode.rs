//! Any bytes as a client request and as a node-to-node request: a typed
//! error or a decoded request, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = pyralog_server::handlers::decode_request_kind(data.to_vec());
    let _ = pyralog_server::cluster::wire::decode_request(data);
    let _ = pyralog_server::cluster::wire::decode_reply(&data.to_vec().into());
});

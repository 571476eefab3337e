//! Fuzzes the RD Gateway probe's reading of HTTP answers: the response-head parser
//! ([`gateway::parse_head`]), the sans-I/O reader the driver feeds ([`gateway::HeadReader`], fed the input
//! in 2 KiB reads as `rdpl::probe::gateway::exchange` does, then the end of the stream) and the verdict on the
//! two answers ([`gateway::classify`]).
//!
//! The input is two answers separated by the first `\0\0` (the first to `RDG_OUT_DATA`, the second to the
//! WebSocket upgrade); without a separator both requests get the same answer. Besides "never panics" it checks:
//! bytes after a complete head never change what the head says; the reader agrees with `parse_head` on the
//! whole answer; the verdict is `Ok` exactly when one answer is a 401 that names an authentication scheme or
//! the WebSocket answer is a 101 with `Upgrade: websocket` (never for a 200, which any web server gives), the
//! transport it names is the one that answered, and its scheme list has no duplicates; when neither answer
//! is HTTP, `gateway::why` names what each was.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdpl_core::facts::{GatewayStatus, Transport};
use rdpl_core::preflight::gateway::{self, Answer, HeadReader};

/// What an RD Gateway answers an unauthenticated request (`upgrade`: to the WebSocket request).
fn live(a: &Answer, upgrade: bool) -> bool {
    match a {
        Answer::Http {
            status: 101,
            websocket,
            ..
        } => upgrade && *websocket,
        Answer::Http {
            status: 401,
            auth_schemes,
            ..
        } => !auth_schemes.is_empty(),
        _ => false,
    }
}

fn read(bytes: &[u8]) -> Answer {
    let direct = gateway::parse_head(bytes);
    if let Some(a @ Answer::Http { .. }) = &direct {
        let mut longer = bytes.to_vec();
        longer.extend_from_slice(b"\r\n\r\nHTTP/1.1 500 Oops\r\n\r\n\x00\xff");
        assert_eq!(
            gateway::parse_head(&longer).as_ref(),
            Some(a),
            "a body changed the head"
        );
    }
    let mut reader = HeadReader::new();
    let answer = bytes
        .chunks(2048)
        .find_map(|chunk| reader.feed(chunk))
        .unwrap_or_else(|| reader.closed());
    assert_ne!(answer, Answer::Timeout, "a closed stream reported as a timeout");
    match (&answer, &direct) {
        (Answer::Closed(_), _) => assert!(bytes.is_empty(), "closed after {} bytes", bytes.len()),
        // A complete head in the whole input is what the read loop finds (it may stop at an earlier chunk
        // boundary only if the head was complete there, which gives the same answer).
        (Answer::Http { .. }, Some(d)) => assert_eq!(&answer, d),
        (Answer::Http { .. }, None) => panic!("the reader found a head parse_head does not: {answer:?}"),
        (Answer::Garbage(_), _) => {}
        (Answer::Timeout, _) => unreachable!(),
    }
    answer
}

fuzz_target!(|data: &[u8]| {
    let (first, second) = match data.windows(2).position(|w| w == [0, 0]) {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, data),
    };
    let out_data = read(first);
    let websocket = read(second);
    let (status, transport, schemes) = gateway::classify(&out_data, &websocket);

    let is_ok = status == GatewayStatus::Ok;
    assert_eq!(
        is_ok,
        live(&out_data, false) || live(&websocket, true),
        "{status:?} for {out_data:?} / {websocket:?}"
    );
    match transport {
        Transport::WebSocket => assert!(live(&websocket, true)),
        Transport::Http => assert!(live(&out_data, false) && !live(&websocket, true)),
        Transport::Rpc | Transport::Unknown => assert!(!is_ok),
    }
    if !matches!(out_data, Answer::Http { .. }) && !matches!(websocket, Answer::Http { .. }) {
        assert_eq!(status, GatewayStatus::Rejected);
        let why = gateway::why(&out_data, &websocket);
        assert!(!why.is_empty() && !why.contains("HTTP 0"), "{why}");
    }
    for (i, s) in schemes.iter().enumerate() {
        assert!(
            !schemes[..i].iter().any(|x| x.eq_ignore_ascii_case(s)),
            "{s} listed twice in {schemes:?}"
        );
    }
});

//! Fuzzes the RD Gateway probe's reading of HTTP answers: the response-head parser
//! ([`gateway::parse_head`]), the bounded read loop ([`gateway::exchange`], over an in-memory stream that
//! delivers the input and then closes) and the verdict on the two answers ([`gateway::classify`]).
//!
//! The input is two answers separated by the first `\0\0` (the first to `RDG_OUT_DATA`, the second to the
//! WebSocket upgrade); without a separator both requests get the same answer. Besides "never panics" it checks:
//! bytes after a complete head never change what the head says; `exchange` agrees with `parse_head` on the
//! whole answer; the verdict is `Ok` exactly when one answer is 101/200 or a 401 that names an authentication
//! scheme, the transport it names is the one that answered, and its scheme list has no duplicates.
#![no_main]

use std::sync::LazyLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use rdpl::probe::gateway::{self as driver, Request};
use rdpl_core::facts::{GatewayStatus, Transport};
use rdpl_core::preflight::gateway::{self, Answer};

static RT: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime")
});

fn live(a: &Answer) -> bool {
    match a {
        Answer::Http {
            status: 101 | 200, ..
        } => true,
        Answer::Http {
            status: 401,
            auth_schemes,
        } => !auth_schemes.is_empty(),
        _ => false,
    }
}

fn read(bytes: &[u8], kind: Request) -> Answer {
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
    let mut stream = tokio::io::join(bytes, tokio::io::sink());
    let answer = RT.block_on(driver::exchange(
        &mut stream,
        kind,
        "gw.fuzz.test",
        Duration::from_secs(5),
    ));
    assert_ne!(answer, Answer::Timeout, "a closed stream reported as a timeout");
    match (&answer, &direct) {
        (Answer::Closed(_), _) => assert!(bytes.is_empty(), "closed after {} bytes", bytes.len()),
        // A complete head in the whole input is what the read loop finds (it may stop at an earlier chunk
        // boundary only if the head was complete there, which gives the same answer).
        (Answer::Http { .. }, Some(d)) => assert_eq!(&answer, d),
        (Answer::Http { .. }, None) => panic!("exchange found a head parse_head does not: {answer:?}"),
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
    let out_data = read(first, Request::OutData);
    let websocket = read(second, Request::WebSocket);
    let (status, transport, schemes) = gateway::classify(&out_data, &websocket);

    let is_ok = status == GatewayStatus::Ok;
    assert_eq!(
        is_ok,
        live(&out_data) || live(&websocket),
        "{status:?} for {out_data:?} / {websocket:?}"
    );
    match transport {
        Transport::WebSocket => assert!(live(&websocket)),
        Transport::Http => assert!(live(&out_data) && !live(&websocket)),
        Transport::Rpc | Transport::Unknown => assert!(!is_ok),
    }
    if !matches!(out_data, Answer::Http { .. }) && !matches!(websocket, Answer::Http { .. }) {
        assert_eq!(status, GatewayStatus::Rejected);
    }
    for (i, s) in schemes.iter().enumerate() {
        assert!(
            !schemes[..i].iter().any(|x| x.eq_ignore_ascii_case(s)),
            "{s} listed twice in {schemes:?}"
        );
    }
});

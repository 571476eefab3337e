//! Fuzzes what rdpl does with a server's answer to its X.224 Connection Request: the TPKT length check
//! ([`x224::expected_len`]), the classifier ([`x224::classify`]) and the bounded read loop that drives them
//! ([`x224::exchange`], over an in-memory stream that delivers the fuzz input and then closes).
//!
//! Besides "never panics" it checks: a length from the TPKT header is never below 11 or above
//! [`x224::MAX_CONFIRM`], and `exchange` never reads past it; a Confirm is only recognised in bytes that start
//! with a TPKT header and an X.224 Connection Confirm TPDU code; a legacy answer has no negotiation data
//! (length indicator 6); `exchange` on the stream agrees with `classify` on the same bytes; a closed stream is
//! reported as closed, never as silent.
#![no_main]

use std::sync::LazyLock;
use std::time::Duration;

use ironrdp_pdu::nego::SecurityProtocol;
use libfuzzer_sys::fuzz_target;
use rdpl::probe::x224 as driver;
use rdpl_core::facts::Protocols;
use rdpl_core::preflight::x224::{self, Answer};

static RT: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime")
});

fn check_recognised(bytes: &[u8], a: &Answer) {
    if matches!(a, Answer::Selected(_) | Answer::Failure(_) | Answer::Legacy) {
        assert!(bytes.len() >= 7, "a Confirm recognised in {} bytes", bytes.len());
        assert_eq!(
            bytes[5] & 0xF0,
            0xD0,
            "a Confirm with TPDU code {:#04x}",
            bytes[5]
        );
    }
    if matches!(a, Answer::Legacy) {
        assert_eq!(bytes[4], 6, "a legacy Confirm with negotiation data");
    }
    if let Answer::Failure(code) = a {
        let id = x224::failure_id(*code);
        assert!(id.wire().starts_with("nego."), "{id}");
    }
    if let Answer::Selected(p) = a {
        let names = Protocols::from(*p).names();
        assert_eq!(
            names == ["rdp"],
            p.is_standard_rdp_security(),
            "{p:?} named {names:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    // The classifier on the raw bytes.
    let direct = x224::classify(data);
    check_recognised(data, &direct);
    assert!(
        !matches!(direct, Answer::Closed | Answer::Silent { .. }),
        "classify can't see a stream"
    );

    // The length check on the header, as `exchange` uses it.
    let mut expected = None;
    if let Some(header) = data.first_chunk::<4>() {
        match x224::expected_len(header) {
            Ok(len) => {
                assert!((11..=x224::MAX_CONFIRM).contains(&len), "expected_len {len}");
                assert_eq!(header[0], 3);
                expected = Some(len);
            }
            Err(why) => assert!(!why.is_empty()),
        }
    }

    // The driver on a stream that delivers `data`, then EOF; the request goes to a sink.
    let mut stream = tokio::io::join(data, tokio::io::sink());
    let answer = RT.block_on(driver::exchange(
        &mut stream,
        SecurityProtocol::SSL,
        Duration::from_secs(5),
    ));
    assert!(
        !matches!(answer, Answer::Silent { .. }),
        "a closed stream reported as silent: {answer:?}"
    );
    match expected {
        _ if data.is_empty() => assert_eq!(answer, Answer::Closed),
        Some(len) if len <= data.len() => {
            // Exactly the bytes the header announced, no more.
            let want = x224::classify(&data[..len]);
            assert_eq!(answer, want, "exchange and classify disagree on {len} bytes");
            check_recognised(&data[..len], &answer);
        }
        _ => assert!(
            matches!(answer, Answer::Garbage(_)),
            "{answer:?} from {} bytes",
            data.len()
        ),
    }
});

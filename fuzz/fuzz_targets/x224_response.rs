//! Fuzzes what rdpl does with a server's answer to its X.224 Connection Request: the TPKT length check
//! ([`x224::expected_len`]), the classifier ([`x224::classify`]) and the sans-I/O reader the driver feeds
//! ([`x224::ConfirmReader`], fed the fuzz input in pieces whose size the input's first byte picks, then the
//! end of the stream), exactly as `rdpl::probe::x224::exchange` feeds it from a socket.
//!
//! Besides "never panics" it checks: a length from the TPKT header is never below 11 or above
//! [`x224::MAX_CONFIRM`], and the reader never wants bytes past it; a Confirm is only recognised in bytes that
//! start with a TPKT header and an X.224 Connection Confirm TPDU code; a legacy answer has no negotiation data
//! (length indicator 6); the reader agrees with `classify` on the same bytes, whatever the pieces; a closed
//! stream is reported as closed, never as silent; a selection the modern request did not allow is
//! `nego.unexpected_selection` with nothing selected or concluded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdpl_core::facts::Protocols;
use rdpl_core::finding::FindingId;
use rdpl_core::preflight::security;
use rdpl_core::preflight::x224::{self, Answer, ConfirmReader};
use rdpl_profiles::name::Host;
use rdpl_profiles::profile::Profile;

/// Feeds `data` as a driver reading at most `piece` bytes at a time would, then the end of the stream.
fn read(data: &[u8], piece: usize) -> Answer {
    let (mut reader, mut at) = (ConfirmReader::new(), 0);
    loop {
        let want = reader.wanted();
        assert!(want > 0, "the reader wants nothing but gave no answer");
        let n = want.min(piece).min(data.len() - at);
        if n == 0 {
            return reader.closed();
        }
        assert!(reader.received() + n <= x224::MAX_CONFIRM, "reads past the largest Confirm");
        if let Some(answer) = reader.feed(&data[at..at + n]) {
            return answer;
        }
        at += n;
    }
}

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
        // Judged as the answer to the modern request: a selection that request did not allow (two bits, an
        // unknown bit, RDSTLS, RDSAAD) is `nego.unexpected_selection` and nothing is built on it; a lawful one
        // is selected as one known name.
        let profile = Profile::new(
            "fuzz".parse().expect("name"),
            Host::Name("fuzz.test".into()),
        );
        let (facts, findings) = security::judge(&profile, a, &Answer::Closed, &Answer::Closed, &Answer::Closed);
        let unexpected = findings
            .iter()
            .any(|f| f.id == FindingId::NegoUnexpectedSelection);
        if x224::selection_fits(security::MODERN, *p) {
            assert!(!unexpected, "{p:?} is lawful");
            assert_eq!(facts.selected.map(|s| s.names().len()), Some(1), "{p:?}");
        } else {
            assert!(unexpected && facts.selected.is_none(), "{p:?}: {findings:?}");
            assert!(facts.nla_required.is_none() && facts.offered.is_empty(), "{p:?}");
        }
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

    // The reader, in one piece per read (as from a fast socket) and in pieces the input picks.
    let answer = read(data, x224::MAX_CONFIRM);
    let piece = usize::from(data.first().copied().unwrap_or(1) % 8).max(1);
    assert_eq!(read(data, piece), answer, "the answer depends on how the bytes arrived");
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

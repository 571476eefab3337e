//! X.224 driver: [`exchange`] sends one Connection Request and reads one Connection Confirm on a stream,
//! within a deadline. The pure part (request bytes, length check, classification) is
//! [`rdpl_core::preflight::x224`].

use std::time::Duration;

use ironrdp_pdu::nego::SecurityProtocol;
use rdpl_core::preflight::x224::{Answer, classify, expected_len, request};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Sends one Connection Request and reads one answer, all within `deadline`. Never reads more than
/// [`rdpl_core::preflight::x224::MAX_CONFIRM`] bytes, so a hostile server can't make it wait or allocate without bound.
pub async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    protocols: SecurityProtocol,
    deadline: Duration,
) -> Answer {
    let mut got = 0usize;
    let work = async {
        if let Err(e) = stream.write_all(&request(protocols)).await {
            return Answer::Garbage(format!("could not send the request: {e}"));
        }
        let mut header = [0u8; 4];
        while got < 4 {
            match stream.read(&mut header[got..]).await {
                Ok(0) => {
                    return if got == 0 {
                        Answer::Closed
                    } else {
                        Answer::Garbage(format!("closed after {got} bytes"))
                    };
                }
                Ok(n) => got += n,
                Err(e) => {
                    return if got == 0 {
                        Answer::Closed
                    } else {
                        Answer::Garbage(e.to_string())
                    };
                }
            }
        }
        let len = match expected_len(&header) {
            Ok(len) => len,
            Err(why) => return Answer::Garbage(why),
        };
        let mut buf = vec![0u8; len];
        buf[..4].copy_from_slice(&header);
        while got < len {
            match stream.read(&mut buf[got..]).await {
                Ok(0) => return Answer::Garbage(format!("closed after {got} of {len} bytes")),
                Ok(n) => got += n,
                Err(e) => return Answer::Garbage(e.to_string()),
            }
        }
        classify(&buf)
    };
    let result = tokio::time::timeout(deadline, work).await;
    result.unwrap_or(Answer::Silent { bytes: got })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn exchange_is_bounded_by_the_deadline() {
        let (mut client, mut server) = tokio::io::duplex(64);
        let t = tokio::spawn(async move {
            let mut buf = [0u8; 64];
            let _ = server.read(&mut buf).await;
            let _ = server.write_all(&[3, 0]).await; // a slow server: half a header, then nothing
            tokio::time::sleep(Duration::from_secs(5)).await;
        });
        let a = exchange(&mut client, SecurityProtocol::SSL, Duration::from_millis(200)).await;
        assert_eq!(a, Answer::Silent { bytes: 2 });
        t.abort();
    }
}

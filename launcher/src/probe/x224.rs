//! X.224 driver: [`exchange`] sends one Connection Request and reads one Connection Confirm on a stream,
//! within a deadline. The pure part (request bytes, length check, classification) is
//! [`rdpl_core::preflight::x224`].

use std::time::Duration;

use ironrdp_pdu::nego::SecurityProtocol;
use rdpl_core::preflight::x224::{Answer, ConfirmReader, MAX_CONFIRM, request};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Sends one Connection Request and reads one answer, all within `deadline`. Never reads more than
/// [`MAX_CONFIRM`] bytes, so a hostile server can't make it wait or allocate without bound.
pub async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    protocols: SecurityProtocol,
    deadline: Duration,
) -> Answer {
    let mut reader = ConfirmReader::new();
    let work = async {
        if let Err(e) = stream.write_all(&request(protocols)).await {
            return Answer::Garbage(format!("could not send the request: {e}"));
        }
        let mut chunk = [0u8; MAX_CONFIRM];
        loop {
            let want = reader.wanted().min(chunk.len());
            match stream.read(&mut chunk[..want]).await {
                Ok(0) => return reader.closed(),
                Ok(n) => {
                    if let Some(answer) = reader.feed(&chunk[..n]) {
                        return answer;
                    }
                }
                Err(e) => return reader.failed(&e.to_string()),
            }
        }
    };
    let result = tokio::time::timeout(deadline, work).await;
    result.unwrap_or(Answer::Silent {
        bytes: reader.received(),
    })
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

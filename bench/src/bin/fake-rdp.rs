//! Many fake RDP endpoints in one process, for `bench/fleet` (issue 7): what `rdpl check --all` meets in a
//! fleet besides real servers.
//!
//! - `--ok FILE`: every `IP:PORT` line of FILE is a listener that answers like a TLS-only RDP server: one
//!   X.224 Connection Confirm per connection (RDP_NEG_RSP PROTOCOL_SSL when the request includes SSL, else
//!   RDP_NEG_FAILURE SSL_REQUIRED_BY_SERVER, as xrdp with `security_layer=tls`), then a TLS handshake (rustls,
//!   the certificate and key given). Whatever the client sends next (nmap's MCS Connect Initial) makes it
//!   close the connection, as a TLS-only server that does not want that PDU there would; rdpl's pre-flight
//!   sends nothing more and closes itself.
//! - `--silent FILE`: listeners that accept and then never send a byte (a hung service, a half-dead host).
//!
//! Usage: `fake-rdp --cert CERT.pem --key KEY.pem [--ok FILE] [--silent FILE]`. Prints `listening N` on stdout
//! once all N listeners are bound, then runs until killed. Every connection is dropped after 60 s at most.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A connection is closed after this, whatever happens.
const HOLD: Duration = Duration::from_secs(60);

/// Waits until the peer sends something or closes (or HOLD passes).
async fn first_data(mut s: impl AsyncReadExt + Unpin) {
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(HOLD, s.read(&mut buf)).await;
}

/// Reads and discards until the peer closes (or HOLD passes).
async fn drain(mut s: impl AsyncReadExt + Unpin) {
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(HOLD, async {
        while let Ok(n) = s.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

/// The Connection Confirm for a Connection Request (TPKT included).
fn confirm(request: &[u8]) -> Vec<u8> {
    // TPKT(4) X.224 CC: LI, 0xD0, dst-ref(2), src-ref(2), class.
    let mut cc = vec![0x03, 0x00, 0x00, 0x00, 0x00, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00];
    // RDP_NEG_REQ is the last 8 bytes of the request: type 0x01, flags, length 8, protocols (LE u32).
    let n = request.len();
    let requested = (n >= 19 && request[n - 8] == 0x01 && request[n - 6] == 8)
        .then(|| u32::from_le_bytes([request[n - 4], request[n - 3], request[n - 2], request[n - 1]]));
    match requested {
        None => {} // legacy Confirm without negotiation data
        Some(p) if p & 0x1 != 0 => cc.extend_from_slice(&[0x02, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00]),
        Some(_) => cc.extend_from_slice(&[0x03, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00]),
    }
    let len = cc.len();
    cc[2..4].copy_from_slice(&u16::try_from(len).unwrap_or(0).to_be_bytes());
    cc[4] = u8::try_from(len - 5).unwrap_or(0);
    cc
}

async fn serve_ok(mut s: TcpStream, tls: tokio_rustls::TlsAcceptor) -> anyhow::Result<()> {
    let _ = s.set_nodelay(true);
    let mut header = [0u8; 4];
    s.read_exact(&mut header).await?;
    let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
    if header[0] != 3 || !(11..=512).contains(&len) {
        bail!("not a TPKT Connection Request");
    }
    let mut request = header.to_vec();
    request.resize(len, 0);
    s.read_exact(&mut request[4..]).await?;
    let cc = confirm(&request);
    s.write_all(&cc).await?;
    if cc.len() == 19 && cc[11] == 0x02 {
        first_data(tls.accept(s).await?).await;
    } else {
        first_data(s).await;
    }
    Ok(())
}

fn addresses(file: &str) -> anyhow::Result<Vec<SocketAddr>> {
    std::fs::read_to_string(file)
        .with_context(|| format!("read {file}"))?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim().parse().with_context(|| format!("{file}: {l}")))
        .collect()
}

fn main() -> anyhow::Result<()> {
    let (mut cert, mut key, mut ok, mut silent) = (None, None, Vec::new(), Vec::new());
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--cert" => cert = Some(value),
            "--key" => key = Some(value),
            "--ok" => ok.extend(addresses(&value)?),
            "--silent" => silent.extend(addresses(&value)?),
            _ => bail!("unknown option {flag}"),
        }
    }
    let cert = cert.context("--cert is required")?;
    let key = key.context("--key is required")?;
    let chain = CertificateDer::pem_file_iter(&cert)
        .with_context(|| format!("read {cert}"))?
        .collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(&key).with_context(|| format!("read {key}"))?;
    let config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let mut n = 0;
        for (addrs, is_ok) in [(ok, true), (silent, false)] {
            for a in addrs {
                let l = TcpListener::bind(a).await.with_context(|| format!("bind {a}"))?;
                n += 1;
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    loop {
                        let Ok((s, _)) = l.accept().await else {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        };
                        if is_ok {
                            let acceptor = acceptor.clone();
                            tokio::spawn(async move {
                                let _ = tokio::time::timeout(HOLD, serve_ok(s, acceptor)).await;
                            });
                        } else {
                            tokio::spawn(drain(s));
                        }
                    }
                });
            }
        }
        let mut out = std::io::stdout();
        writeln!(out, "listening {n}")?;
        out.flush()?;
        std::future::pending::<anyhow::Result<()>>().await
    })
}

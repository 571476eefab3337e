//! A TCP proxy that delays every chunk by a fixed one-way latency, in each direction, preserving order: a
//! stand-in for `tc netem delay` (not available on the benchmark machine). With `--delay-ms 25` a request /
//! response exchange through it takes 50 ms longer: RTT 50 ms.
//!
//! Each chunk read from one side is stamped with `read time + delay` and written to the other side at that
//! time (pipelined: a chunk does not wait for the one before it to be delayed first, only to be written
//! first). End of stream is forwarded the same way. Both sockets have TCP_NODELAY so Nagle adds nothing.
//!
//! What it can NOT do: delay the TCP three-way handshake. The kernel completes the client's connect at once,
//! so a connect through the proxy costs ~0 ms instead of one RTT; `docs/PERFORMANCE.md` accounts for that.
//!
//! `--pool N` (diagnostics only) keeps N upstream connections open in advance, made one at a time, and pairs
//! each client with one of them. A server with a tiny listen backlog (xrdp's is 2) then never sees several
//! SYNs at once, so a client that opens 5 connections at once is not held up by a dropped SYN's 1 s
//! retransmission; `bench/run` uses it to show what `rdpl check` costs apart from that.
//!
//! Usage: `delay-proxy --listen 127.0.0.1:0 --upstream 127.0.0.1:13389 --delay-ms 25 [--pool N]`. Prints
//! `listening IP:PORT` on stdout once it accepts connections, then runs until killed. `--listen` may be
//! given more than once (`bench/fleet`: many addresses in front of one upstream); `listening` then names the
//! first, once all are bound.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, mpsc};
use tokio::time::Instant;

struct Args {
    listen: Vec<SocketAddr>,
    upstream: SocketAddr,
    delay: Duration,
    pool: usize,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut listen = Vec::new();
    let mut upstream = None;
    let mut delay = Duration::from_millis(25);
    let mut pool = 0;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--listen" => listen.push(value.parse().context("--listen")?),
            "--upstream" => upstream = Some(value.parse().context("--upstream")?),
            "--delay-ms" => delay = Duration::from_millis(value.parse().context("--delay-ms")?),
            "--pool" => pool = value.parse().context("--pool")?,
            _ => bail!("unknown option {flag}"),
        }
    }
    if listen.is_empty() {
        bail!("--listen IP:PORT is required");
    }
    Ok(Args {
        listen,
        upstream: upstream.context("--upstream IP:PORT is required")?,
        delay,
        pool,
    })
}

/// Reads chunks from `from` and hands them, stamped, to the writer; `None` is end of stream.
async fn read_side(
    mut from: OwnedReadHalf,
    tx: mpsc::UnboundedSender<(Instant, Option<Vec<u8>>)>,
    delay: Duration,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => {
                let _ = tx.send((Instant::now() + delay, None));
                return;
            }
            Ok(n) => {
                if tx
                    .send((Instant::now() + delay, Some(buf[..n].to_vec())))
                    .is_err()
                {
                    return;
                }
            }
        }
    }
}

/// Writes each chunk to `to` at its due time, in order.
async fn write_side(mut to: OwnedWriteHalf, mut rx: mpsc::UnboundedReceiver<(Instant, Option<Vec<u8>>)>) {
    while let Some((due, chunk)) = rx.recv().await {
        tokio::time::sleep_until(due).await;
        match chunk {
            Some(bytes) => {
                if to.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            None => {
                let _ = to.shutdown().await;
                return;
            }
        }
    }
}

/// One direction: `from` -> delay -> `to`.
async fn pipe(from: OwnedReadHalf, to: OwnedWriteHalf, delay: Duration) {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::join!(read_side(from, tx, delay), write_side(to, rx));
}

/// Where upstream connections come from: a fresh connect per client, or the pre-connected pool.
#[derive(Clone)]
enum Upstream {
    Connect(SocketAddr),
    Pool(std::sync::Arc<Mutex<mpsc::Receiver<TcpStream>>>),
}

impl Upstream {
    async fn get(&self) -> Option<TcpStream> {
        match self {
            Upstream::Connect(addr) => TcpStream::connect(addr).await.ok(),
            Upstream::Pool(rx) => rx.lock().await.recv().await,
        }
    }
}

/// Fills the pool: one connect at a time, 10 ms apart, `size` connections waiting (plus the one being
/// handed over).
fn start_pool(upstream: SocketAddr, size: usize) -> Upstream {
    let (tx, rx) = mpsc::channel(size);
    tokio::spawn(async move {
        loop {
            match TcpStream::connect(upstream).await {
                Ok(s) => {
                    if tx.send(s).await.is_err() {
                        return;
                    }
                    // Give the server time to accept() (xrdp forks per connection) before the next SYN, or
                    // the pool itself overflows the backlog and waits for retransmissions.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
    Upstream::Pool(std::sync::Arc::new(Mutex::new(rx)))
}

async fn serve(client: TcpStream, upstream: Upstream, delay: Duration) {
    let Some(server) = upstream.get().await else {
        return; // dropping the client closes it
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    tokio::join!(pipe(cr, sw, delay), pipe(sr, cw, delay));
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let mut listeners = Vec::new();
        for a in &args.listen {
            listeners.push(TcpListener::bind(a).await.with_context(|| format!("bind {a}"))?);
        }
        let local = listeners[0].local_addr()?;
        let upstream = if args.pool > 0 {
            start_pool(args.upstream, args.pool)
        } else {
            Upstream::Connect(args.upstream)
        };
        let delay = args.delay;
        let last = listeners.pop().context("no listener")?;
        for l in listeners {
            let upstream = upstream.clone();
            tokio::spawn(async move {
                loop {
                    if let Ok((client, _)) = l.accept().await {
                        tokio::spawn(serve(client, upstream.clone(), delay));
                    }
                }
            });
        }
        let mut out = std::io::stdout();
        writeln!(out, "listening {local}")?;
        out.flush()?;
        loop {
            let (client, _) = last.accept().await?;
            tokio::spawn(serve(client, upstream.clone(), delay));
        }
    })
}

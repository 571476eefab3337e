//! A DNS server that never answers: it reads every UDP datagram and every TCP byte sent to its port and
//! throws them away (TCP connections are accepted and held open). Pointing `rdpl --dns-server` at it is "the
//! DNS server is down or filtered"; a port where nothing listens would answer ICMP port unreachable instead,
//! which fails fast and is a different case.
//!
//! Usage: `dns-blackhole [IP]` (default 127.0.0.1). Binds UDP and TCP on one free port of that address and
//! prints `listening IP:PORT` on stdout, then runs until killed.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use anyhow::{Context, bail};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, UdpSocket};

async fn bind(ip: IpAddr) -> anyhow::Result<(UdpSocket, TcpListener)> {
    for _ in 0..20 {
        let udp = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
        let addr = udp.local_addr()?;
        if let Ok(tcp) = TcpListener::bind(addr).await {
            return Ok((udp, tcp));
        }
    }
    bail!("no port of {ip} was free for both UDP and TCP")
}

fn main() -> anyhow::Result<()> {
    let ip: IpAddr = match std::env::args().nth(1) {
        Some(s) => s.parse().with_context(|| format!("not an IP address: {s}"))?,
        None => IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let (udp, tcp) = bind(ip).await?;
        let mut out = std::io::stdout();
        writeln!(out, "listening {}", udp.local_addr()?)?;
        out.flush()?;
        tokio::spawn(async move {
            while let Ok((mut s, _)) = tcp.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    while matches!(s.read(&mut buf).await, Ok(n) if n > 0) {}
                });
            }
        });
        let mut buf = [0u8; 4096];
        loop {
            udp.recv_from(&mut buf).await?;
        }
    })
}

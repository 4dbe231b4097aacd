//! `syslog+udp://ADDR` and `syslog+tcp://ADDR`: syslog messages (RFC 5424 and 3164, see
//! [`crate::syslog`]) as events.
//!
//! UDP: one message per datagram. TCP: octet-counted frames (`LEN SP MSG`, RFC 6587) or
//! one message per line, recognised per frame. A frame that is not a syslog message is
//! counted and skipped. UDP has no backpressure: datagrams that arrive while the queue is
//! full wait in the socket's buffer, and the kernel drops them when that is full too.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

use super::{Context, send};
use crate::batch::Batch;

/// The largest frame read, in bytes (RFC 5425 asks receivers for at least 8 KiB).
const MAX_FRAME: usize = 1024 * 1024;

fn add(batch: &mut Batch, number: u64, frame: &[u8]) {
    match crate::syslog::event_of(frame) {
        Ok(event) => batch.push(number, event.as_bytes(), false),
        Err(e) => batch.push_bad(number, e.to_string()),
    }
}

pub(super) fn start_udp(
    addr: SocketAddr,
    context: Context,
    runtime: &tokio::runtime::Handle,
) -> Result<(), String> {
    let socket = runtime
        .block_on(UdpSocket::bind(addr))
        .map_err(|e| format!("cannot listen: {e}"))?;
    let origin: Arc<str> = Arc::from(format!("syslog+udp://{addr}"));
    runtime.spawn(async move {
        let mut stop = context.stop.clone();
        let mut buffer = vec![0u8; 65_536];
        let mut number = 0;
        loop {
            let n = tokio::select! {
                r = socket.recv(&mut buffer) => match r {
                    Ok(n) => n,
                    Err(_) => continue,
                },
                _ = stop.wait_for(|s| *s) => return,
            };
            let mut batch = Batch::new(context.index, &origin);
            number += 1;
            add(&mut batch, number, &buffer[..n]);
            // What else already waits in the socket goes in the same batch.
            while batch.records.len() < 1024 {
                match socket.try_recv(&mut buffer) {
                    Ok(n) => {
                        number += 1;
                        add(&mut batch, number, &buffer[..n]);
                    }
                    Err(_) => break,
                }
            }
            if !send(&context, batch).await {
                return;
            }
        }
    });
    Ok(())
}

pub(super) fn start_tcp(
    addr: SocketAddr,
    context: Context,
    runtime: &tokio::runtime::Handle,
) -> Result<(), String> {
    let listener = runtime
        .block_on(TcpListener::bind(addr))
        .map_err(|e| format!("cannot listen: {e}"))?;
    let origin: Arc<str> = Arc::from(format!("syslog+tcp://{addr}"));
    runtime.spawn(async move {
        let mut stop = context.stop.clone();
        loop {
            let stream = tokio::select! {
                r = listener.accept() => match r {
                    Ok((s, _)) => s,
                    Err(_) => continue,
                },
                _ = stop.wait_for(|s| *s) => return,
            };
            tokio::spawn(connection(stream, context.clone(), Arc::clone(&origin)));
        }
    });
    Ok(())
}

/// Reads one connection's frames, sending what each read gave as one batch.
async fn connection(stream: TcpStream, context: Context, origin: Arc<str>) {
    let mut reader = BufReader::with_capacity(256 * 1024, stream);
    let mut stop = context.stop.clone();
    let mut number = 0;
    let mut frame = Vec::new();
    loop {
        let mut batch = Batch::new(context.index, &origin);
        loop {
            frame.clear();
            let read = tokio::select! {
                r = next_frame(&mut reader, &mut frame) => r,
                _ = stop.wait_for(|s| *s) => return,
            };
            match read {
                Ok(true) => {
                    if !frame.trim_ascii().is_empty() {
                        number += 1;
                        add(&mut batch, number, &frame);
                    }
                }
                Ok(false) => {
                    if !batch.is_empty() {
                        send(&context, batch).await;
                    }
                    return;
                }
                Err(e) => {
                    number += 1;
                    batch.push_bad(number, e);
                    if !batch.is_empty() {
                        send(&context, batch).await;
                    }
                    return;
                }
            }
            if reader.buffer().is_empty() || batch.records.len() >= 1024 {
                break;
            }
        }
        if !batch.is_empty() && !send(&context, batch).await {
            return;
        }
    }
}

/// Reads one frame into `frame`: octet-counted when it starts with a digit, else up to
/// the end of the line. `false` at the end of the stream.
async fn next_frame(
    reader: &mut BufReader<TcpStream>,
    frame: &mut Vec<u8>,
) -> Result<bool, String> {
    let head = reader.fill_buf().await.map_err(|e| e.to_string())?;
    let Some(&first) = head.first() else {
        return Ok(false);
    };
    if first.is_ascii_digit() {
        let mut len = Vec::new();
        reader
            .read_until(b' ', &mut len)
            .await
            .map_err(|e| e.to_string())?;
        let digits = len.strip_suffix(b" ").unwrap_or(&len);
        let n: usize = std::str::from_utf8(digits)
            .ok()
            .and_then(|d| d.parse().ok())
            .filter(|&n| n <= MAX_FRAME)
            .ok_or_else(|| {
                "not an octet-counted frame: bad length, connection closed".to_string()
            })?;
        frame.resize(n, 0);
        reader
            .read_exact(frame)
            .await
            .map_err(|e| format!("frame cut short: {e}"))?;
        return Ok(true);
    }
    let n = reader
        .read_until(b'\n', frame)
        .await
        .map_err(|e| e.to_string())?;
    Ok(n > 0)
}

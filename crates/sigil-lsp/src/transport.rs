//! The base protocol: `Content-Length` framed JSON-RPC messages on a byte stream.
//!
//! `lsp-server`'s own reader stops the server at the first malformed message. Editors and
//! plugins do send them (a body that is not UTF-8, a wrong length, JSON that is no
//! message), and one bad message must not end a session: here each is reported and the
//! next one read.

use std::io::{self, BufRead, Read, Write};

use lsp_server::Message;

/// Bodies larger than this are skipped, not held in memory (a 50 MB document is fine).
pub const MAX_BODY: usize = 512 * 1024 * 1024;

/// What one read gives.
#[derive(Debug)]
pub enum Incoming {
    /// A message. `lossy` when its body was not UTF-8 and was read with invalid bytes
    /// replaced by U+FFFD.
    Message {
        /// The message.
        message: Message,
        /// Whether invalid UTF-8 was replaced.
        lossy: bool,
    },
    /// A frame that holds no message, and why.
    Invalid(String),
    /// The end of the stream.
    End,
}

/// Reads the next frame.
pub fn read(r: &mut impl BufRead) -> io::Result<Incoming> {
    let mut length: Option<usize> = None;
    let mut bad_header = None;
    let mut line = Vec::new();
    let mut any = false;
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line)? == 0 {
            return Ok(Incoming::End);
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if any {
                break;
            }
            // Blank lines between frames are tolerated.
            continue;
        }
        any = true;
        match text.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                match value.trim().parse::<usize>() {
                    Ok(n) => length = Some(n),
                    Err(_) => bad_header = Some(format!("bad Content-Length `{}`", value.trim())),
                }
            }
            Some(_) => {}
            None => bad_header = Some(format!("bad header line `{text}`")),
        }
    }
    let Some(length) = length else {
        return Ok(Incoming::Invalid(
            bad_header.unwrap_or_else(|| "a frame without Content-Length".into()),
        ));
    };
    if length > MAX_BODY {
        io::copy(&mut r.take(length as u64), &mut io::sink())?;
        return Ok(Incoming::Invalid(format!(
            "a message of {length} bytes, more than the {MAX_BODY} this server reads"
        )));
    }
    let mut body = vec![0; length];
    r.read_exact(&mut body)?;
    let (text, lossy) = match String::from_utf8(body) {
        Ok(t) => (t, false),
        Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
    };
    match serde_json::from_str::<Message>(&text) {
        Ok(message) => Ok(Incoming::Message { message, lossy }),
        Err(e) => Ok(Incoming::Invalid(format!("not a JSON-RPC message: {e}"))),
    }
}

/// Writes one message.
pub fn write(w: &mut impl Write, message: &Message) -> io::Result<()> {
    message.write(w)
}

/// Writes the protocol's answer to a body that is no message: a parse error without id.
pub fn write_parse_error(w: &mut impl Write, why: &str) -> io::Result<()> {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {"code": -32700, "message": why},
    })
    .to_string();
    write!(w, "Content-Length: {}\r\n\r\n{body}", body.len())?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn bad_frames_are_reported_and_reading_goes_on() {
        let mut input = Vec::new();
        input.extend(frame(
            b"{\"jsonrpc\":\"2.0\",\"method\":\"initialized\",\"params\":{}}",
        ));
        input.extend(frame(b"{not json"));
        input.extend(frame(
            b"{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":{\"t\":\"caf\xe9\"}}",
        ));
        input.extend(b"Content-Length: nine\r\n\r\n");
        input.extend(frame(
            b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"shutdown\"}",
        ));
        let mut r = io::Cursor::new(input);
        assert!(matches!(
            read(&mut r).unwrap(),
            Incoming::Message { lossy: false, .. }
        ));
        assert!(matches!(read(&mut r).unwrap(), Incoming::Invalid(_)));
        match read(&mut r).unwrap() {
            Incoming::Message {
                message: Message::Notification(n),
                lossy: true,
            } => assert_eq!(n.params["t"], "caf\u{FFFD}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(read(&mut r).unwrap(), Incoming::Invalid(_)));
        assert!(matches!(
            read(&mut r).unwrap(),
            Incoming::Message {
                message: Message::Request(_),
                ..
            }
        ));
        assert!(matches!(read(&mut r).unwrap(), Incoming::End));
    }
}

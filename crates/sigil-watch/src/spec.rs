//! Where events come from and where detections go, as written on the command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::WatchError;

/// An input, parsed from its spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputSpec {
    /// `-`: JSON lines on standard input.
    Stdin,
    /// `file:PATH`: a file followed as it grows, across rotation (as `tail -F`).
    File(PathBuf),
    /// `http://ADDR/PATH`: NDJSON in the bodies of POST requests to `PATH`.
    Http {
        /// Where to listen.
        addr: SocketAddr,
        /// The request path events are posted to.
        path: String,
    },
    /// `syslog+udp://ADDR`: one syslog message per datagram.
    SyslogUdp(SocketAddr),
    /// `syslog+tcp://ADDR`: syslog messages over TCP, octet-counted or one per line.
    SyslogTcp(SocketAddr),
    /// `nats://HOST:PORT/SUBJECT?stream=S&durable=D`: a JetStream durable consumer.
    Nats(NatsSpec),
}

/// An output, parsed from its spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputSpec {
    /// `-` or `stdout`: JSON lines on standard output.
    Stdout,
    /// `file:PATH`: JSON lines appended to a file, flushed per batch.
    File(PathBuf),
    /// `http://…` or `https://…`: each batch POSTed as NDJSON, with retries and backoff.
    Webhook(String),
    /// `nats://HOST:PORT/SUBJECT`: each detection published to JetStream.
    Nats(NatsSpec),
}

/// A NATS server, subject, and for inputs the stream and durable consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsSpec {
    /// `HOST:PORT` of the server.
    pub server: String,
    /// The subject (wildcards allowed for inputs).
    pub subject: String,
    /// The stream (`stream=`); for inputs, created over the subject when missing.
    pub stream: Option<String>,
    /// The durable consumer's name (`durable=`); watchers sharing it share the events.
    pub durable: Option<String>,
    /// How long a delivered message may stay unacknowledged before JetStream delivers it
    /// again (`ack_wait=SECONDS`, when the consumer is created; default 30 s).
    pub ack_wait: Option<std::time::Duration>,
}

const INPUT_FORMS: &str = "`-`, `file:PATH`, `http://127.0.0.1:PORT/PATH`, `syslog+udp://ADDR`, \
     `syslog+tcp://ADDR`, `nats://HOST:PORT/SUBJECT?stream=S&durable=D`";
const OUTPUT_FORMS: &str =
    "`-` (stdout), `file:PATH`, `http(s)://HOST/PATH` (webhook), `nats://HOST:PORT/SUBJECT`";

fn bad(spec: &str, problem: impl std::fmt::Display) -> WatchError {
    WatchError::Spec(format!("`{spec}`: {problem}"))
}

fn scheme_of(spec: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = spec.split_once("://")?;
    Some((scheme, rest))
}

fn socket(spec: &str, text: &str) -> Result<SocketAddr, WatchError> {
    let text = text.trim_end_matches('/');
    text.parse().map_err(|_| {
        bad(
            spec,
            format!("`{text}` is not an address (IP:PORT, e.g. 127.0.0.1:5514)"),
        )
    })
}

fn nats(spec: &str, rest: &str) -> Result<NatsSpec, WatchError> {
    let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
    let Some((server, subject)) = location.split_once('/') else {
        return Err(bad(spec, "no subject: write nats://HOST:PORT/SUBJECT"));
    };
    if server.is_empty() || subject.is_empty() {
        return Err(bad(spec, "write nats://HOST:PORT/SUBJECT"));
    }
    let server = if server.contains(':') {
        server.to_string()
    } else {
        format!("{server}:4222")
    };
    let mut out = NatsSpec {
        server,
        subject: subject.to_string(),
        stream: None,
        durable: None,
        ack_wait: None,
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("stream", v)) if !v.is_empty() => out.stream = Some(v.to_string()),
            Some(("durable", v)) if !v.is_empty() => out.durable = Some(v.to_string()),
            Some(("ack_wait", v)) if v.parse::<f64>().is_ok_and(|s| s > 0.0) => {
                out.ack_wait = v
                    .parse::<f64>()
                    .ok()
                    .map(std::time::Duration::from_secs_f64);
            }
            _ => {
                return Err(bad(
                    spec,
                    format!(
                        "unknown parameter `{pair}` (stream=NAME, durable=NAME, ack_wait=SECONDS)"
                    ),
                ));
            }
        }
    }
    Ok(out)
}

impl InputSpec {
    /// Parses an input spec; the error names the spec and the forms understood.
    pub fn parse(spec: &str) -> Result<Self, WatchError> {
        if spec == "-" {
            return Ok(Self::Stdin);
        }
        if let Some(path) = spec.strip_prefix("file:") {
            if path.is_empty() {
                return Err(bad(spec, "no path after `file:`"));
            }
            return Ok(Self::File(PathBuf::from(path)));
        }
        let Some((scheme, rest)) = scheme_of(spec) else {
            return Err(bad(spec, format!("not an input; inputs are {INPUT_FORMS}")));
        };
        match scheme {
            "http" => {
                let (addr, path) = rest.split_once('/').unwrap_or((rest, ""));
                Ok(Self::Http {
                    addr: socket(spec, addr)?,
                    path: format!("/{path}"),
                })
            }
            "syslog+udp" => Ok(Self::SyslogUdp(socket(spec, rest)?)),
            "syslog+tcp" => Ok(Self::SyslogTcp(socket(spec, rest)?)),
            "nats" => {
                let n = nats(spec, rest)?;
                if n.stream.is_none() || n.durable.is_none() {
                    return Err(bad(spec, "a NATS input needs ?stream=NAME&durable=NAME"));
                }
                Ok(Self::Nats(n))
            }
            other => Err(bad(
                spec,
                format!("unknown input scheme `{other}`; inputs are {INPUT_FORMS}"),
            )),
        }
    }
}

impl OutputSpec {
    /// Parses an output spec; the error names the spec and the forms understood.
    pub fn parse(spec: &str) -> Result<Self, WatchError> {
        if spec == "-" || spec == "stdout" {
            return Ok(Self::Stdout);
        }
        if let Some(path) = spec.strip_prefix("file:") {
            if path.is_empty() {
                return Err(bad(spec, "no path after `file:`"));
            }
            return Ok(Self::File(PathBuf::from(path)));
        }
        match scheme_of(spec) {
            Some(("http" | "https", rest)) if !rest.is_empty() => {
                Ok(Self::Webhook(spec.to_string()))
            }
            Some(("nats", rest)) => Ok(Self::Nats(nats(spec, rest)?)),
            Some((other, _)) => Err(bad(
                spec,
                format!("unknown output scheme `{other}`; outputs are {OUTPUT_FORMS}"),
            )),
            None => Err(bad(
                spec,
                format!("not an output; outputs are {OUTPUT_FORMS}"),
            )),
        }
    }
}

impl std::fmt::Display for InputSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Stdin => write!(f, "-"),
            Self::File(p) => write!(f, "{}", p.display()),
            Self::Http { addr, path } => write!(f, "http://{addr}{path}"),
            Self::SyslogUdp(a) => write!(f, "syslog+udp://{a}"),
            Self::SyslogTcp(a) => write!(f, "syslog+tcp://{a}"),
            Self::Nats(n) => write!(f, "nats://{}/{}", n.server, n.subject),
        }
    }
}

impl std::fmt::Display for OutputSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Stdout => write!(f, "-"),
            Self::File(p) => write!(f, "file:{}", p.display()),
            Self::Webhook(url) => write!(f, "{url}"),
            Self::Nats(n) => write!(f, "nats://{}/{}", n.server, n.subject),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs() {
        assert_eq!(InputSpec::parse("-").ok(), Some(InputSpec::Stdin));
        assert_eq!(
            InputSpec::parse("file:/var/log/x.jsonl").ok(),
            Some(InputSpec::File("/var/log/x.jsonl".into()))
        );
        assert_eq!(
            InputSpec::parse("http://127.0.0.1:8080/events").ok(),
            Some(InputSpec::Http {
                addr: "127.0.0.1:8080".parse().unwrap(),
                path: "/events".into()
            })
        );
        assert_eq!(
            InputSpec::parse("syslog+tcp://0.0.0.0:5514").ok(),
            Some(InputSpec::SyslogTcp("0.0.0.0:5514".parse().unwrap()))
        );
        let Ok(InputSpec::Nats(n)) =
            InputSpec::parse("nats://localhost/events.>?stream=EV&durable=w")
        else {
            panic!("nats spec")
        };
        assert_eq!(n.server, "localhost:4222");
        assert_eq!(n.subject, "events.>");
        assert_eq!(n.stream.as_deref(), Some("EV"));
        assert_eq!(n.durable.as_deref(), Some("w"));
    }

    #[test]
    fn bad_inputs_say_what_is_understood() {
        let e = InputSpec::parse("kafka://broker:9092/t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown input scheme `kafka`"), "{e}");
        assert!(e.contains("syslog+udp://"), "{e}");
        let e = InputSpec::parse("events.jsonl").unwrap_err().to_string();
        assert!(e.contains("not an input"), "{e}");
        let e = InputSpec::parse("nats://h:4222/s").unwrap_err().to_string();
        assert!(e.contains("durable"), "{e}");
        let e = InputSpec::parse("syslog+udp://nowhere")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not an address"), "{e}");
    }

    #[test]
    fn outputs() {
        assert_eq!(OutputSpec::parse("-").ok(), Some(OutputSpec::Stdout));
        assert_eq!(
            OutputSpec::parse("file:out.jsonl").ok(),
            Some(OutputSpec::File("out.jsonl".into()))
        );
        assert_eq!(
            OutputSpec::parse("https://hooks.example/x").ok(),
            Some(OutputSpec::Webhook("https://hooks.example/x".into()))
        );
        assert!(OutputSpec::parse("smtp://x").is_err());
    }
}

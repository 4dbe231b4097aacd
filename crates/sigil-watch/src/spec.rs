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
    /// `nats://[USER:PASS@|TOKEN@]HOST:PORT/SUBJECT?stream=S&durable=D` (or `tls://…`): a
    /// JetStream durable consumer.
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
    /// `nats://HOST:PORT/SUBJECT` (or `tls://…`, with the same credentials as inputs): each
    /// detection published to JetStream.
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
    /// How the client authenticates.
    pub auth: NatsAuth,
    /// Whether the connection must be TLS (`tls://`, or a `ca=` given).
    pub tls: bool,
    /// A CA certificate (PEM) to trust besides the system's (`ca=FILE`), for a server
    /// whose certificate a private CA signed.
    pub ca: Option<PathBuf>,
}

/// How a NATS client authenticates.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum NatsAuth {
    /// No credentials.
    #[default]
    None,
    /// `USER:PASS@` in the URL.
    UserPassword {
        /// The user.
        user: String,
        /// The password.
        password: String,
    },
    /// `TOKEN@` in the URL, or `token=TOKEN`.
    Token(String),
    /// `creds=FILE`: a credentials file (user JWT and NKey seed), as `nsc` writes it.
    Creds(PathBuf),
}

impl std::fmt::Debug for NatsAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::None => write!(f, "None"),
            Self::UserPassword { user, .. } => write!(f, "UserPassword({user}:***)"),
            Self::Token(_) => write!(f, "Token(***)"),
            Self::Creds(p) => write!(f, "Creds({})", p.display()),
        }
    }
}

const INPUT_FORMS: &str = "`-`, `file:PATH`, `http://127.0.0.1:PORT/PATH`, `syslog+udp://ADDR`, \
     `syslog+tcp://ADDR`, `nats://HOST:PORT/SUBJECT?stream=S&durable=D` (or `tls://`)";
const OUTPUT_FORMS: &str = "`-` (stdout), `file:PATH`, `http(s)://HOST/PATH` (webhook), \
     `nats://HOST:PORT/SUBJECT` (or `tls://`)";

fn bad(spec: &str, problem: impl std::fmt::Display) -> WatchError {
    WatchError::Spec(format!("`{}`: {problem}", redact(spec)))
}

/// The spec with the password (or token) in its URL replaced by `***`, for messages.
pub(crate) fn redact(spec: &str) -> String {
    let Some((scheme, rest)) = spec.split_once("://") else {
        return spec.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return spec.to_string();
    };
    let secret = match rest[..at].split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        None => "***".to_string(),
    };
    format!("{scheme}://{secret}{}", &rest[at..])
}

/// `%XX` escapes decoded (a user or password in a URL).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(v) = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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

fn nats(spec: &str, rest: &str, tls: bool) -> Result<NatsSpec, WatchError> {
    let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
    let Some((server, subject)) = location.split_once('/') else {
        return Err(bad(spec, "no subject: write nats://HOST:PORT/SUBJECT"));
    };
    let (userinfo, server) = match server.rsplit_once('@') {
        Some((u, s)) => (Some(u), s),
        None => (None, server),
    };
    if server.is_empty() || subject.is_empty() {
        return Err(bad(spec, "write nats://HOST:PORT/SUBJECT"));
    }
    let auth = match userinfo {
        None => NatsAuth::None,
        Some(u) => match u.split_once(':') {
            Some((user, password)) => NatsAuth::UserPassword {
                user: percent_decode(user),
                password: percent_decode(password),
            },
            None if !u.is_empty() => NatsAuth::Token(percent_decode(u)),
            None => return Err(bad(spec, "nothing before `@`: write USER:PASS@ or TOKEN@")),
        },
    };
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
        auth,
        tls,
        ca: None,
    };
    let mut credentials = usize::from(out.auth != NatsAuth::None);
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
            Some(("creds", v)) if !v.is_empty() => {
                out.auth = NatsAuth::Creds(PathBuf::from(percent_decode(v)));
                credentials += 1;
            }
            Some(("token", v)) if !v.is_empty() => {
                out.auth = NatsAuth::Token(percent_decode(v));
                credentials += 1;
            }
            Some(("ca", v)) if !v.is_empty() => {
                out.ca = Some(PathBuf::from(percent_decode(v)));
                out.tls = true;
            }
            _ => {
                let pair = if pair.starts_with("token=") {
                    "token=***"
                } else {
                    pair
                };
                return Err(bad(
                    spec,
                    format!(
                        "unknown parameter `{pair}` (stream=NAME, durable=NAME, \
                         ack_wait=SECONDS, creds=FILE, token=TOKEN, ca=FILE)"
                    ),
                ));
            }
        }
    }
    if credentials > 1 {
        return Err(bad(
            spec,
            "more than one way to authenticate: give one of USER:PASS@, TOKEN@, token=, creds=",
        ));
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
            "nats" | "tls" => {
                let n = nats(spec, rest, scheme == "tls")?;
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
            Some((scheme @ ("nats" | "tls"), rest)) => {
                Ok(Self::Nats(nats(spec, rest, scheme == "tls")?))
            }
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
            Self::Nats(n) => write!(f, "{n}"),
        }
    }
}

impl std::fmt::Display for NatsSpec {
    /// The server and subject, without credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls { "tls" } else { "nats" };
        write!(f, "{scheme}://{}/{}", self.server, self.subject)
    }
}

impl std::fmt::Display for OutputSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Stdout => write!(f, "-"),
            Self::File(p) => write!(f, "file:{}", p.display()),
            Self::Webhook(url) => write!(f, "{url}"),
            Self::Nats(n) => write!(f, "{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

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

    #[test]
    fn nats_credentials_and_tls() {
        let Ok(InputSpec::Nats(n)) =
            InputSpec::parse("nats://watch:p%40ss@10.0.0.5/ev.>?stream=EV&durable=w")
        else {
            panic!("nats spec")
        };
        assert_eq!(n.server, "10.0.0.5:4222");
        assert_eq!(
            n.auth,
            NatsAuth::UserPassword {
                user: "watch".into(),
                password: "p@ss".into()
            }
        );
        assert!(!n.tls);
        assert!(!format!("{n} {n:?}").contains("p@ss"));
        let Ok(OutputSpec::Nats(n)) = OutputSpec::parse("tls://s3cret@bus:4443/detections") else {
            panic!("nats spec")
        };
        assert_eq!(n.auth, NatsAuth::Token("s3cret".into()));
        assert!(n.tls);
        assert_eq!(n.to_string(), "tls://bus:4443/detections");
        let Ok(OutputSpec::Nats(n)) =
            OutputSpec::parse("nats://bus/detections?creds=/etc/w.creds&ca=/etc/ca.pem")
        else {
            panic!("nats spec")
        };
        assert_eq!(n.auth, NatsAuth::Creds("/etc/w.creds".into()));
        assert_eq!(n.ca.as_deref(), Some(Path::new("/etc/ca.pem")));
        assert!(n.tls, "a CA means TLS");
        let e = OutputSpec::parse("nats://u:hidden@bus/d?creds=/x.creds")
            .unwrap_err()
            .to_string();
        assert!(e.contains("more than one way"), "{e}");
        assert!(e.contains("u:***@bus") && !e.contains("hidden"), "{e}");
    }
}

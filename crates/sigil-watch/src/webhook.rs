//! The webhook output: each batch's detections POSTed as NDJSON to a URL, retried with
//! exponential backoff (100 ms doubling to 10 s) until the server accepts them (a 2xx
//! answer). While it fails the evaluator waits, so the queue fills and the inputs slow
//! down: nothing is dropped, and nothing is acknowledged upstream before it is accepted.
//!
//! `https://` goes through rustls (the `ring` provider), trusting the system's CA
//! certificates and, with `?ca=FILE` (a PEM file, taken off the URL before it is sent), a
//! private CA too. A certificate that is not trusted is not retried: it stops the watch
//! with a message naming the webhook (nothing is acknowledged, so nothing is lost).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use crate::metrics::Metrics;
use crate::output::Output;

/// Delays between attempts: 100 ms, doubling, at most 10 s.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            next: Duration::from_millis(100),
        }
    }
}

impl Backoff {
    /// The delay before the next attempt.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let now = self.next;
        self.next = (self.next * 2).min(Duration::from_secs(10));
        now
    }
}

/// A webhook at `http://HOST:PORT/PATH` or `https://HOST:PORT/PATH[?ca=FILE]`.
pub(crate) struct Webhook {
    url: String,
    authority: String,
    path: String,
    /// For `https://`: the TLS client and the name the certificate must carry.
    tls: Option<(TlsConnector, ServerName<'static>)>,
    body: Vec<u8>,
    runtime: tokio::runtime::Handle,
    metrics: Arc<Metrics>,
}

/// Why a POST failed: worth another attempt, or not.
enum Failure {
    /// The server is down, slow or answered an error: try again.
    Retry(String),
    /// The server's certificate is not trusted: trying again will not help.
    Fatal(String),
}

/// A TLS client trusting the system's CA certificates, and `ca` too.
fn tls_client(ca: Option<&Path>) -> Result<TlsConnector, String> {
    let mut roots = RootCertStore::empty();
    // A system without a certificate store still trusts `ca`.
    if let Ok(system) = rustls_native_certs::load_native_certs() {
        roots.add_parsable_certificates(system);
    }
    if let Some(ca) = ca {
        let pem = std::fs::read(ca).map_err(|e| format!("CA file {}: {e}", ca.display()))?;
        let mut found = 0;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| format!("CA file {}: {e}", ca.display()))?;
            roots
                .add(cert)
                .map_err(|e| format!("CA file {}: {e}", ca.display()))?;
            found += 1;
        }
        if found == 0 {
            return Err(format!(
                "CA file {}: no PEM certificate in it",
                ca.display()
            ));
        }
    }
    // The `ring` provider, as the NATS client uses (aws-lc-rs would add a C and CMake build);
    // rustls marks it deprecated only because it has no post-quantum key exchange.
    #[allow(deprecated)]
    let provider = tokio_rustls::rustls::crypto::ring::default_provider();
    let config = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// Splits `?ca=FILE` off a URL's query: the query left (if any) and the CA file.
fn take_ca(path: &str) -> (String, Option<PathBuf>) {
    let Some((path, query)) = path.split_once('?') else {
        return (path.to_string(), None);
    };
    let mut ca = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.strip_prefix("ca=") {
            Some(file) => {
                ca = Some(PathBuf::from(file));
                false
            }
            None => true,
        })
        .collect();
    if rest.is_empty() {
        (path.to_string(), ca)
    } else {
        (format!("{path}?{}", rest.join("&")), ca)
    }
}

impl Webhook {
    /// A webhook for `url`; the error says why the URL cannot be used.
    pub(crate) fn new(
        url: &str,
        runtime: tokio::runtime::Handle,
        metrics: Arc<Metrics>,
    ) -> Result<Self, String> {
        let (rest, secure) = if let Some(rest) = url.strip_prefix("http://") {
            (rest, false)
        } else if let Some(rest) = url.strip_prefix("https://") {
            (rest, true)
        } else {
            return Err("a webhook is http://HOST[:PORT]/PATH or https://…".to_string());
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.is_empty() {
            return Err("no host in the URL".to_string());
        }
        // HOST, HOST:PORT, [V6] or [V6]:PORT.
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => match v6.split_once(']') {
                Some((host, after)) => (host, after.strip_prefix(':')),
                None => return Err(format!("`{authority}` is not a host")),
            },
            None => match authority.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            },
        };
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| format!("`{p}` is not a port"))?,
            None if secure => 443,
            None => 80,
        };
        let authority = if authority.starts_with('[') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let (path, ca) = if secure {
            take_ca(path)
        } else {
            (path.to_string(), None)
        };
        let path = if path.starts_with('/') {
            path
        } else {
            format!("/{path}")
        };
        let tls = if secure {
            let name = ServerName::try_from(host.to_string())
                .map_err(|e| format!("`{host}` is not a host name: {e}"))?;
            Some((tls_client(ca.as_deref())?, name))
        } else {
            None
        };
        Ok(Self {
            url: url.to_string(),
            authority,
            path,
            tls,
            body: Vec::new(),
            runtime,
            metrics,
        })
    }

    async fn post(&self) -> Result<(), Failure> {
        let retry = |e: &dyn std::fmt::Display| Failure::Retry(e.to_string());
        let stream = tokio::time::timeout(
            Duration::from_secs(10),
            tokio::net::TcpStream::connect(&self.authority),
        )
        .await
        .map_err(|_| Failure::Retry("connection timed out".to_string()))?
        .map_err(|e| retry(&e))?;
        match &self.tls {
            None => self.send(TokioIo::new(stream)).await,
            Some((connector, name)) => {
                let stream = tokio::time::timeout(
                    Duration::from_secs(10),
                    connector.connect(name.clone(), stream),
                )
                .await
                .map_err(|_| Failure::Retry("TLS handshake timed out".to_string()))?
                .map_err(|e| {
                    let certificate = e
                        .get_ref()
                        .and_then(|inner| inner.downcast_ref::<tokio_rustls::rustls::Error>())
                        .is_some_and(|t| {
                            matches!(
                                t,
                                tokio_rustls::rustls::Error::InvalidCertificate(_)
                                    | tokio_rustls::rustls::Error::NoCertificatesPresented
                            )
                        });
                    if certificate {
                        Failure::Fatal(format!(
                            "the server's certificate is not trusted ({e}); `?ca=FILE` trusts \
                             a private CA"
                        ))
                    } else {
                        Failure::Retry(format!("TLS: {e}"))
                    }
                })?;
                self.send(TokioIo::new(stream)).await
            }
        }
    }

    async fn send<S>(&self, io: TokioIo<S>) -> Result<(), Failure>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let retry = |e: &dyn std::fmt::Display| Failure::Retry(e.to_string());
        let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| retry(&e))?;
        tokio::spawn(connection);
        let request = Request::post(&self.path)
            .header(hyper::header::HOST, &self.authority)
            .header(hyper::header::CONTENT_TYPE, "application/x-ndjson")
            .body(Full::new(Bytes::copy_from_slice(&self.body)))
            .map_err(|e| Failure::Fatal(e.to_string()))?;
        let response = tokio::time::timeout(Duration::from_secs(30), sender.send_request(request))
            .await
            .map_err(|_| Failure::Retry("no answer within 30 s".to_string()))?
            .map_err(|e| retry(&e))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(Failure::Retry(format!("answered {}", response.status())))
        }
    }
}

impl Output for Webhook {
    fn write(&mut self, line: &[u8]) -> std::io::Result<()> {
        self.body.extend_from_slice(line);
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let mut backoff = Backoff::default();
        while !self.body.is_empty() {
            match self.runtime.block_on(self.post()) {
                Ok(()) => self.body.clear(),
                Err(Failure::Fatal(e)) => return Err(std::io::Error::other(e)),
                Err(Failure::Retry(e)) => {
                    self.metrics.output_retries.fetch_add(1, Ordering::Relaxed);
                    let delay = backoff.next_delay();
                    eprintln!(
                        "sigil watch: {}: {e}; trying again in {} ms",
                        self.url,
                        delay.as_millis()
                    );
                    std::thread::sleep(delay);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_is_taken_off_the_query() {
        assert_eq!(take_ca("/hook"), ("/hook".to_string(), None));
        assert_eq!(
            take_ca("/hook?ca=/etc/ca.pem"),
            ("/hook".to_string(), Some(PathBuf::from("/etc/ca.pem")))
        );
        assert_eq!(
            take_ca("/hook?key=1&ca=ca.pem&x=2"),
            ("/hook?key=1&x=2".to_string(), Some(PathBuf::from("ca.pem")))
        );
    }
}

//! TLS with rustls: server configs for `bind ... ssl crt FILE|DIR [crt-list F] [alpn ...]
//! [ssl-min-ver ...]` (certificate chosen by SNI among several, HAProxy's combined PEM files)
//! and client configs for `server ... ssl verify none|required ca-file F sni STR`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::haproxy::ir;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("unable to load SSL certificate from PEM file '{path}': {msg}")]
    Load { path: String, msg: String },
    #[error("no certificate in '{0}'")]
    Empty(String),
    #[error("TLS configuration: {0}")]
    Config(String),
}

/// One certificate with its key, and the names it may be selected by.
struct CertEntry {
    key: Arc<CertifiedKey>,
    /// Explicit SNI filters from a crt-list line (lower case; `*.x` wildcards); empty = the
    /// certificate's own names.
    filters: Vec<String>,
}

/// Picks a certificate by SNI: the first whose filters (or subject names) match, else the
/// first loaded one (HAProxy's default certificate).
pub struct SniResolver {
    certs: Vec<CertEntry>,
}

impl fmt::Debug for SniResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SniResolver({} certs)", self.certs.len())
    }
}

fn wildcard_match(filter: &str, name: &str) -> bool {
    match filter.strip_prefix("*.") {
        Some(suffix) => name
            .split_once('.')
            .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(suffix)),
        None => filter.eq_ignore_ascii_case(name),
    }
}

impl SniResolver {
    fn select(&self, sni: Option<&str>) -> Option<Arc<CertifiedKey>> {
        if let Some(name) = sni {
            let sname = ServerName::try_from(name).ok();
            for c in &self.certs {
                let hit = if c.filters.is_empty() {
                    match (&sname, c.key.end_entity_cert()) {
                        (Some(n), Ok(der)) => webpki::EndEntityCert::try_from(der)
                            .is_ok_and(|ee| ee.verify_is_valid_for_subject_name(n).is_ok()),
                        _ => false,
                    }
                } else {
                    c.filters.iter().any(|f| wildcard_match(f, name))
                };
                if hit {
                    return Some(c.key.clone());
                }
            }
        }
        self.certs.first().map(|c| c.key.clone())
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.select(hello.server_name())
    }
}

/// Reads a combined PEM file (certificate chain + key); the key may also sit in `FILE.key`.
fn load_pem(path: &Path) -> Result<Arc<CertifiedKey>, TlsError> {
    let err = |msg: String| TlsError::Load {
        path: path.display().to_string(),
        msg,
    };
    let data = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let mut certs: Vec<CertificateDer<'static>> = Vec::new();
    let mut key: Option<PrivateKeyDer<'static>> = None;
    for item in rustls_pemfile::read_all(&mut &data[..]) {
        match item.map_err(|e| err(e.to_string()))? {
            rustls_pemfile::Item::X509Certificate(c) => certs.push(c),
            rustls_pemfile::Item::Pkcs1Key(k) if key.is_none() => key = Some(k.into()),
            rustls_pemfile::Item::Pkcs8Key(k) if key.is_none() => key = Some(k.into()),
            rustls_pemfile::Item::Sec1Key(k) if key.is_none() => key = Some(k.into()),
            _ => {}
        }
    }
    if certs.is_empty() {
        return Err(err("no certificate found".into()));
    }
    if key.is_none() {
        let mut kp = path.as_os_str().to_owned();
        kp.push(".key");
        if let Ok(kd) = std::fs::read(PathBuf::from(kp)) {
            key = rustls_pemfile::private_key(&mut &kd[..]).ok().flatten();
        }
    }
    let key = key.ok_or_else(|| err("no private key found".into()))?;
    let signer =
        rustls::crypto::ring::sign::any_supported_type(&key).map_err(|e| err(e.to_string()))?;
    Ok(Arc::new(CertifiedKey::new(certs, signer)))
}

/// Files of a `crt DIR`, as HAProxy loads them (sorted, skipping key/ocsp/issuer/sctl files).
fn dir_files(dir: &Path) -> Result<Vec<PathBuf>, TlsError> {
    let rd = std::fs::read_dir(dir).map_err(|e| TlsError::Load {
        path: dir.display().to_string(),
        msg: e.to_string(),
    })?;
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| {
            let n = p.to_string_lossy();
            ![".key", ".ocsp", ".issuer", ".sctl", ".dh"]
                .iter()
                .any(|s| n.ends_with(s))
        })
        .collect();
    v.sort();
    Ok(v)
}

fn load_crt_list(path: &Path, out: &mut Vec<CertEntry>) -> Result<(), TlsError> {
    let text = std::fs::read_to_string(path).map_err(|e| TlsError::Load {
        path: path.display().to_string(),
        msg: e.to_string(),
    })?;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // path [ssl options in brackets] [sni filters...]
        let (file, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim();
        let rest = match rest.strip_prefix('[') {
            Some(r) => r.split_once(']').map_or("", |(_, after)| after),
            None => rest,
        };
        let filters: Vec<String> = rest
            .split_whitespace()
            .filter(|f| !f.starts_with('!'))
            .map(|f| f.to_ascii_lowercase())
            .collect();
        out.push(CertEntry {
            key: load_pem(Path::new(file))?,
            filters,
        });
    }
    Ok(())
}

/// Builds the TLS acceptor config of one `bind ... ssl` line.
pub fn server_config(opts: &ir::BindOptions) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let mut certs = Vec::new();
    for crt in &opts.crt {
        let p = Path::new(crt);
        if p.is_dir() {
            for f in dir_files(p)? {
                certs.push(CertEntry {
                    key: load_pem(&f)?,
                    filters: Vec::new(),
                });
            }
        } else {
            certs.push(CertEntry {
                key: load_pem(p)?,
                filters: Vec::new(),
            });
        }
    }
    for l in &opts.crt_list {
        load_crt_list(Path::new(l), &mut certs)?;
    }
    if certs.is_empty() {
        return Err(TlsError::Empty(opts.crt.join(" ")));
    }
    let versions: &[&'static rustls::SupportedProtocolVersion] = match opts.ssl_min_ver.as_deref() {
        Some("TLSv1.3") => &[&rustls::version::TLS13],
        _ => &[&rustls::version::TLS12, &rustls::version::TLS13],
    };
    let versions: Vec<&'static rustls::SupportedProtocolVersion> = match opts.ssl_max_ver.as_deref()
    {
        Some("TLSv1.2") | Some("TLSv1.1") | Some("TLSv1.0") => versions
            .iter()
            .copied()
            .filter(|v| v.version == rustls::ProtocolVersion::TLSv1_2)
            .collect(),
        _ => versions.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(SniResolver { certs }));
    cfg.alpn_protocols = opts
        .alpn
        .iter()
        .flat_map(|a| a.split(','))
        .filter(|a| !a.is_empty())
        .map(|a| a.as_bytes().to_vec())
        .collect();
    Ok(Arc::new(cfg))
}

/// Accepts any server certificate (`verify none`).
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// TLS towards a server: the rustls config and the name to send/verify.
#[derive(Debug, Clone)]
pub struct ServerTls {
    pub config: Arc<rustls::ClientConfig>,
    pub sni: Option<ServerName<'static>>,
}

/// Builds the client config of a `server ... ssl` line (None when `ssl` is not set).
pub fn client_config(s: &ir::Server) -> Result<Option<ServerTls>, TlsError> {
    if !s.ssl {
        return Ok(None);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let verify_none = !matches!(s.verify, Some(ir::VerifyMode::Required));
    let mut cfg = if verify_none {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
            .with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore::empty();
        if let Some(ca) = &s.ca_file {
            let data = std::fs::read(ca).map_err(|e| TlsError::Load {
                path: ca.clone(),
                msg: e.to_string(),
            })?;
            for c in rustls_pemfile::certs(&mut &data[..]).flatten() {
                let _ = roots.add(c);
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    cfg.alpn_protocols = Vec::new();
    // `sni` is a sample expression in HAProxy; literal strings (`str(x)`) and plain names work.
    let sni_text = s.sni.as_deref().map(|t| {
        t.strip_prefix("str(")
            .and_then(|r| r.strip_suffix(')'))
            .unwrap_or(t)
            .to_string()
    });
    let name = sni_text
        .clone()
        .or_else(|| s.verifyhost.clone())
        .and_then(|n| ServerName::try_from(n).ok());
    if sni_text.is_none() {
        cfg.enable_sni = false;
    }
    Ok(Some(ServerTls {
        config: Arc::new(cfg),
        sni: name,
    }))
}

/// A server name for the handshake: the configured one, else the IP (SNI is not sent for IPs).
pub fn handshake_name(t: &ServerTls, ip: std::net::IpAddr) -> ServerName<'static> {
    t.sni
        .clone()
        .unwrap_or_else(|| ServerName::IpAddress(ip.into()))
}

impl super::stream::ClientStream for tokio_rustls::server::TlsStream<tokio::net::TcpStream> {}
impl super::stream::ClientStream for tokio::io::DuplexStream {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*.example.com", "a.example.com"));
        assert!(!wildcard_match("*.example.com", "a.b.example.com"));
        assert!(!wildcard_match("*.example.com", "example.com"));
        assert!(wildcard_match("Example.com", "example.COM"));
    }

    #[test]
    fn missing_file_is_an_error() {
        let o = ir::BindOptions {
            ssl: true,
            crt: vec!["/nonexistent/x.pem".into()],
            ..Default::default()
        };
        assert!(matches!(server_config(&o), Err(TlsError::Load { .. })));
    }
}

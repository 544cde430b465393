//! libpq's TLS parameters, with libpq's meaning, for a driver that knows
//! only `sslmode=disable|prefer|require`: `sslmode` (disable, allow, prefer,
//! require, verify-ca, verify-full), `sslrootcert` (a CA file, or `system`),
//! `sslcert` and `sslkey` (a client certificate). They are taken out of the
//! URL (or key=value string) before the driver parses the rest.
//!
//! As in libpq: `require` encrypts without checking the certificate unless a
//! root certificate is given, then it checks the chain like `verify-ca`;
//! `verify-ca` checks the chain, `verify-full` the chain and the host name.
//! Where libpq would read `~/.postgresql/root.crt`, the system trust store
//! is used when that file does not exist (internal databases are signed by
//! private CAs installed there).

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};
use rustls::{Error as TlsError, SignatureScheme};

use super::super::tls::{certificates_from, private_key_from, roots_from, system_roots_file};
use super::super::{StoreError, StoreResult};

/// `sslmode`, as libpq reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SslMode {
    /// No TLS.
    Disable,
    /// libpq tries plain first; here TLS is tried first (the driver has no
    /// plain-first mode), unverified, then plain.
    Allow,
    /// TLS if the server offers it, unverified; else plain (libpq's default).
    Prefer,
    /// TLS; the certificate is checked only if a root certificate is given.
    Require,
    /// TLS and a certificate signed by a trusted CA.
    VerifyCa,
    /// As `VerifyCa`, and for the host connected to.
    VerifyFull,
}

/// The TLS half of a connection string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TlsParams {
    pub mode: SslMode,
    /// `sslrootcert`: a file, `system`, or unset.
    pub root_cert: Option<String>,
    /// `sslcert`.
    pub cert: Option<PathBuf>,
    /// `sslkey`.
    pub key: Option<PathBuf>,
}

impl Default for TlsParams {
    fn default() -> Self {
        TlsParams {
            mode: SslMode::Prefer,
            root_cert: None,
            cert: None,
            key: None,
        }
    }
}

const TLS_KEYS: [&str; 4] = ["sslmode", "sslrootcert", "sslcert", "sslkey"];

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Why a connection string's TLS parameters are unusable.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TlsParamError {
    /// `sslmode` has a value libpq does not know.
    #[error("sslmode '{0}' is not one of disable, allow, prefer, require, verify-ca, verify-full")]
    SslMode(String),
    /// A key of a key=value string has no `=value`.
    #[error("'{0}' has no value")]
    NoValue(String),
    /// A quoted value of a key=value string is not closed.
    #[error("the value of '{0}' has no closing quote")]
    NoClosingQuote(String),
}

impl TlsParams {
    fn set(&mut self, key: &str, value: &str) -> Result<(), TlsParamError> {
        match key {
            "sslmode" => {
                self.mode = match value {
                    "disable" => SslMode::Disable,
                    "allow" => SslMode::Allow,
                    "prefer" => SslMode::Prefer,
                    "require" => SslMode::Require,
                    "verify-ca" => SslMode::VerifyCa,
                    "verify-full" => SslMode::VerifyFull,
                    other => return Err(TlsParamError::SslMode(other.to_string())),
                }
            }
            "sslrootcert" => self.root_cert = Some(value.to_string()),
            "sslcert" => self.cert = Some(PathBuf::from(value)),
            "sslkey" => self.key = Some(PathBuf::from(value)),
            _ => {}
        }
        Ok(())
    }

    /// Splits a URL or key=value string into what the driver parses and the
    /// TLS parameters.
    pub fn split(connection: &str) -> Result<(String, TlsParams), TlsParamError> {
        let mut params = TlsParams::default();
        let trimmed = connection.trim();
        if trimmed.starts_with("postgres://") || trimmed.starts_with("postgresql://") {
            let Some((base, query)) = trimmed.split_once('?') else {
                return Ok((trimmed.to_string(), params));
            };
            let mut kept = Vec::new();
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                if TLS_KEYS.contains(&key) {
                    params.set(key, &percent_decode(value))?;
                } else {
                    kept.push(pair);
                }
            }
            let rest = match kept.is_empty() {
                true => base.to_string(),
                false => format!("{base}?{}", kept.join("&")),
            };
            return Ok((rest, params));
        }
        // key=value form: values may be single-quoted (with \\' and \\\\ escapes).
        let mut kept = Vec::new();
        let mut chars = trimmed.chars().peekable();
        loop {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            let mut key = String::new();
            while let Some(&c) = chars.peek() {
                if c == '=' || c.is_whitespace() {
                    break;
                }
                key.push(c);
                chars.next();
            }
            if key.is_empty() {
                break;
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            if chars.next() != Some('=') {
                return Err(TlsParamError::NoValue(key.to_string()));
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            let mut raw = String::new();
            let mut value = String::new();
            if chars.peek() == Some(&'\'') {
                raw.push(chars.next().unwrap_or('\''));
                loop {
                    match chars.next() {
                        None => return Err(TlsParamError::NoClosingQuote(key.to_string())),
                        Some('\\') => {
                            let escaped = chars.next().unwrap_or('\\');
                            raw.push('\\');
                            raw.push(escaped);
                            value.push(escaped);
                        }
                        Some('\'') => {
                            raw.push('\'');
                            break;
                        }
                        Some(c) => {
                            raw.push(c);
                            value.push(c);
                        }
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    raw.push(c);
                    value.push(c);
                    chars.next();
                }
            }
            if TLS_KEYS.contains(&key.as_str()) {
                params.set(&key, &value)?;
            } else {
                kept.push(format!("{key}={raw}"));
            }
        }
        Ok((kept.join(" "), params))
    }

    /// Whether TLS is tried at all.
    pub fn wants_tls(&self) -> bool {
        self.mode != SslMode::Disable
    }

    /// Whether the connection must be TLS (no fallback to plain).
    pub fn requires_tls(&self) -> bool {
        matches!(
            self.mode,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull
        )
    }

    /// The trust anchors for a checked certificate: `sslrootcert`'s file,
    /// or (`system`, or unset) `~/.postgresql/root.crt` if it exists, else
    /// the system trust store.
    fn roots(&self) -> StoreResult<RootCertStore> {
        match self.root_cert.as_deref() {
            Some("system") | None => {
                let home_root = std::env::var_os("HOME")
                    .map(|h| PathBuf::from(h).join(".postgresql/root.crt"))
                    .filter(|p| p.is_file() && self.root_cert.is_none());
                match home_root.or_else(system_roots_file) {
                    Some(file) => roots_from(&file, "the trusted CA file"),
                    None => {
                        let mut roots = RootCertStore::empty();
                        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
                        Ok(roots)
                    }
                }
            }
            Some(file) => roots_from(std::path::Path::new(file), "sslrootcert"),
        }
    }

    /// The rustls client configuration these parameters ask for.
    pub fn client_config(&self) -> StoreResult<ClientConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| StoreError::Config(format!("TLS setup failed: {e}")))?;
        let checked = match self.mode {
            SslMode::VerifyCa | SslMode::VerifyFull => true,
            SslMode::Require => self.root_cert.is_some(),
            _ => false,
        };
        let verifier: Arc<dyn ServerCertVerifier> = if checked {
            let chain = rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(self.roots()?),
                provider.clone(),
            )
            .build()
            .map_err(|e| StoreError::Config(format!("TLS setup failed: {e}")))?;
            Arc::new(Checked {
                chain,
                host: self.mode == SslMode::VerifyFull,
            })
        } else {
            Arc::new(Unchecked { provider })
        };
        let builder = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => builder
                .with_client_auth_cert(
                    certificates_from(cert, "sslcert")?,
                    private_key_from(key, "sslkey")?,
                )
                .map_err(|e| {
                    StoreError::Config(format!("sslcert and sslkey do not go together: {e}"))
                }),
            (None, None) => Ok(builder.with_no_client_auth()),
            _ => Err(StoreError::Config(
                "sslcert and sslkey are given together or not at all".into(),
            )),
        }
    }
}

/// `verify-ca` and `verify-full`: the chain must lead to a trusted CA; the
/// host name is checked only for `verify-full`.
#[derive(Debug)]
struct Checked {
    chain: Arc<rustls::client::WebPkiServerVerifier>,
    host: bool,
}

impl ServerCertVerifier for Checked {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        match self.chain.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(TlsError::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.host => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.chain.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.chain.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.chain.supported_verify_schemes()
    }
}

/// `prefer`, `allow` and `require` without a root certificate: encrypted,
/// the certificate not checked (libpq's meaning), the handshake still sound.
#[derive(Debug)]
struct Unchecked {
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::{SslMode, TlsParams};

    #[test]
    fn libpq_tls_parameters_are_taken_out_of_urls_and_key_value_strings() {
        let (rest, tls) = TlsParams::split(
            "postgres://u:p@h:5/db?sslmode=verify-full&application_name=x&sslrootcert=%2Ftmp%2Fca.crt",
        )
        .unwrap();
        assert_eq!(rest, "postgres://u:p@h:5/db?application_name=x");
        assert_eq!(tls.mode, SslMode::VerifyFull);
        assert_eq!(tls.root_cert.as_deref(), Some("/tmp/ca.crt"));
        let (rest, tls) =
            TlsParams::split("host=h user=u sslmode=verify-ca sslcert='/a b/c.crt' sslkey=/k")
                .unwrap();
        assert_eq!(rest, "host=h user=u");
        assert_eq!(tls.mode, SslMode::VerifyCa);
        assert_eq!(tls.cert.unwrap().to_str(), Some("/a b/c.crt"));
        let (rest, tls) = TlsParams::split("postgres://h/db").unwrap();
        assert_eq!(
            (rest.as_str(), tls.mode),
            ("postgres://h/db", SslMode::Prefer)
        );
        assert!(TlsParams::split("postgres://h/db?sslmode=sideways").is_err());
    }
}

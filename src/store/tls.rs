//! What both server adapters share for TLS: the system trust store (where
//! internal databases' private CAs are installed), PEM files, and one plain
//! sentence for a certificate the client does not trust.

use std::path::{Path, PathBuf};

use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::{StoreError, StoreResult};

/// Where Linux distributions keep the system's trusted CAs as one PEM bundle
/// (Debian and Ubuntu, Fedora and RHEL, openSUSE, Alpine).
const SYSTEM_BUNDLES: [&str; 4] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// The system trust store as one PEM file: `SSL_CERT_FILE` when set (as
/// OpenSSL and libpq honour it), else the distribution's bundle.
pub fn system_roots_file() -> Option<PathBuf> {
    if let Some(file) = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from)
        && file.is_file()
    {
        return Some(file);
    }
    SYSTEM_BUNDLES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// Every certificate in a PEM file, as trust anchors.
pub fn roots_from(path: &Path, what: &str) -> StoreResult<RootCertStore> {
    let mut roots = RootCertStore::empty();
    let certs = certificates_from(path, what)?;
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(StoreError::Config(format!(
            "{what} {} holds no usable CA certificate",
            path.display()
        )));
    }
    Ok(roots)
}

/// The certificates of a PEM file.
pub fn certificates_from(path: &Path, what: &str) -> StoreResult<Vec<CertificateDer<'static>>> {
    let unreadable = |e: &dyn std::fmt::Display| {
        StoreError::Config(format!("{what} {} cannot be read: {e}", path.display()))
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| unreadable(&e))?
        .collect::<Result<_, _>>()
        .map_err(|e| unreadable(&e))?;
    if certs.is_empty() {
        return Err(StoreError::Config(format!(
            "{what} {} holds no PEM certificate",
            path.display()
        )));
    }
    Ok(certs)
}

/// The private key of a PEM file.
pub fn private_key_from(path: &Path, what: &str) -> StoreResult<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| {
        StoreError::Config(format!(
            "{what} {} holds no usable private key: {e}",
            path.display()
        ))
    })
}

/// One sentence for a TLS failure in a driver's message, when it is one.
pub fn explain_tls_failure(message: &str) -> Option<String> {
    let lower = message.to_lowercase();
    if lower.contains("unknownissuer") || lower.contains("unknown issuer") {
        Some(
            "its TLS certificate is signed by a CA this client does not trust (give the CA's file: sslrootcert= for PostgreSQL, tlsCAFile= for MongoDB, or install it in the system trust store)"
                .into(),
        )
    } else if lower.contains("notvalidforname") || lower.contains("not valid for name") {
        Some(
            "its TLS certificate is not for the host name connected to (connect by a name the certificate lists)"
                .into(),
        )
    } else if lower.contains("certificate") && lower.contains("expired") {
        Some("its TLS certificate has expired".into())
    } else if lower.contains("certificaterequired")
        || lower.contains("certificate required")
        || lower.contains("handshake failure")
    {
        Some(
            "the TLS handshake failed: the server may require a client certificate (sslcert/sslkey, tlsCertificateKeyFile)"
                .into(),
        )
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::explain_tls_failure;

    #[test]
    fn tls_failures_become_sentences() {
        assert!(
            explain_tls_failure("invalid peer certificate: UnknownIssuer")
                .is_some_and(|s| s.contains("CA"))
        );
        assert!(
            explain_tls_failure("invalid peer certificate: NotValidForName")
                .is_some_and(|s| s.contains("host name"))
        );
        assert_eq!(explain_tls_failure("connection refused"), None);
    }
}

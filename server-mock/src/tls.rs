//! TLS for every port: a PEM certificate chain and key served with rustls
//! (ring provider, no OpenSSL), and self-signed certificates for LAN trials.
//!
//! This module does not obtain certificates from a CA; a deployment brings
//! its own, or puts a reverse proxy in front (see the README).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig as RustlsConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The certificate chain and private key a server presents, as PEM text.
#[derive(Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// The certificate chain, leaf first (PEM `CERTIFICATE` blocks).
    pub cert_pem: String,
    /// The private key (PEM PKCS#8, PKCS#1 or SEC1).
    pub key_pem: String,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key never reaches a log.
        f.debug_struct("TlsConfig")
            .field("cert_pem", &format_args!("{} bytes", self.cert_pem.len()))
            .field("key_pem", &"<hidden>")
            .finish()
    }
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read or written.
    #[error("cannot use {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// The certificate text holds no certificate.
    #[error("no certificate found: expected PEM \"BEGIN CERTIFICATE\" blocks ({0})")]
    NoCertificate(String),
    /// The key text holds no private key.
    #[error("no private key found: expected a PEM PKCS#8, PKCS#1 or SEC1 private key ({0})")]
    NoKey(String),
    /// rustls refused the pair (for example a key that does not match).
    #[error("the certificate and key cannot be used: {0}")]
    Refused(String),
    /// A self-signed certificate could not be made.
    #[error("cannot make a self-signed certificate: {0}")]
    Generate(String),
}

impl TlsConfig {
    /// Reads a certificate chain and a key from PEM files.
    pub fn from_files(cert: &Path, key: &Path) -> Result<TlsConfig, TlsError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| TlsError::File {
                path: path.to_owned(),
                source,
            })
        };
        let config = TlsConfig {
            cert_pem: read(cert)?,
            key_pem: read(key)?,
        };
        // Fail at start, with the file names at hand, rather than per connection.
        config.acceptor()?;
        Ok(config)
    }

    /// The acceptor every listener uses.
    pub(crate) fn acceptor(&self) -> Result<TlsAcceptor, TlsError> {
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(self.cert_pem.as_bytes())
                .collect::<Result<_, _>>()
                .map_err(|e| TlsError::NoCertificate(e.to_string()))?;
        if certs.is_empty() {
            return Err(TlsError::NoCertificate("the text is empty".to_owned()));
        }
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes())
            .map_err(|e| TlsError::NoKey(e.to_string()))?;
        let mut config = RustlsConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Refused(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| TlsError::Refused(e.to_string()))?;
        // Every port speaks HTTP/1.1 (WebSocket upgrades and file GETs).
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

/// Makes a self-signed certificate valid for `names` (host names or IP
/// addresses; `localhost` and `127.0.0.1` are always included).
pub fn self_signed(names: &[String]) -> Result<TlsConfig, TlsError> {
    let mut all = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    for name in names {
        if !all.contains(name) {
            all.push(name.clone());
        }
    }
    let made =
        rcgen::generate_simple_self_signed(all).map_err(|e| TlsError::Generate(e.to_string()))?;
    Ok(TlsConfig {
        cert_pem: made.cert.pem(),
        key_pem: made.signing_key.serialize_pem(),
    })
}

/// The self-signed certificate kept in `dir` (`cert.pem`, `key.pem`), made
/// for `names` on first use and reused afterwards, so a browser that was told
/// to trust it keeps trusting it across restarts. A kept certificate is
/// replaced when it was made for other names.
pub fn self_signed_in(dir: &Path, names: &[String]) -> Result<TlsConfig, TlsError> {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let names_file = dir.join("names.txt");
    let wanted = names.join("\n");
    let kept = std::fs::read_to_string(&names_file).ok();
    if kept.as_deref() == Some(wanted.as_str()) && cert.exists() && key.exists() {
        return TlsConfig::from_files(&cert, &key);
    }
    let made = self_signed(names)?;
    let write = |path: &Path, text: &str| {
        std::fs::write(path, text).map_err(|source| TlsError::File {
            path: path.to_owned(),
            source,
        })
    };
    std::fs::create_dir_all(dir).map_err(|source| TlsError::File {
        path: dir.to_owned(),
        source,
    })?;
    write(&key, &made.key_pem)?;
    restrict_to_owner(&key)?;
    write(&cert, &made.cert_pem)?;
    write(&names_file, &wanted)?;
    Ok(made)
}

#[cfg(unix)]
fn restrict_to_owner(path: &Path) -> Result<(), TlsError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|source| {
        TlsError::File {
            path: path.to_owned(),
            source,
        }
    })
}

#[cfg(not(unix))]
fn restrict_to_owner(_path: &Path) -> Result<(), TlsError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_pair_is_accepted_and_garbage_is_named() {
        let pair = self_signed(&["penpen.lan".to_owned()]).expect("made");
        assert!(pair.acceptor().is_ok());
        let no_cert = TlsConfig {
            cert_pem: "hello".to_owned(),
            key_pem: pair.key_pem.clone(),
        };
        assert!(matches!(
            no_cert.acceptor(),
            Err(TlsError::NoCertificate(_))
        ));
        let no_key = TlsConfig {
            cert_pem: pair.cert_pem.clone(),
            key_pem: String::new(),
        };
        assert!(matches!(no_key.acceptor(), Err(TlsError::NoKey(_))));
        assert!(!format!("{pair:?}").contains("PRIVATE"));
    }

    #[test]
    fn a_kept_certificate_is_reused_for_the_same_names() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let names = vec!["a.lan".to_owned()];
        let first = self_signed_in(dir.path(), &names).expect("made");
        let again = self_signed_in(dir.path(), &names).expect("kept");
        assert_eq!(first, again);
        let other = self_signed_in(dir.path(), &["b.lan".to_owned()]).expect("remade");
        assert_ne!(first.cert_pem, other.cert_pem);
    }
}

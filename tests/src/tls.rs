//! A self-signed certificate for a test run over TLS, and what Chromium needs
//! to trust it: the SHA-256 of its public key, for
//! `--ignore-certificate-errors-spki-list` (which accepts exactly this key,
//! not every certificate as `--ignore-certificate-errors` would).

use anyhow::Context as _;
use base64::Engine as _;
use rcgen::PublicKeyData as _;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate for `127.0.0.1` and `localhost` with its key.
#[derive(Debug, Clone)]
pub struct TestCertificate {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Its private key, PKCS#8 PEM.
    pub key_pem: String,
    cert_der: CertificateDer<'static>,
    key_der: Vec<u8>,
    /// base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo.
    pub spki_sha256: String,
}

impl TestCertificate {
    /// Makes a new self-signed certificate.
    pub fn generate() -> anyhow::Result<TestCertificate> {
        let key = rcgen::KeyPair::generate().context("generate a key pair")?;
        let params =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .context("certificate parameters")?;
        let cert = params.self_signed(&key).context("self-sign")?;
        let spki_sha256 = base64::engine::general_purpose::STANDARD
            .encode(Sha256::digest(key.subject_public_key_info()));
        Ok(TestCertificate {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().clone(),
            key_der: key.serialize_der(),
            spki_sha256,
        })
    }

    /// A rustls server configuration presenting this certificate.
    pub fn server_config(&self) -> anyhow::Result<Arc<rustls::ServerConfig>> {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(vec![self.cert_der.clone()], key)
        .context("TLS certificate")?;
        Ok(Arc::new(config))
    }

    /// Writes `cert.pem` and `key.pem` into `folder`, for a server that reads
    /// PEM files (`--tls-cert`, `--tls-key`); returns their paths.
    pub fn write_pem(&self, folder: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
        let (cert, key) = (folder.join("cert.pem"), folder.join("key.pem"));
        std::fs::write(&cert, &self.cert_pem).context("write cert.pem")?;
        std::fs::write(&key, &self.key_pem).context("write key.pem")?;
        Ok((cert, key))
    }

    /// The Chromium argument that trusts this certificate's key (only with
    /// a `--user-data-dir`, which every test browser has).
    pub fn chromium_argument(&self) -> String {
        format!("--ignore-certificate-errors-spki-list={}", self.spki_sha256)
    }
}

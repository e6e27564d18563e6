//! TLS for `wss://` buses and `https://` App Directories: rustls with the `ring` provider,
//! verifying servers with the platform's verifier (rustls-platform-verifier: the Windows
//! certificate store, where io.Connect Desktop users' corporate roots live; the keychain on
//! macOS; the system CA bundle on Linux, or `SSL_CERT_FILE`/`SSL_CERT_DIR`), plus any extra roots
//! read from a PEM file (the CLI's `--ca-file`).
//!
//! A failure that comes down to an untrusted certificate is rewritten (`explain`) to say so and
//! how to trust a private CA, instead of rustls' `invalid peer certificate: UnknownIssuer`.

use std::{error::Error as StdError, fmt, io, path::Path, sync::Arc};

use rustls::{
    CertificateError, ClientConfig,
    crypto::{CryptoProvider, ring},
    pki_types::{CertificateDer, pem::PemObject as _},
};
use rustls_platform_verifier::Verifier;

use crate::error::BusError;

/// How to verify TLS servers: the platform's trust store plus extra roots. Cheap to clone; the
/// rustls configuration is built per connection attempt by [`TlsConfig::client_config`].
#[derive(Clone, Default)]
pub struct TlsConfig {
    extra_roots: Arc<[CertificateDer<'static>]>,
    /// Where the extra roots came from, for messages.
    source: Option<Arc<str>>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("TlsConfig")
            .field("extra_roots", &self.extra_roots.len())
            .field("source", &self.source)
            .finish()
    }
}

impl TlsConfig {
    /// Trusts what the platform trusts (the default).
    pub fn platform() -> Self {
        Self::default()
    }

    /// Trusts what the platform trusts plus every certificate in the PEM file at `path`.
    pub fn with_ca_file(path: &Path) -> Result<Self, BusError> {
        let what = || format!("the CA file {}", path.display());
        let pem = std::fs::read(path).map_err(|error| BusError::Config {
            what: what(),
            reason: error.to_string(),
        })?;
        Self::with_ca_pem(&pem, &what())
    }

    /// Trusts what the platform trusts plus every certificate in `pem`; `source` names it in
    /// messages. Text that holds no certificate is an error, not an empty list.
    pub fn with_ca_pem(pem: &[u8], source: &str) -> Result<Self, BusError> {
        let invalid = |reason: String| BusError::Config {
            what: source.to_owned(),
            reason,
        };
        let roots = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| invalid(format!("not a PEM certificate file: {error}")))?;
        if roots.is_empty() {
            return Err(invalid(
                "holds no certificate (expected PEM blocks: -----BEGIN CERTIFICATE-----)".into(),
            ));
        }
        Ok(Self {
            extra_roots: roots.into(),
            source: Some(source.into()),
        })
    }

    /// How many extra roots were added (0: the platform's only).
    pub fn extra_root_count(&self) -> usize {
        self.extra_roots.len()
    }

    /// The rustls client configuration: the platform verifier with the extra roots, TLS 1.2
    /// and 1.3, no client certificate.
    pub(crate) fn client_config(&self) -> Result<Arc<ClientConfig>, String> {
        let provider = crypto_provider();
        let verifier = if self.extra_roots.is_empty() {
            Verifier::new(Arc::clone(&provider))
        } else {
            Verifier::new_with_extra_roots(self.extra_roots.iter().cloned(), Arc::clone(&provider))
        }
        .map_err(|error| match &self.source {
            Some(source) => format!("cannot set up TLS with {source}: {error}"),
            None => format!(
                "cannot set up TLS with the platform's trusted certificates: {error}; \
                 {CA_FILE_HINT}"
            ),
        })?;
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| format!("cannot set up TLS: {error}"))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(Arc::new(config))
    }

    /// A reqwest client that verifies with this configuration.
    pub(crate) fn http_client(&self) -> Result<reqwest::Client, String> {
        let tls = Arc::unwrap_or_clone(self.client_config()?);
        reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .build()
            .map_err(|error| format!("cannot set up the HTTP client: {error}"))
    }
}

/// How to trust a private or corporate CA, for messages.
const CA_FILE_HINT: &str = "if the server's certificate comes from a private or corporate CA \
     that this machine does not trust, pass that CA's certificate (PEM) with --ca-file \
     (or CODEMODE_CA_FILE)";

/// The rustls crypto provider codemode uses: `ring`. aws-lc-rs (rustls' default) would add
/// post-quantum key exchange, but cross-building it for x86_64-pc-windows-gnu needs cmake and
/// nasm besides mingw; `ring` needs only the C compiler.
#[expect(
    deprecated,
    reason = "rustls 0.23.48 deprecates `ring::default_provider` only for lacking post-quantum \
              key exchange; see above for why codemode stays on ring"
)]
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

/// Installs rustls' `ring` provider as the process default, unless one is installed already.
///
/// Clients that build their own TLS configuration (reqwest's default client, e.g. rmcp's HTTP
/// client or an OTLP exporter) need a process default, since the build has no other provider;
/// call this once at start-up, before building such a client.
pub fn install_default_crypto_provider() {
    if CryptoProvider::get_default().is_none() {
        // Losing a race to another installer is fine: a default is then installed.
        let _ = Arc::unwrap_or_clone(crypto_provider()).install_default();
    }
}

/// Describes `error` for people when it, or an error it wraps, is a rejected server
/// certificate: what was wrong and how to trust a private CA (`--ca-file`). `None` for other
/// errors. The caller's message names the URL.
pub(crate) fn explain(error: &(dyn StdError + 'static)) -> Option<String> {
    let certificate = rustls_error(error).and_then(|error| match error {
        rustls::Error::InvalidCertificate(certificate) => Some(certificate),
        _ => None,
    })?;
    let what = match certificate {
        CertificateError::UnknownIssuer => "is signed by a CA this machine does not trust",
        CertificateError::BadSignature => "has a bad signature",
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => "has expired",
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "is not valid yet"
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            return Some(format!(
                "the server's TLS certificate is not valid for this host name ({certificate}); \
                 connect with a host name the certificate names"
            ));
        }
        CertificateError::Revoked => "has been revoked",
        _ => "was rejected",
    };
    Some(format!(
        "the server's TLS certificate is not trusted: it {what} ({certificate}); \
         {CA_FILE_HINT}"
    ))
}

/// The rustls error in `error`'s chain, looking inside `io::Error`s (whose `source` skips the
/// error they wrap).
fn rustls_error<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(found) = error.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        if let Some(inner) = error
            .downcast_ref::<io::Error>()
            .and_then(io::Error::get_ref)
            .and_then(|inner| rustls_error(inner))
        {
            return Some(inner);
        }
        current = error.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_without_certificates_is_a_config_error_naming_the_source() {
        let error = TlsConfig::with_ca_pem(b"not a certificate\n", "the CA file x.pem")
            .expect_err("no certificate");
        let message = error.to_string();
        assert!(
            message.contains("the CA file x.pem") && message.contains("holds no certificate"),
            "{message}"
        );
    }

    #[test]
    fn a_missing_ca_file_is_a_config_error_naming_the_path() {
        let error = TlsConfig::with_ca_file(Path::new("/no/such/dir/ca.pem")).expect_err("missing");
        assert!(error.to_string().contains("/no/such/dir/ca.pem"), "{error}");
    }

    #[test]
    fn an_unknown_issuer_inside_an_io_error_is_explained_with_the_option() {
        let wrapped = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        let message = explain(&wrapped).expect("explained");
        assert!(
            message.contains("not trusted") && message.contains("--ca-file"),
            "{message}"
        );
        let other = io::Error::new(io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(explain(&other), None);
    }
}

//! A private CA made for one test and a TLS-terminating proxy in front of a plain peer, so that
//! the real gateway, the reference Desktop Agent or its App Directory can be reached over
//! `wss://` / `https://` with a certificate no machine trusts unless told to (`--ca-file`).

use std::{
    net::{Ipv4Addr, SocketAddr},
    path::PathBuf,
    sync::Arc,
};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::{
    ServerConfig,
    pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer},
};
use tokio::{net::TcpStream, sync::oneshot};
use tokio_rustls::TlsAcceptor;

use crate::repo_root;

/// A CA created for this test (its certificate in a PEM file) and a server certificate it signed
/// for `localhost` and `127.0.0.1`.
pub struct TestCa {
    /// The CA certificate, PEM: what `--ca-file` takes.
    pub ca_file: PathBuf,
    server: Arc<ServerConfig>,
}

impl TestCa {
    /// Creates the CA and the server certificate, and writes the CA's PEM file under
    /// `target/fixture-logs`.
    pub fn new() -> Self {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "codemode test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key"))
            .expect("self-signed CA");

        let mut server_params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("server params");
        server_params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        server_params.is_ca = IsCa::ExplicitNoCa;
        server_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_key = KeyPair::generate().expect("server key");
        let server_certificate = server_params
            .signed_by(&server_key, &ca)
            .expect("server certificate");

        let server = ServerConfig::builder_with_provider(codemode_adapters::tls::crypto_provider())
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![server_certificate.der().clone(), ca.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
            )
            .expect("server TLS config");

        let dir = repo_root().join("target/fixture-logs");
        std::fs::create_dir_all(&dir).expect("create target/fixture-logs");
        let ca_file = dir.join(format!("test-ca-{}.pem", uuid::Uuid::new_v4().simple()));
        std::fs::write(&ca_file, ca.pem()).expect("write the CA file");
        Self {
            ca_file,
            server: Arc::new(server),
        }
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.ca_file);
    }
}

/// Accepts TLS on a free 127.0.0.1 port with [`TestCa`]'s server certificate and relays each
/// connection's plain bytes to `127.0.0.1:upstream_port`. Stops when dropped.
pub struct TlsProxy {
    /// The port it listens on.
    pub port: u16,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TlsProxy {
    /// Starts the proxy on its own thread and runtime.
    pub fn start(ca: &TestCa, upstream_port: u16) -> Self {
        let listener =
            std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind the TLS proxy");
        listener.set_nonblocking(true).expect("non-blocking");
        let port = listener.local_addr().expect("proxy address").port();
        let acceptor = TlsAcceptor::from(Arc::clone(&ca.server));
        let upstream = SocketAddr::from((Ipv4Addr::LOCALHOST, upstream_port));
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("proxy runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                let serve = async {
                    while let Ok((socket, _)) = listener.accept().await {
                        let acceptor = acceptor.clone();
                        tokio::spawn(async move {
                            // A client that rejects the certificate aborts the handshake.
                            let Ok(mut tls) = acceptor.accept(socket).await else {
                                return;
                            };
                            let Ok(mut plain) = TcpStream::connect(upstream).await else {
                                return;
                            };
                            let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                        });
                    }
                };
                tokio::select! {
                    () = serve => {}
                    _ = stopped => {}
                }
            });
        });
        Self {
            port,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

//! A throwaway certificate authority and a server certificate for `localhost` and
//! `127.0.0.1`, made with the `openssl` program, for the test mail servers' TLS.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::TestdataError;

/// The files of a test CA and its server certificate.
#[derive(Debug, Clone)]
pub struct TestCerts {
    /// The CA certificate (PEM): what clients trust.
    pub ca_pem: PathBuf,
    /// The server certificate (PEM), signed by the CA.
    pub cert_pem: PathBuf,
    /// The server's private key (PEM).
    pub key_pem: PathBuf,
}

impl TestCerts {
    /// Makes a CA and a server certificate in `dir`.
    ///
    /// # Errors
    ///
    /// [`TestdataError::MissingProgram`] without `openssl`, [`TestdataError::Io`] if it fails.
    pub fn create(dir: &Path) -> Result<Self, TestdataError> {
        let path = |name: &str| dir.join(name);
        let ext = path("san.ext");
        std::fs::write(
            &ext,
            "subjectAltName=DNS:localhost,IP:127.0.0.1\n\
             basicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature,keyEncipherment\n\
             extendedKeyUsage=serverAuth\n",
        )
        .map_err(|source| TestdataError::Io {
            path: ext.clone(),
            source,
        })?;
        let s = |p: &PathBuf| p.to_string_lossy().into_owned();
        let (ca_key, ca_pem, key_pem, csr, cert_pem) = (
            path("ca.key"),
            path("ca.pem"),
            path("server.key"),
            path("server.csr"),
            path("server.pem"),
        );
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=voxgate test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout",
            &s(&ca_key),
            "-out",
            &s(&ca_pem),
        ])?;
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            &s(&key_pem),
            "-out",
            &s(&csr),
        ])?;
        openssl(&[
            "x509",
            "-req",
            "-in",
            &s(&csr),
            "-CA",
            &s(&ca_pem),
            "-CAkey",
            &s(&ca_key),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &s(&ext),
            "-out",
            &s(&cert_pem),
        ])?;
        Ok(Self {
            ca_pem,
            cert_pem,
            key_pem,
        })
    }
}

/// Runs `openssl args...`, quietly.
fn openssl(args: &[&str]) -> Result<(), TestdataError> {
    let output = Command::new("openssl")
        .args(args)
        .output()
        .map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                TestdataError::MissingProgram {
                    program: "openssl".into(),
                }
            } else {
                TestdataError::Io {
                    path: "openssl".into(),
                    source,
                }
            }
        })?;
    if output.status.success() {
        return Ok(());
    }
    Err(TestdataError::Io {
        path: "openssl".into(),
        source: std::io::Error::other(String::from_utf8_lossy(&output.stderr).into_owned()),
    })
}

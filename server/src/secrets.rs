//! The bridge token: the secret 46elks presents on the WebSocket URL.
//!
//! Configured (`bridge.token`, `VOXGATE_BRIDGE_TOKEN`), or generated on first start from
//! the kernel's random source and kept in `data_dir/bridge.token` (mode 0600), so that the
//! URL registered at the carrier stays valid across restarts. It is never logged.

use std::io::{Read as _, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use anyhow::Context as _;

/// The token file's name in `data_dir`.
const TOKEN_FILE: &str = "bridge.token";
/// Random bytes in a generated token (hex-encoded: 32 characters).
const TOKEN_BYTES: usize = 16;

/// The configured token, or the one kept in `data_dir`, or a new one stored there.
pub(crate) fn bridge_token(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<String> {
    if let Some(token) = configured {
        anyhow::ensure!(!token.trim().is_empty(), "bridge.token must not be empty");
        return Ok(token.to_owned());
    }
    let path = data_dir.join(TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => return Ok(text.trim().to_owned()),
        Ok(_) => anyhow::bail!(
            "{} is empty: delete it to generate a new token",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating data_dir {}", data_dir.display()))?;
    let token = random_hex()?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    writeln!(file, "{token}").with_context(|| format!("writing {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated the 46elks bridge token");
    Ok(token)
}

fn random_hex() -> anyhow::Result<String> {
    let mut bytes = [0u8; TOKEN_BYTES];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("reading /dev/urandom")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn generated_once_then_kept_and_private() {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let first = bridge_token(None, &data).expect("generated");
        assert_eq!(first.len(), 2 * TOKEN_BYTES);
        assert!(first.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(bridge_token(None, &data).expect("kept"), first);
        let mode = std::fs::metadata(data.join(TOKEN_FILE))
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_ne!(bridge_token(None, dir.path()).expect("another dir"), first);
    }

    #[test]
    fn configured_wins_and_empty_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(
            bridge_token(Some("s3cret"), dir.path()).expect("configured"),
            "s3cret"
        );
        assert!(bridge_token(Some(" "), dir.path()).is_err());
        std::fs::write(dir.path().join(TOKEN_FILE), "\n").expect("write");
        assert!(
            bridge_token(None, dir.path()).is_err(),
            "an emptied file is an error"
        );
    }
}

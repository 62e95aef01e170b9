//! Secrets voxgate keeps in `data_dir`: the bridge token (the secret 46elks presents on the
//! WebSocket URL) and the key that seals carrier credentials.
//!
//! Each is configured (`bridge.token` / `VOXGATE_BRIDGE_TOKEN`, `secrets.key` /
//! `VOXGATE_SECRETS_KEY`), or generated on first start from the kernel's random source and
//! kept in a file in `data_dir` (mode 0600), so that it survives restarts: the URL
//! registered at the carrier stays valid, sealed credentials stay readable. Never logged.

use std::io::{Read as _, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use anyhow::Context as _;
use base64::Engine as _;
use voxgate_control_api::secrets::Sealer;

/// The token file's name in `data_dir`.
const TOKEN_FILE: &str = "bridge.token";
/// Random bytes in a generated token (hex-encoded: 32 characters).
const TOKEN_BYTES: usize = 16;
/// The sealing key's file name in `data_dir`.
const KEY_FILE: &str = "secrets.key";

/// The configured token, or the one kept in `data_dir`, or a new one stored there.
pub(crate) fn bridge_token(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<String> {
    kept(
        configured,
        "bridge.token",
        &data_dir.join(TOKEN_FILE),
        || {
            Ok(random_bytes::<TOKEN_BYTES>()?
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect())
        },
    )
}

/// The key sealing carrier credentials: configured, or kept in `data_dir`, or a new one
/// stored there.
pub(crate) fn sealer(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Sealer> {
    let key = kept(configured, "secrets.key", &data_dir.join(KEY_FILE), || {
        Ok(base64::engine::general_purpose::STANDARD.encode(random_bytes::<32>()?))
    })?;
    Sealer::from_base64(&key).context("secrets.key")
}

/// `configured` if set (`key` names it in errors), else the text of the file at `path`,
/// else `generate()`d and written there with mode 0600.
fn kept(
    configured: Option<&str>,
    key: &str,
    path: &Path,
    generate: impl FnOnce() -> anyhow::Result<String>,
) -> anyhow::Result<String> {
    if let Some(value) = configured {
        anyhow::ensure!(!value.trim().is_empty(), "{key} must not be empty");
        return Ok(value.to_owned());
    }
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => return Ok(text.trim().to_owned()),
        Ok(_) => anyhow::bail!(
            "{} is empty: delete it to generate a new {key}",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating data_dir {}", dir.display()))?;
    }
    let value = generate()?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    writeln!(file, "{value}").with_context(|| format!("writing {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated {key}");
    Ok(value)
}

fn random_bytes<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("reading /dev/urandom")?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use voxgate_control_api::secrets::Secret;

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
    fn the_sealing_key_is_kept_private_and_reused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let secret = Secret::new("p4ss".into());
        let sealed = sealer(None, dir.path())
            .expect("created")
            .seal("prv_1", &secret)
            .expect("seal");
        let again = sealer(None, dir.path()).expect("kept");
        assert_eq!(again.open("prv_1", &sealed).expect("open"), secret);
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(dir.path().join(KEY_FILE), "not a key").expect("write");
        let err = sealer(None, dir.path()).expect_err("garbage");
        assert!(
            format!("{err:#}").contains("SECRETS_KEY") || format!("{err:#}").contains("32 bytes"),
            "{err:#}"
        );
        assert!(
            sealer(Some("c2hvcnQ="), dir.path()).is_err(),
            "a configured key must be 32 bytes"
        );
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

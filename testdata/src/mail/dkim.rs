//! An independent DKIM verifier for tests: `testdata/mail/dkim_verify.py` on dkimpy
//! (Debian's `python3-dkim`, for the system `/usr/bin/python3`), given the TXT records a
//! verifier would find in DNS.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::TestdataError;

/// The interpreter Debian's `python3-dkim` is installed for.
const PYTHON: &str = "/usr/bin/python3";

/// Verifies every `DKIM-Signature` of `message` against `records` (`(name, TXT value)`,
/// e.g. `("voxgate._domainkey.example.com", "v=DKIM1; k=rsa; p=...")`).
///
/// `Ok(Ok(()))` when all verify, `Ok(Err(why))` when one does not or there is none.
///
/// # Errors
///
/// [`TestdataError::MissingProgram`] when `/usr/bin/python3` or dkimpy is not installed.
pub fn verify(
    message: &[u8],
    records: &[(String, String)],
) -> Result<Result<(), String>, TestdataError> {
    let probe = Command::new(PYTHON).args(["-c", "import dkim"]).output();
    if !probe.is_ok_and(|o| o.status.success()) {
        return Err(TestdataError::MissingProgram {
            program: "dkimpy for /usr/bin/python3 (Debian python3-dkim)".into(),
        });
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("mail/dkim_verify.py");
    let mut child = Command::new(PYTHON)
        .arg(&script)
        .args(
            records
                .iter()
                .map(|(name, value)| format!("{name}={value}")),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| io(script.clone(), e))?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| io(script.clone(), std::io::Error::other("no stdin")))?;
    stdin
        .write_all(message)
        .map_err(|e| io(script.clone(), e))?;
    drop(stdin);
    let output = child.wait_with_output().map_err(|e| io(script, e))?;
    let said = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if output.status.success() && said == "pass" {
        Ok(Ok(()))
    } else {
        Ok(Err(format!(
            "{said} {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

fn io(path: impl Into<std::path::PathBuf>, source: std::io::Error) -> TestdataError {
    TestdataError::Io {
        path: path.into(),
        source,
    }
}

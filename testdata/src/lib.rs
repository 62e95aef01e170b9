//! Test support shared by the voxgate crates: real speech to feed the media pipeline.
//!
//! Nothing third-party is committed to the repository. The assets come from Debian packages
//! that `scripts/setup` installs, and this crate only finds, parses and loads them:
//!
//! - [`asterisk`]: the 568 human telephone prompts of Asterisk (8 kHz mono) with their
//!   transcripts, from `asterisk-core-sounds-en-wav` and `asterisk-core-sounds-en`.
//! - [`librivox`]: read-speech clips (16 kHz mono) with reference transcripts, from
//!   `pocketsphinx-testdata`.
//! - [`espeak`]: synthetic speech generated at test time by running the `espeak-ng` program
//!   (a subprocess: nothing is linked).
//! - [`wav`]: reading any WAV file into mono 16-bit samples ([`Audio`]).
//! - [`mail`]: real mail servers (Dovecot, an SMTP submission server, dnsmasq) started
//!   on loopback for the email tests.
//! - [`text`]: transcript normalization and word error rate, for checking speech recognition.
//!
//! When an asset is not installed the loaders return [`TestdataError::MissingAsset`], whose
//! message names the missing file and says to run `scripts/setup`.
//!
//! # Environment
//!
//! | variable | default |
//! |---|---|
//! | `VOXGATE_ASTERISK_SOUNDS_DIR` | `/usr/share/asterisk/sounds/en_US_f_Allison` |
//! | `VOXGATE_ASTERISK_TRANSCRIPTS` | `/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz` |
//! | `VOXGATE_LIBRIVOX_DIR` | `/usr/share/pocketsphinx/test/data/librivox` |
//!
//! Every loader that reads these also has an `*_in` form taking the location explicitly, so
//! tests need not change the (process-global) environment.

pub mod asterisk;
mod error;
pub mod espeak;
pub mod librivox;
pub mod mail;
pub mod text;
pub mod wav;

pub use error::TestdataError;
pub use wav::Audio;

/// `$var` if it is set and not empty, else `default`.
fn env_path(var: &str, default: &str) -> std::path::PathBuf {
    match std::env::var_os(var) {
        Some(value) if !value.is_empty() => value.into(),
        _ => default.into(),
    }
}

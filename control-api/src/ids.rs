//! Identifiers and timestamps: `{prefix}_{20 base32 characters}` ids (100 random bits) and
//! Unix milliseconds, rendered as RFC 3339 on the wire.

use rand::RngCore as _;

/// Unix time in milliseconds, as stored.
pub type Millis = i64;

/// Lower-case RFC 4648 base32 without padding: ids survive URLs and case-folding logs.
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// A new random id such as `agt_k5x2...`.
pub fn new_id(prefix: &str) -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    let mut id = String::with_capacity(prefix.len() + 21);
    id.push_str(prefix);
    id.push('_');
    id.extend(
        bytes
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(b & 31)])),
    );
    id
}

/// Now, in Unix milliseconds.
pub fn now_ms() -> Millis {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// Where the control API reads the time: [`SystemClock`] in the server, a [`ManualClock`]
/// in tests of what depends on the date (daily caps, expiries), so they run without
/// waiting and without depending on the day they run.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    /// Now, in Unix milliseconds.
    fn now_ms(&self) -> Millis;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> Millis {
        now_ms()
    }
}

/// A clock that stands still until told: [`set`](Self::set) or [`advance`](Self::advance).
#[derive(Debug)]
pub struct ManualClock(std::sync::atomic::AtomicI64);

impl ManualClock {
    /// A clock at `ms`.
    pub fn at(ms: Millis) -> Self {
        Self(std::sync::atomic::AtomicI64::new(ms))
    }

    /// Moves the clock to `ms`.
    pub fn set(&self, ms: Millis) {
        self.0.store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// Moves the clock on by `ms`.
    pub fn advance(&self, ms: Millis) {
        self.0.fetch_add(ms, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> Millis {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// `ms` as RFC 3339 with milliseconds, e.g. `2026-11-23T05:49:58.123Z`.
pub fn rfc3339(ms: Millis) -> String {
    let ms = u64::try_from(ms).unwrap_or(0);
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_millis(at).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_prefix_and_differ() {
        let (a, b) = (new_id("agt"), new_id("agt"));
        assert_ne!(a, b);
        assert!(a.starts_with("agt_") && a.len() == 24, "{a}");
        assert!(a[4..].bytes().all(|c| ALPHABET.contains(&c)), "{a}");
    }

    #[test]
    fn timestamps_render_as_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_412_998_123), "2026-11-23T05:49:58.123Z");
        assert!(now_ms() > 1_795_000_000_000);
    }
}

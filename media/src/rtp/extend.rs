//! Extending 16-bit sequence numbers and 32-bit timestamps to monotonic 64-bit counters.
//!
//! RFC 3550 Appendix A.1 keeps a cycle count of sequence wraps. We use the equivalent
//! "closest value" rule: a new value is placed in whichever cycle puts it nearest to the
//! highest value seen so far, so reordered packets across a wrap land on the right side. The
//! result is signed because a packet reordered before the very first one received sits below
//! it; callers treat such packets as late.

/// Extends RTP sequence numbers (16 bits) to `i64`.
#[derive(Debug, Clone, Default)]
pub struct SeqExtender {
    inner: Unwrapper<16>,
}

impl SeqExtender {
    /// A fresh extender; the first value seen maps to itself.
    pub fn new() -> Self {
        Self::default()
    }

    /// The extended value of `seq`.
    pub fn extend(&mut self, seq: u16) -> i64 {
        self.inner.extend(u64::from(seq))
    }
}

/// Extends RTP timestamps (32 bits) to `i64`.
#[derive(Debug, Clone, Default)]
pub struct TimestampExtender {
    inner: Unwrapper<32>,
}

impl TimestampExtender {
    /// A fresh extender; the first value seen maps to itself.
    pub fn new() -> Self {
        Self::default()
    }

    /// The extended value of `ts`.
    pub fn extend(&mut self, ts: u32) -> i64 {
        self.inner.extend(u64::from(ts))
    }
}

/// Unwraps a counter of `BITS` bits by the closest-value rule.
#[derive(Debug, Clone, Default)]
struct Unwrapper<const BITS: u32> {
    highest: Option<i64>,
}

impl<const BITS: u32> Unwrapper<BITS> {
    const MODULUS: i64 = 1 << BITS;

    fn extend(&mut self, raw: u64) -> i64 {
        let raw = (raw as i64) & (Self::MODULUS - 1);
        let Some(highest) = self.highest else {
            self.highest = Some(raw);
            return raw;
        };
        // Distance from the highest value, folded into [-M/2, M/2).
        let half = Self::MODULUS / 2;
        let delta = (raw - highest).rem_euclid(Self::MODULUS);
        let delta = if delta >= half {
            delta - Self::MODULUS
        } else {
            delta
        };
        let value = highest + delta;
        if value > highest {
            self.highest = Some(value);
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_table() {
        // (input, expected extended value), applied in order to one extender.
        let table: &[(u16, i64)] = &[
            (65530, 65530),
            (65535, 65535),
            (0, 65536),      // wrap
            (65534, 65534),  // reordered from before the wrap
            (3, 65539),      // after the wrap
            (2, 65538),      // reordered after the wrap
            (32000, 97536),  // a big jump forward
            (60000, 125536), // another, just short of half the space
            (1, 131073),     // and over the next wrap
            (33000, 98536),  // half the space back is closer than forward
        ];
        let mut ext = SeqExtender::new();
        for &(seq, want) in table {
            assert_eq!(ext.extend(seq), want, "seq {seq}");
        }
    }

    #[test]
    fn before_first_is_negative() {
        let mut ext = SeqExtender::new();
        assert_eq!(ext.extend(2), 2);
        assert_eq!(ext.extend(65535), -1);
        assert_eq!(ext.extend(3), 3);
    }

    #[test]
    fn timestamps_wrap_at_32_bits() {
        let mut ext = TimestampExtender::new();
        assert_eq!(ext.extend(u32::MAX - 159), 4_294_967_136);
        assert_eq!(ext.extend(0), 4_294_967_296);
        assert_eq!(ext.extend(160), 4_294_967_456);
        assert_eq!(ext.extend(u32::MAX - 159), 4_294_967_136);
    }
}

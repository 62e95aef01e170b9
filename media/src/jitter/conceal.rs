//! What plays when a packet is missing: a faded repeat of the last frame, or Opus PLC.

use super::PayloadDecoder;

/// A frame whose peak is below this (about -40 dBFS) is quiet: a safe point to insert or
/// drop a frame without it being heard.
const QUIET_PEAK: u16 = 328;

/// The last decoded frame and how many frames have been concealed since.
#[derive(Debug)]
pub(super) struct Concealer {
    /// The last frame decoded from a packet; also scratch space for discarded packets.
    last: Box<[i16]>,
    /// Consecutive frames concealed since the last decoded one.
    missing: u32,
    /// Frames of fade before silence.
    fade_frames: u32,
    /// Whether the last frame output was quiet or not real audio.
    quiet: bool,
}

impl Concealer {
    /// A concealer for frames of `samples` samples that fades over `fade_frames` frames.
    pub(super) fn new(samples: usize, fade_frames: u32) -> Self {
        Self {
            last: vec![0; samples].into_boxed_slice(),
            missing: 0,
            fade_frames,
            quiet: true,
        }
    }

    /// Whether the last frame output was quiet or concealed: a safe point to adapt.
    pub(super) fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// Notes that `frame` was just decoded from a packet and output.
    pub(super) fn played(&mut self, frame: &[i16]) {
        self.last.copy_from_slice(frame);
        self.missing = 0;
        let peak = frame.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        self.quiet = peak < QUIET_PEAK;
    }

    /// Decodes a packet that is dropped rather than played, so that a stateful decoder
    /// (Opus) stays in step with the stream. The audio is kept for concealment only.
    pub(super) fn discard(&mut self, decoder: &mut PayloadDecoder, payload: &[u8]) {
        if decoder.decode(payload, &mut self.last).is_err() {
            self.last.fill(0);
        }
    }

    /// Fills `out` (zeroed) for one missing frame: the codec's concealment for the first
    /// `fade_frames` missing frames, silence after.
    pub(super) fn conceal(&mut self, decoder: &mut PayloadDecoder, out: &mut [i16]) {
        self.missing = self.missing.saturating_add(1);
        self.quiet = true;
        if self.missing > self.fade_frames {
            return;
        }
        match decoder {
            PayloadDecoder::Opus(opus) => {
                if opus.conceal(out).is_err() {
                    out.fill(0);
                }
            }
            PayloadDecoder::G711(_) | PayloadDecoder::L16 => {
                fade(&self.last, self.missing, self.fade_frames, out);
            }
        }
    }
}

/// Writes `last` into `out` under frame `n` (1-based) of a linear ramp from full scale to
/// zero over `fade_frames` frames, so consecutive concealed frames fade smoothly.
fn fade(last: &[i16], n: u32, fade_frames: u32, out: &mut [i16]) {
    let len = last.len() as i64;
    let total = i64::from(fade_frames) * len;
    let start = i64::from(n.saturating_sub(1)) * len;
    for (i, (o, &s)) in out.iter_mut().zip(last).enumerate() {
        let remaining = (total - start - i as i64 - 1).max(0);
        // |s * remaining / total| <= |s|, so the value fits back in an i16.
        *o = (i64::from(s) * remaining / total.max(1)) as i16;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fade_ramps_linearly_to_zero() {
        let last = [1000i16; 4];
        let mut out = [0i16; 4];
        let mut ramp = Vec::new();
        for n in 1..=2 {
            fade(&last, n, 2, &mut out);
            ramp.extend_from_slice(&out);
        }
        assert_eq!(ramp, [875, 750, 625, 500, 375, 250, 125, 0]);
    }

    #[test]
    fn repeats_then_silence() {
        let mut c = Concealer::new(4, 1);
        let mut decoder = PayloadDecoder::L16;
        c.played(&[4000, -4000, 4000, -4000]);
        assert!(!c.is_quiet());
        let mut out = [0i16; 4];
        c.conceal(&mut decoder, &mut out);
        assert_eq!(out, [3000, -2000, 1000, 0]);
        assert!(c.is_quiet());
        let mut out = [0i16; 4];
        c.conceal(&mut decoder, &mut out);
        assert_eq!(out, [0; 4], "silence once the fade has run out");
    }
}

//! How many SMS parts a message takes, which sets its `cost` (parts × price).
//!
//! A message that fits the GSM 03.38 alphabet is sent in 7-bit septets: 160 in a single SMS,
//! 153 per part when concatenated (7 go to the concatenation header). Characters of the
//! extension table (`^{}\[~]|€` and form feed) take two septets (escape + character). Any
//! other character makes the whole message UCS-2: 70 UTF-16 code units in a single SMS, 67
//! per part (so an emoji, a surrogate pair, counts 2). This is the plain division; real
//! encoders also avoid splitting an escape pair or a surrogate pair across parts, which can
//! add a part at the boundaries.

/// The GSM 03.38 basic character set (the escape code 0x1B excluded).
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The GSM 03.38 extension table: each costs an escape septet plus itself.
const GSM_EXTENSION: &str = "^{}\\[~]|€\u{c}";

/// The encoding a message is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// 7-bit GSM 03.38.
    Gsm7,
    /// UCS-2 (UTF-16 code units).
    Ucs2,
}

/// The encoding and part count of `message` (an empty message is one part).
pub(crate) fn count(message: &str) -> (Encoding, u32) {
    let septets = message.chars().try_fold(0usize, |n, c| {
        if GSM_BASIC.contains(c) {
            Some(n + 1)
        } else if GSM_EXTENSION.contains(c) {
            Some(n + 2)
        } else {
            None
        }
    });
    match septets {
        Some(n) => (Encoding::Gsm7, parts(n, 160, 153)),
        None => (
            Encoding::Ucs2,
            parts(message.encode_utf16().count(), 70, 67),
        ),
    }
}

fn parts(units: usize, single: usize, per_part: usize) -> u32 {
    let n = if units <= single {
        1
    } else {
        units.div_ceil(per_part)
    };
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_counts() {
        let a = |n: usize| "a".repeat(n);
        let table: Vec<(String, Encoding, u32)> = vec![
            (String::new(), Encoding::Gsm7, 1),
            ("Hello".into(), Encoding::Gsm7, 1),
            (a(160), Encoding::Gsm7, 1),
            (a(161), Encoding::Gsm7, 2),
            (a(306), Encoding::Gsm7, 2),
            (a(307), Encoding::Gsm7, 3),
            ("Hej då! Åäö ÉÑ @£$".into(), Encoding::Gsm7, 1),
            // Extension characters count two septets.
            ("€".repeat(80), Encoding::Gsm7, 1),
            ("€".repeat(81), Encoding::Gsm7, 2),
            (format!("{}{{", a(159)), Encoding::Gsm7, 2),
            (format!("{}[]", a(156)), Encoding::Gsm7, 1),
            (format!("{}[]", a(157)), Encoding::Gsm7, 2),
            // Outside GSM: UCS-2 for the whole message.
            ("Zażółć".into(), Encoding::Ucs2, 1),
            ("ő".repeat(70), Encoding::Ucs2, 1),
            ("ő".repeat(71), Encoding::Ucs2, 2),
            ("ő".repeat(134), Encoding::Ucs2, 2),
            ("ő".repeat(135), Encoding::Ucs2, 3),
            (format!("{}ő", a(69)), Encoding::Ucs2, 1),
            (format!("{}ő", a(70)), Encoding::Ucs2, 2),
            // An emoji is a surrogate pair: two code units.
            ("😀".repeat(35), Encoding::Ucs2, 1),
            ("😀".repeat(36), Encoding::Ucs2, 2),
        ];
        for (message, encoding, parts) in table {
            assert_eq!(
                count(&message),
                (encoding, parts),
                "{} chars: {message:.20}",
                message.chars().count()
            );
        }
    }
}

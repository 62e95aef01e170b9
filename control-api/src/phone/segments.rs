//! How many SMS parts a text takes (3GPP TS 23.038 and 23.040).
//!
//! A text made only of the GSM 7-bit default alphabet (plus its extension table, whose
//! characters take two septets: an escape and the character) fits 160 septets in one SMS,
//! or 153 per part when concatenated (the user data header takes 7). Anything else is sent
//! as UCS-2: 70 UTF-16 units alone, 67 per part. Parts never split an escape pair or a
//! surrogate pair, so the count is exact, not a division.

/// The GSM 7-bit default alphabet (TS 23.038 §6.2.1), without the escape.
const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                     ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The extension table reached by escape (TS 23.038 §6.2.1.1).
const EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// The encoding an SMS is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// GSM 7-bit default alphabet.
    Gsm7,
    /// UCS-2 (UTF-16 units).
    Ucs2,
}

/// A text's encoding and the parts it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segments {
    /// The encoding.
    pub encoding: Encoding,
    /// Parts (1 for an empty text).
    pub parts: u32,
}

/// The cost in septets of `c` in GSM 7-bit, or `None` if it has no GSM 7-bit form.
fn septets(c: char) -> Option<usize> {
    if BASIC.contains(c) {
        Some(1)
    } else if EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Counts the parts of `text`.
pub fn count(text: &str) -> Segments {
    let gsm: Option<Vec<usize>> = text.chars().map(septets).collect();
    match gsm {
        Some(units) => Segments {
            encoding: Encoding::Gsm7,
            parts: pack(&units, 160, 153),
        },
        None => {
            let units: Vec<usize> = text.chars().map(char::len_utf16).collect();
            Segments {
                encoding: Encoding::Ucs2,
                parts: pack(&units, 70, 67),
            }
        }
    }
}

/// Parts needed for characters of `units` each: one part if all fit `single`, else
/// greedily `per_part` per part without splitting a character.
fn pack(units: &[usize], single: usize, per_part: usize) -> u32 {
    if units.iter().sum::<usize>() <= single {
        return 1;
    }
    let (mut parts, mut used) = (1u32, 0usize);
    for &u in units {
        if used + u > per_part {
            parts += 1;
            used = 0;
        }
        used += u;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_table() {
        let table: [(String, Encoding, u32); 14] = [
            (String::new(), Encoding::Gsm7, 1),
            ("Hello".into(), Encoding::Gsm7, 1),
            ("a".repeat(160), Encoding::Gsm7, 1),
            ("a".repeat(161), Encoding::Gsm7, 2),
            ("a".repeat(306), Encoding::Gsm7, 2),
            ("a".repeat(307), Encoding::Gsm7, 3),
            // Extension characters take two septets.
            ("€".repeat(80), Encoding::Gsm7, 1),
            ("€".repeat(81), Encoding::Gsm7, 2),
            // An escape pair is not split: 152 septets, then "{" would straddle.
            (
                format!("{}{{", "a".repeat(152)) + &"a".repeat(10),
                Encoding::Gsm7,
                2,
            ),
            (
                format!("{}{{{}", "a".repeat(152), "a".repeat(153)),
                Encoding::Gsm7,
                3,
            ),
            ("Hej på dig".into(), Encoding::Gsm7, 1),
            ("ç".repeat(70), Encoding::Ucs2, 1),
            ("ç".repeat(71), Encoding::Ucs2, 2),
            // An emoji is a surrogate pair: 35 fill one SMS, 36 need two parts of 67.
            ("😀".repeat(36), Encoding::Ucs2, 2),
        ];
        for (text, encoding, parts) in table {
            let got = count(&text);
            assert_eq!((got.encoding, got.parts), (encoding, parts), "{text:?}");
        }
        assert_eq!(count(&"😀".repeat(35)).parts, 1);
        // 134 units of emoji: 33 pairs (66 units) per part, so 3 parts for 67 pairs.
        assert_eq!(count(&"😀".repeat(67)).parts, 3);
    }

    #[test]
    fn the_whole_alphabet_is_gsm7() {
        assert_eq!(BASIC.chars().count(), 127);
        assert_eq!(count(BASIC).encoding, Encoding::Gsm7);
        assert_eq!(count(EXTENSION).encoding, Encoding::Gsm7);
        assert_eq!(count("`").encoding, Encoding::Ucs2);
    }
}

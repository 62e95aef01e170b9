//! Exhaustive G.711 tests against values derived independently from the G.711 segment tables.

use super::*;

/// μ-law reconstruction value from the G.711 table (Table 2a): segment `s`, step `q`, in the
/// 14-bit domain `((2q + 33) << s) - 33`, scaled by 4 to 16 bits.
fn ulaw_reference(code: u8) -> i16 {
    let u = !code;
    let (s, q) = (i32::from((u >> 4) & 7), i32::from(u & 15));
    let mag = (((2 * q + 33) << s) - 33) * 4;
    let v = if u & 0x80 != 0 { -mag } else { mag };
    i16::try_from(v).expect("in range")
}

/// A-law reconstruction value from the G.711 table (Table 1a): `2q + 1` in segment 0,
/// `(2q + 33) << (s - 1)` above, in the 13-bit domain, scaled by 8 to 16 bits.
fn alaw_reference(code: u8) -> i16 {
    let a = code ^ 0x55;
    let (s, q) = (i32::from((a >> 4) & 7), i32::from(a & 15));
    let mag = if s == 0 {
        2 * q + 1
    } else {
        (2 * q + 33) << (s - 1)
    } * 8;
    let v = if a & 0x80 != 0 { mag } else { -mag };
    i16::try_from(v).expect("in range")
}

#[test]
fn every_ulaw_code_word_decodes_to_the_g711_value() {
    for code in 0..=255u8 {
        assert_eq!(ulaw_decode(code), ulaw_reference(code), "code {code:#04x}");
    }
}

#[test]
fn every_alaw_code_word_decodes_to_the_g711_value() {
    for code in 0..=255u8 {
        assert_eq!(alaw_decode(code), alaw_reference(code), "code {code:#04x}");
    }
}

#[test]
fn known_reference_points() {
    // (law, code, linear): extremes, zeros, the smallest steps and segment edges.
    let table: &[(Law, u8, i16)] = &[
        (Law::Ulaw, 0x00, -32124),
        (Law::Ulaw, 0x80, 32124),
        (Law::Ulaw, 0xff, 0),
        (Law::Ulaw, 0x7f, 0),
        (Law::Ulaw, 0xfe, 8),
        (Law::Ulaw, 0xf0, 120),
        (Law::Ulaw, 0xef, 132),
        (Law::Alaw, 0xd5, 8),
        (Law::Alaw, 0x55, -8),
        (Law::Alaw, 0xaa, 32256),
        (Law::Alaw, 0x2a, -32256),
        (Law::Alaw, 0xc5, 264),
    ];
    for &(law, code, linear) in table {
        let mut out = [0i16; 1];
        law.decode(&[code], &mut out).expect("same length");
        assert_eq!(out[0], linear, "{law:?} {code:#04x}");
    }
}

#[test]
fn every_code_word_round_trips() {
    for code in 0..=255u8 {
        // μ-law has two zeros (0x7f and 0xff); zero encodes as the positive one.
        let want = if code == 0x7f { 0xff } else { code };
        assert_eq!(ulaw_encode(ulaw_decode(code)), want, "ulaw {code:#04x}");
        assert_eq!(alaw_encode(alaw_decode(code)), code, "alaw {code:#04x}");
    }
}

/// The G.711 μ-law decision intervals in the 14-bit domain: code (s, q) covers magnitudes
/// `[((q + 16) << (s + 1)) - 33, ((q + 17) << (s + 1)) - 33)`, clipped at 8159.
fn ulaw_reference_encode(x: i16) -> u8 {
    let v = i32::from(x) >> 2;
    let m = v.abs().min(8158);
    let (s, q) = find_interval(m, |s, q| ((q + 16) << (s + 1)) - 33);
    let mask = if v < 0 { 0x7f } else { 0xff };
    u8::try_from(((s << 4) | q) ^ mask).expect("one byte")
}

/// The G.711 A-law decision intervals in the 13-bit domain: segment 0 covers `[2q, 2q + 2)`,
/// segment s >= 1 covers `[(q + 16) << s, (q + 17) << s)`; negative inputs use `-v - 1`.
fn alaw_reference_encode(x: i16) -> u8 {
    let v = i32::from(x) >> 3;
    let (m, mask) = if v >= 0 { (v, 0xd5) } else { (-v - 1, 0x55) };
    let (s, q) = find_interval(m, |s, q| if s == 0 { 2 * q } else { (q + 16) << s });
    u8::try_from(((s << 4) | q) ^ mask).expect("one byte")
}

/// The (segment, step) whose interval, starting at `lower(s, q)`, holds `m`.
fn find_interval(m: i32, lower: impl Fn(i32, i32) -> i32) -> (i32, i32) {
    let starts: Vec<(i32, i32, i32)> = (0..8)
        .flat_map(|s| (0..16).map(move |q| (s, q)))
        .map(|(s, q)| (lower(s, q), s, q))
        .collect();
    let (_, s, q) = starts
        .iter()
        .rev()
        .find(|(l, _, _)| *l <= m)
        .copied()
        .expect("m >= 0");
    (s, q)
}

/// Every one of the 65,536 inputs encodes to the code word of its G.711 decision interval,
/// and decoding the result is monotonic in the input.
fn check_all_inputs(encode: fn(i16) -> u8, decode: fn(u8) -> i16, reference: fn(i16) -> u8) {
    let mut previous = i16::MIN;
    for x in i16::MIN..=i16::MAX {
        assert_eq!(encode(x), reference(x), "x={x}");
        let got = decode(encode(x));
        assert!(got >= previous, "not monotonic at {x}");
        previous = got;
    }
}

#[test]
fn every_linear_input_ulaw() {
    check_all_inputs(ulaw_encode, ulaw_decode, ulaw_reference_encode);
}

#[test]
fn every_linear_input_alaw() {
    check_all_inputs(alaw_encode, alaw_decode, alaw_reference_encode);
}

#[test]
fn slices_are_checked() {
    let pcm = [0i16, 1000, -1000, i16::MAX, i16::MIN];
    for law in [Law::Ulaw, Law::Alaw] {
        let mut codes = [0u8; 5];
        law.encode(&pcm, &mut codes).expect("same length");
        let mut back = [0i16; 5];
        law.decode(&codes, &mut back).expect("same length");
        for (a, b) in pcm.iter().zip(back) {
            assert!(
                (i32::from(*a) - i32::from(b)).abs() <= 1024,
                "{law:?} {a} {b}"
            );
        }
        assert_eq!(
            law.encode(&pcm, &mut [0u8; 4]),
            Err(MediaError::BufferLength {
                expected: 5,
                actual: 4
            })
        );
        let mut one = [0i16; 1];
        law.decode(&[law.silence()], &mut one).expect("same length");
        assert!(one[0].abs() <= 8);
    }
}

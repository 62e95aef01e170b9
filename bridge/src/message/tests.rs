use super::*;
use crate::format::Format;

fn hello(callid: &str, from: &str, to: &str) -> Incoming<'static> {
    Incoming::Hello(Hello {
        callid: callid.into(),
        from: from.into(),
        to: to.into(),
    })
}

#[test]
fn incoming_table() {
    let bye = |reason, message: Option<&str>| {
        Ok(Incoming::Bye(Bye {
            reason,
            message: message.map(str::to_owned),
        }))
    };
    let table: Vec<(&str, Result<Incoming<'_>, &str>)> = vec![
        (
            r#"{"t":"hello","callid":"c13d1e772","from":"+46701234567","to":"+46766861234"}"#,
            Ok(hello("c13d1e772", "+46701234567", "+46766861234")),
        ),
        (
            r#"{"t":"audio","data":"AAE="}"#,
            Ok(Incoming::Audio(AudioData::from_base64("AAE="))),
        ),
        (r#"{"t":"sync"}"#, Ok(Incoming::Sync)),
        (
            r#"{"t":"bye","reason":"hangup","message":"the caller hung up"}"#,
            bye(ByeReason::Hangup, Some("the caller hung up")),
        ),
        (r#"{"t":"bye","reason":"done"}"#, bye(ByeReason::Done, None)),
        (
            r#"{"t":"bye","reason":"error","message":null}"#,
            bye(ByeReason::Error, None),
        ),
        // Unknown fields are tolerated; unknown types are kept by name.
        (r#"{"t":"sync","extra":[1,{"a":2}]}"#, Ok(Incoming::Sync)),
        (
            r#"{"t":"dtmf","digit":"5"}"#,
            Ok(Incoming::Unknown("dtmf".into())),
        ),
        // Not JSON.
        ("", Err("WS_INVALID_JSON")),
        ("{", Err("WS_INVALID_JSON")),
        ("hello", Err("WS_INVALID_JSON")),
        (r#"{"t":"sync"} x"#, Err("WS_INVALID_JSON")),
        // JSON, but not a message.
        ("[]", Err("WS_INVALID_MESSAGE")),
        ("42", Err("WS_INVALID_MESSAGE")),
        (r#"{"type":"hello"}"#, Err("WS_INVALID_MESSAGE")),
        (r#"{"t":7}"#, Err("WS_INVALID_MESSAGE")),
        (
            r#"{"t":"hello","callid":"c","from":"+46"}"#,
            Err("WS_INVALID_MESSAGE"),
        ),
        (
            r#"{"t":"hello","callid":1,"from":"a","to":"b"}"#,
            Err("WS_INVALID_MESSAGE"),
        ),
        (r#"{"t":"audio"}"#, Err("WS_INVALID_MESSAGE")),
        (r#"{"t":"audio","data":[1,2]}"#, Err("WS_INVALID_MESSAGE")),
        (r#"{"t":"bye"}"#, Err("WS_INVALID_MESSAGE")),
        (
            r#"{"t":"bye","reason":"timeout"}"#,
            Err("WS_INVALID_MESSAGE"),
        ),
        (
            r#"{"t":"bye","reason":"done","message":3}"#,
            Err("WS_INVALID_MESSAGE"),
        ),
    ];
    for (text, expected) in table {
        let got = Incoming::parse(text).map_err(|e| e.code());
        assert_eq!(got, expected, "{text}");
    }
}

#[test]
fn outgoing_table() {
    let table: Vec<(&str, Result<Outgoing<'_>, &str>)> = vec![
        (
            r#"{"t":"listening","format":"pcm_24000"}"#,
            Ok(Outgoing::Listening(Format::Pcm24000)),
        ),
        (
            r#"{"t":"sending","format":"ulaw"}"#,
            Ok(Outgoing::Sending(Format::Ulaw)),
        ),
        (
            r#"{"t":"audio","data":""}"#,
            Ok(Outgoing::Audio(AudioData::from_base64(""))),
        ),
        (r#"{"t":"interrupt"}"#, Ok(Outgoing::Interrupt)),
        (r#"{"t":"sync"}"#, Ok(Outgoing::Sync)),
        (r#"{"t":"bye"}"#, Ok(Outgoing::Bye)),
        (r#"{"t":"hangup"}"#, Ok(Outgoing::Unknown("hangup".into()))),
        (
            r#"{"t":"sending","format":"g722"}"#,
            Err("WS_INVALID_MESSAGE"),
        ),
        (r#"{"t":"listening"}"#, Err("WS_INVALID_MESSAGE")),
    ];
    for (text, expected) in table {
        let got = Outgoing::parse(text).map_err(|e| e.code());
        assert_eq!(got, expected, "{text}");
    }
}

#[test]
fn written_messages_parse_back() {
    let awkward = "q\"uote\\ back\nnl\u{1}ctl é \u{7f} 🦀";
    let incoming = [
        hello("abc", "+46701234567", "+46766861234"),
        hello(awkward, "", "x"),
        Incoming::Audio(AudioData::encode(&[0, 1, 2, 255])),
        Incoming::Sync,
        Incoming::Bye(Bye {
            reason: ByeReason::Error,
            message: Some(awkward.into()),
        }),
        Incoming::Bye(Bye {
            reason: ByeReason::Done,
            message: None,
        }),
        Incoming::Unknown(awkward.into()),
    ];
    for msg in incoming {
        let json = msg.to_json();
        assert_eq!(Incoming::parse(&json), Ok(msg), "{json}");
    }
    let outgoing = [
        Outgoing::Listening(Format::Pcm16000),
        Outgoing::Sending(Format::Alaw),
        Outgoing::Audio(AudioData::encode(&[9; 7])),
        Outgoing::Interrupt,
        Outgoing::Sync,
        Outgoing::Bye,
        Outgoing::Unknown("x".into()),
    ];
    for msg in outgoing {
        let json = msg.to_json();
        assert_eq!(Outgoing::parse(&json), Ok(msg), "{json}");
    }
    assert_eq!(Outgoing::Bye.to_json(), r#"{"t":"bye"}"#);
    assert_eq!(
        Outgoing::Sending(Format::Pcm24000).to_json(),
        r#"{"t":"sending","format":"pcm_24000"}"#
    );
}

#[test]
fn audio_base64_is_standard_and_padded() {
    let mut out = String::new();
    write_audio_json(&[0xfb, 0xff], &mut out);
    assert_eq!(out, r#"{"t":"audio","data":"+/8="}"#);
    let mut buf = vec![7u8; 3];
    AudioData::from_base64("+/8=")
        .decode_into(&mut buf)
        .expect("valid");
    assert_eq!(buf, [0xfb, 0xff]);
    // URL-safe alphabet, missing padding, junk: all refused.
    for bad in ["-_8=", "+/8", "+/8=x", "!!!!", "AAE=AAE="] {
        let got = AudioData::from_base64(bad).decode_into(&mut buf);
        assert_eq!(got.map_err(|e| e.code()), Err("WS_BAD_BASE64"), "{bad}");
    }
    // An escaped slash is still base64 once JSON is decoded.
    let parsed = Incoming::parse(r#"{"t":"audio","data":"+\/8="}"#);
    assert_eq!(parsed, Ok(Incoming::Audio(AudioData::from_base64("+/8="))));
}

#[test]
fn parsers_do_not_panic_on_prefixes() {
    let texts = [
        r#"{"t":"hello","callid":"c13d1e772","from":"+46701234567","to":"+46766861234"}"#,
        r#"{"t":"bye","reason":"hangup","message":"the caller hung up \u00e9"}"#,
        r#"{"t":"listening","format":"pcm_24000"}"#,
    ];
    for text in texts {
        for end in 0..=text.len() {
            if let Some(prefix) = text.get(..end) {
                let _ = Incoming::parse(prefix);
                let _ = Outgoing::parse(prefix);
            }
        }
    }
}

/// What a message writes parses back to the same message (the property the `elks_message`
/// fuzz target checks on arbitrary frames), for frames built from the protocol's own
/// pieces with arbitrary, escaped and non-ASCII text in every string.
mod round_trip {
    use proptest::prelude::*;

    use super::*;

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9+]{0,20}",
            any::<String>(),
            Just("\"\\/\u{1}\u{e9}\u{1F600}".to_owned()),
        ]
    }

    fn frame() -> impl Strategy<Value = String> {
        let json = |s: &str| serde_json::to_string(s).expect("json string");
        prop_oneof![
            (text(), text(), text()).prop_map(move |(c, f, t)| format!(
                r#"{{"t":"hello","callid":{},"from":{},"to":{}}}"#,
                json(&c),
                json(&f),
                json(&t)
            )),
            (
                prop_oneof![Just("done"), Just("hangup"), Just("error")],
                proptest::option::of(text())
            )
                .prop_map(move |(r, m)| match m {
                    Some(m) => format!(r#"{{"t":"bye","reason":"{r}","message":{}}}"#, json(&m)),
                    None => format!(r#"{{"t":"bye","reason":"{r}"}}"#),
                }),
            "[A-Za-z0-9+/]{0,16}={0,2}".prop_map(|d| format!(r#"{{"t":"audio","data":"{d}"}}"#)),
            text().prop_map(move |t| format!(r#"{{"t":{}}}"#, json(&t))),
            prop_oneof![
                Just("pcm_8000"),
                Just("pcm_16000"),
                Just("pcm_24000"),
                Just("ulaw"),
                Just("alaw"),
                Just("opus")
            ]
            .prop_map(|f| format!(r#"{{"t":"listening","format":"{f}"}}"#)),
            any::<String>(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn written_messages_parse_back_the_same(frame in frame()) {
            if let Ok(message) = Incoming::parse(&frame) {
                let json = message.to_json();
                prop_assert_eq!(Incoming::parse(&json), Ok(message), "{}", json);
            }
            if let Ok(message) = Outgoing::parse(&frame) {
                let json = message.to_json();
                prop_assert_eq!(Outgoing::parse(&json), Ok(message), "{}", json);
            }
        }
    }
}

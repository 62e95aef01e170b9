use super::*;

#[test]
fn hello_emits_listening_then_sending() {
    let clock = Clock::new();
    for (listen, send) in [
        (Format::Pcm16000, Format::Pcm16000),
        (Format::Ulaw, Format::Pcm24000),
        (Format::Alaw, Format::Pcm8000),
    ] {
        let mut s = Session::new(config(listen, send));
        s.handle_text(clock.at(0), HELLO);
        assert_eq!(
            summary(&mut s),
            [
                "hello c13d1e772 +46701234567 +46766861234".to_owned(),
                format!(r#"{{"t":"listening","format":"{listen}"}}"#),
                format!(r#"{{"t":"sending","format":"{send}"}}"#),
            ]
        );
        assert_eq!(s.callid(), Some("c13d1e772"));
    }
}

/// A ramp that survives every codec: G.711 decoder outputs.
fn signal(n: usize, format: Format) -> Vec<i16> {
    (0..n)
        .map(|i| {
            let code = (i * 7 % 256) as u8;
            match format.law() {
                Some(_) => voxgate_media::g711::ulaw_decode(code),
                None => (i as i16).wrapping_mul(257),
            }
        })
        .collect()
}

#[test]
fn caller_audio_is_reframed_from_any_chunk_size() {
    let clock = Clock::new();
    for format in [Format::Pcm16000, Format::Ulaw, Format::Pcm8000] {
        let per_frame = format.samples_per_frame();
        let samples = signal(per_frame * 7 + 33, format);
        let mut bytes = vec![0u8; samples.len() * format.bytes_per_sample()];
        format.encode(&samples, &mut bytes).expect("sized");
        for chunk in [1, 37, 321, 1000, bytes.len()] {
            let mut s = active(config(format, Format::Pcm16000), clock.at(0));
            let mut got = Vec::new();
            for (i, piece) in bytes.chunks(chunk).enumerate() {
                s.handle_text(clock.at(i as u64), &audio_msg(piece));
                for o in drain(&mut s) {
                    let Output::Event(Event::CallerAudio(frame)) = o else {
                        panic!("unexpected {o:?}");
                    };
                    assert_eq!(frame.rate(), format.rate());
                    assert_eq!(
                        frame.time().samples() as usize,
                        got.len(),
                        "{format} {chunk}"
                    );
                    got.extend_from_slice(frame.samples());
                    s.recycle(frame);
                }
            }
            assert_eq!(got.len(), per_frame * 7, "{format} chunk {chunk}");
            assert_eq!(got, samples[..got.len()], "{format} chunk {chunk}");
            assert_eq!(s.frame_allocations(), 0, "recycled frames are reused");
        }
    }
}

#[test]
fn a_half_sample_waits_for_its_other_byte() {
    let clock = Clock::new();
    let mut s = active(config(Format::Pcm8000, Format::Pcm8000), clock.at(0));
    let mut bytes = vec![0u8; 320];
    Format::Pcm8000
        .encode(&[0x1234; 160], &mut bytes)
        .expect("sized");
    let table: [(&[u8], usize); 5] = [
        (&bytes[..1], 0),
        (&[], 0),
        (&bytes[1..318], 0),
        (&bytes[318..319], 0),
        (&bytes[319..], 1),
    ];
    for (piece, frames) in table {
        s.handle_text(clock.at(1), &audio_msg(piece));
        let out = drain(&mut s);
        assert_eq!(out.len(), frames, "after {} bytes", piece.len());
        if let Some(Output::Event(Event::CallerAudio(f))) = out.first() {
            assert!(f.samples().iter().all(|&x| x == 0x1234));
        }
    }
}

#[test]
fn incoming_sync_is_never_echoed() {
    let clock = Clock::new();
    let mut s = active(SessionConfig::default(), clock.at(0));
    for ms in [10, 20, 30] {
        s.handle_text(clock.at(ms), r#"{"t":"sync"}"#);
        assert!(drain(&mut s).is_empty());
    }
}

#[test]
fn unknown_types_are_ignored() {
    let clock = Clock::new();
    let mut s = Session::new(SessionConfig::default());
    s.handle_text(clock.at(0), r#"{"t":"dtmf","digit":"1"}"#);
    s.handle_text(clock.at(0), HELLO);
    s.handle_text(clock.at(0), r#"{"t":"call_started","x":{}}"#);
    assert_eq!(summary(&mut s).len(), 3, "hello, listening, sending only");
    assert!(!s.is_ended());
}

#[test]
fn bad_input_ends_the_session_with_a_typed_error() {
    let clock = Clock::new();
    let big = format!(r#"{{"t":"audio","data":"{}"}}"#, "A".repeat(128));
    let table: Vec<(bool, Input<'_>, &str)> = vec![
        (true, Input::Text("{not json"), "WS_INVALID_JSON"),
        (
            true,
            Input::Text(r#"{"t":"audio","data":"AA="}"#),
            "WS_BAD_BASE64",
        ),
        (
            true,
            Input::Text(r#"{"t":"audio","data":"!"}"#),
            "WS_BAD_BASE64",
        ),
        (
            false,
            Input::Text(r#"{"t":"audio","data":"AAAA"}"#),
            "WS_AUDIO_BEFORE_HELLO",
        ),
        (true, Input::Text(HELLO), "WS_DUPLICATE_HELLO"),
        (true, Input::Text(&big), "WS_MESSAGE_TOO_LARGE"),
        (true, Input::TooLarge { len: None }, "WS_MESSAGE_TOO_LARGE"),
        (false, Input::Binary { len: 3 }, "WS_BINARY_FRAME"),
        (true, Input::Text(r#"{"t":"hello"}"#), "WS_INVALID_MESSAGE"),
        (
            true,
            Input::Text(r#"{"t":"bye","reason":7}"#),
            "WS_INVALID_MESSAGE",
        ),
        (true, Input::Text(r#"["t","sync"]"#), "WS_INVALID_MESSAGE"),
        (true, Input::Closed, "WS_SOCKET_LOST"),
    ];
    for (after_hello, input, code) in table {
        let cfg = SessionConfig {
            max_message_bytes: 100,
            ..SessionConfig::default()
        };
        let mut s = Session::new(cfg);
        if after_hello {
            s.handle_text(clock.at(0), HELLO);
            drain(&mut s);
        }
        s.handle(clock.at(1), input);
        assert_eq!(
            summary(&mut s),
            [format!("ended error - {code}"), "close".into()],
            "{input:?}"
        );
        assert!(s.is_ended());
        assert_eq!(s.poll_timeout(), None);
        // Ended stays ended: nothing more comes out, whatever goes in.
        s.handle_text(clock.at(2), HELLO);
        s.handle_text(clock.at(2), r#"{"t":"bye","reason":"done"}"#);
        s.handle(clock.at(2), Input::Closed);
        s.handle_timeout(clock.at(100_000));
        s.interrupt(clock.at(2));
        s.hangup(clock.at(2));
        assert!(drain(&mut s).is_empty(), "{input:?}");
        assert_eq!(
            s.send_audio(clock.at(2), &[0; 320]),
            Err(BridgeError::NotActive)
        );
    }
}

#[test]
fn carrier_bye_ends_once_then_closes() {
    let clock = Clock::new();
    let table = [
        (
            r#"{"t":"bye","reason":"hangup","message":"the caller hung up"}"#,
            "ended hangup the caller hung up -",
        ),
        (r#"{"t":"bye","reason":"done"}"#, "ended done - -"),
        (
            r#"{"t":"bye","reason":"error","message":"boom"}"#,
            "ended error boom -",
        ),
    ];
    for (bye, ended) in table {
        let mut s = active(SessionConfig::default(), clock.at(0));
        s.handle_text(clock.at(5), bye);
        assert_eq!(summary(&mut s), [ended, "close"]);
        s.handle_text(clock.at(6), bye);
        s.handle_closed(clock.at(7));
        assert!(drain(&mut s).is_empty());
    }
}

#[test]
fn idle_timeout() {
    let clock = Clock::new();
    let mut s = Session::new(SessionConfig::default());
    assert_eq!(s.poll_timeout(), None, "not armed before start or input");
    s.start(clock.at(0));
    assert_eq!(s.poll_timeout(), Some(clock.at(30_000)));
    s.handle_text(clock.at(10_000), HELLO);
    drain(&mut s);
    assert_eq!(
        s.poll_timeout(),
        Some(clock.at(40_000)),
        "any message re-arms"
    );
    s.handle_timeout(clock.at(39_999));
    assert!(drain(&mut s).is_empty());
    s.handle_timeout(clock.at(40_000));
    assert_eq!(summary(&mut s), ["ended error - WS_IDLE_TIMEOUT", "close"]);
    assert_eq!(s.poll_timeout(), None);
}

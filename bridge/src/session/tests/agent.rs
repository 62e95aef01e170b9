use super::*;

const SYNC: &str = r#"{"t":"sync"}"#;

fn ulaw_silence_msg() -> String {
    audio_msg(&[0xff; 160])
}

/// 100 ms cap, checkpoints every 40 ms of audio, ulaw out.
fn small_buffer() -> SessionConfig {
    SessionConfig {
        send_format: Format::Ulaw,
        max_buffered: Duration::from_millis(100),
        sync_interval: Duration::from_millis(40),
        ..SessionConfig::default()
    }
}

#[test]
fn audio_checkpoints_and_the_buffer_cap() {
    let clock = Clock::new();
    let mut s = active(small_buffer(), clock.at(0));
    let frame = [0i16; 160];
    let audio = ulaw_silence_msg();
    // Five frames fit at once; a sync follows every second one.
    for i in 0..5 {
        assert_eq!(s.send_audio(clock.at(0), &frame), Ok(()));
        let mut expected = vec![audio.clone()];
        if i % 2 == 1 {
            expected.push(SYNC.into());
        }
        assert_eq!(summary(&mut s), expected, "frame {i}");
    }
    assert!(!s.can_send(clock.at(0)));
    assert_eq!(s.outbound_room(clock.at(0)), Duration::ZERO);
    assert_eq!(s.next_send_at(clock.at(0)), clock.at(20));
    let full = s.send_audio(clock.at(0), &frame);
    assert_eq!(full.map_err(|e| e.code()), Err("WS_BUFFER_FULL"));
    assert!(drain(&mut s).is_empty(), "a refused frame sends nothing");
    // The carrier plays in real time: room grows with the clock...
    let table = [
        (10, 10, false),
        (20, 20, true),
        (50, 50, true),
        (100, 100, true),
    ];
    for (ms, room, can) in table {
        assert_eq!(s.outbound_room(clock.at(ms)), Duration::from_millis(room));
        assert_eq!(s.can_send(clock.at(ms)), can, "at {ms} ms");
    }
    // ... and shrinks with what is sent.
    s.send_audio(clock.at(20), &frame).expect("room");
    assert_eq!(summary(&mut s), [audio, SYNC.to_owned()]);
    assert_eq!(s.outbound_room(clock.at(20)), Duration::ZERO);
    // The first checkpoint (40 ms of audio) is acked late, at 70 ms: playback started 30 ms
    // after we thought, so 120 - 40 = 80 ms is still buffered, not the 50 wall time says.
    s.handle_text(clock.at(70), SYNC);
    assert!(drain(&mut s).is_empty(), "never echoed");
    assert_eq!(s.buffered(clock.at(70)), Duration::from_millis(80));
    assert_eq!(s.outbound_room(clock.at(70)), Duration::from_millis(20));
}

#[test]
fn a_frame_always_fits_an_empty_buffer() {
    let clock = Clock::new();
    let cfg = SessionConfig {
        max_buffered: Duration::from_millis(5),
        ..small_buffer()
    };
    let mut s = active(cfg, clock.at(0));
    assert_eq!(s.send_audio(clock.at(0), &[0; 160]), Ok(()));
    assert!(!s.can_send(clock.at(10)));
    assert!(s.can_send(clock.at(20)));
}

#[test]
fn interrupt_then_sending_before_the_next_audio() {
    let clock = Clock::new();
    let mut s = active(small_buffer(), clock.at(0));
    let frame = [0i16; 160];
    for _ in 0..5 {
        s.send_audio(clock.at(0), &frame).expect("room");
    }
    drain(&mut s);
    s.interrupt(clock.at(10));
    assert_eq!(summary(&mut s), [r#"{"t":"interrupt"}"#]);
    assert_eq!(
        s.buffered(clock.at(10)),
        Duration::ZERO,
        "buffer estimate reset"
    );
    s.send_audio(clock.at(10), &frame)
        .expect("room after interrupt");
    s.send_audio(clock.at(10), &frame)
        .expect("room after interrupt");
    let audio = ulaw_silence_msg();
    assert_eq!(
        summary(&mut s),
        [
            r#"{"t":"sending","format":"ulaw"}"#.to_owned(),
            audio.clone(),
            audio,
            SYNC.into()
        ],
        "one sending, then audio; checkpoints restart from the interrupt"
    );
    // A carrier that answers the two pending pre-interrupt syncs at once: no correction.
    s.handle_text(clock.at(15), SYNC);
    s.handle_text(clock.at(16), SYNC);
    assert_eq!(s.buffered(clock.at(16)), Duration::from_millis(34));
    // The answer to the new checkpoint, when its audio has played.
    s.handle_text(clock.at(60), SYNC);
    assert_eq!(s.buffered(clock.at(60)), Duration::ZERO);
    assert!(drain(&mut s).is_empty());
}

#[test]
fn interrupt_and_audio_need_an_active_session() {
    let clock = Clock::new();
    let mut s = Session::new(small_buffer());
    s.interrupt(clock.at(0));
    assert!(drain(&mut s).is_empty());
    assert_eq!(
        s.send_audio(clock.at(0), &[0; 160]),
        Err(BridgeError::NotActive)
    );
    assert!(!s.can_send(clock.at(0)));
    s.handle_text(clock.at(0), HELLO);
    drain(&mut s);
    let short = s.send_audio(clock.at(0), &[0; 159]);
    assert_eq!(short.map_err(|e| e.code()), Err("WS_MEDIA"));
}

#[test]
fn hangup_drains_until_the_carrier_bye() {
    let clock = Clock::new();
    let mut s = active(small_buffer(), clock.at(0));
    s.send_audio(clock.at(0), &[0; 160]).expect("room");
    drain(&mut s);
    s.hangup(clock.at(100));
    assert_eq!(summary(&mut s), [r#"{"t":"bye"}"#]);
    assert_eq!(s.poll_timeout(), Some(clock.at(5_100)));
    // Draining: nothing more goes out.
    s.hangup(clock.at(101));
    s.interrupt(clock.at(101));
    assert_eq!(
        s.send_audio(clock.at(101), &[0; 160]),
        Err(BridgeError::NotActive)
    );
    assert!(drain(&mut s).is_empty());
    // Caller audio and syncs still arrive and are handled.
    s.handle_text(clock.at(102), &audio_msg(&[0; 640]));
    assert_eq!(summary(&mut s), ["frame @0"]);
    s.handle_text(clock.at(103), SYNC);
    s.handle_text(clock.at(200), r#"{"t":"bye","reason":"done"}"#);
    assert_eq!(summary(&mut s), ["ended done - -", "close"]);
}

#[test]
fn hangup_bye_timeout_and_lost_socket() {
    let clock = Clock::new();
    let mut s = active(small_buffer(), clock.at(0));
    s.hangup(clock.at(100));
    drain(&mut s);
    s.handle_timeout(clock.at(5_099));
    assert!(drain(&mut s).is_empty());
    s.handle_timeout(clock.at(5_100));
    assert_eq!(summary(&mut s), ["ended done - WS_BYE_TIMEOUT", "close"]);

    let mut s = active(small_buffer(), clock.at(0));
    s.hangup(clock.at(100));
    drain(&mut s);
    s.handle_closed(clock.at(200));
    assert_eq!(summary(&mut s), ["ended done - WS_SOCKET_LOST", "close"]);

    // Hanging up before hello is allowed: the socket is open.
    let mut s = Session::new(small_buffer());
    s.hangup(clock.at(0));
    assert_eq!(summary(&mut s), [r#"{"t":"bye"}"#]);
}

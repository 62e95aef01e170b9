//! The 46elks webhook forms and timestamps (`voxgate_control_api::carrier`): every parser
//! either refuses the bytes with a typed error or returns values that hold their
//! invariants — carrier ids of letters and digits, E.164 numbers, no control characters in
//! parties — and never panics.

#![no_main]

use libfuzzer_sys::fuzz_target;
use voxgate_control_api::carrier::time;
use voxgate_control_api::carrier::webhook::{DeliveryReport, Hangup, InboundSms, VoiceStart};

fn carrier_id(id: &str) -> bool {
    id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fuzz_target!(|data: &[u8]| {
    if let Ok(sms) = InboundSms::parse(data) {
        assert!(carrier_id(&sms.id) && !sms.id.is_empty());
        assert!(sms.to.as_str().starts_with('+'));
        assert!(!sms.from.chars().any(char::is_control));
    }
    if let Ok(report) = DeliveryReport::parse(data) {
        assert!(carrier_id(&report.id));
    }
    if let Ok(call) = VoiceStart::parse(data) {
        assert!(carrier_id(&call.callid));
        assert!(!call.from.chars().any(char::is_control));
    }
    if let Ok(hangup) = Hangup::parse(data) {
        assert!(carrier_id(&hangup.callid));
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(ms) = time::parse(text) {
            // What parses formats back to the same instant (to the millisecond).
            assert_eq!(time::parse(&time::format(ms)), Some(ms));
        }
    }
});

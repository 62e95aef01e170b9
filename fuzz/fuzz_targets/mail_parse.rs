//! `voxgate_mail::inbound::parse` never panics on any bytes; what it reads has ids without
//! angle brackets, stays within the part limit, and every attachment it lists can be
//! fetched with `attachment` and is described the same way there.

#![no_main]

use libfuzzer_sys::fuzz_target;
use voxgate_mail::inbound::{Limits, attachment, parse};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_bytes: 64 * 1024,
        max_header_bytes: 16 * 1024,
        max_parts: 32,
    };
    let Ok(inbound) = parse(data, &limits) else {
        let _ = attachment(data, 0);
        return;
    };
    for id in inbound
        .message_id
        .iter()
        .chain(&inbound.in_reply_to)
        .chain(&inbound.references)
    {
        assert!(!id.starts_with('<') && !id.ends_with('>'), "{id:?}");
    }
    assert!(inbound.attachments.len() <= limits.max_parts);
    for listed in &inbound.attachments {
        let (info, bytes) = attachment(data, listed.index)
            .expect("a readable message stays readable")
            .expect("a listed attachment exists");
        assert_eq!(&info, listed);
        assert_eq!(bytes.len(), info.size);
    }
    assert_eq!(
        attachment(data, inbound.attachments.len()).expect("readable"),
        None
    );
    if let Some(bounce) = &inbound.bounce {
        assert!(inbound.auto_submitted);
        for recipient in &bounce.recipients {
            assert!(!recipient.permanent || recipient.status.starts_with('5'));
        }
    }
});

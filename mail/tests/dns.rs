//! TXT lookups against a real DNS server (dnsmasq, see `voxgate_testdata::mail::dnsmasq`).

use voxgate_mail::MailError;
use voxgate_mail::dns::TxtResolver;
use voxgate_testdata::mail::dnsmasq::Dnsmasq;
use voxgate_testdata::mail::free_udp_port;

#[tokio::test]
async fn txt_records_come_back_whole_and_unknown_names_are_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dns = Dnsmasq::start(
        dir.path(),
        &[
            ("_voxgate.example.test", "voxgate-verification=abc123"),
            (
                "_voxgate.example.test",
                "v=spf1 include:voxgate.test, \"quoted\" -all",
            ),
        ],
    )
    .expect("dnsmasq");
    let resolver = TxtResolver::at(dns.addr());

    let mut texts = resolver.txt("_voxgate.example.test").await.expect("lookup");
    texts.sort();
    assert_eq!(
        texts,
        [
            "v=spf1 include:voxgate.test, \"quoted\" -all",
            "voxgate-verification=abc123",
        ]
    );
    // An absolute name is the same name.
    assert_eq!(
        resolver
            .txt("_voxgate.example.test.")
            .await
            .expect("lookup")
            .len(),
        2
    );
    // NXDOMAIN and "no TXT here" are both just empty.
    assert!(
        resolver
            .txt("nothing.example.test")
            .await
            .expect("lookup")
            .is_empty()
    );
    assert!(
        resolver
            .txt("example.test")
            .await
            .expect("lookup")
            .is_empty()
    );
}

#[tokio::test]
async fn a_server_that_does_not_answer_is_an_error() {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], free_udp_port()));
    match TxtResolver::at(addr).txt("_voxgate.example.test").await {
        Err(MailError::Dns { name, .. }) => assert_eq!(name, "_voxgate.example.test"),
        other => panic!("expected Dns, got {other:?}"),
    }
}

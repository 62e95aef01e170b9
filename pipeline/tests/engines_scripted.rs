//! The scripted brain: rule matching, streaming and validation of the rules file.

use futures::StreamExt as _;
use voxgate_pipeline::PipelineError;
use voxgate_pipeline::engines::ScriptedBrain;
use voxgate_pipeline::engines::scripted::Answer;
use voxgate_pipeline::providers::{Brain, BrainEvent, Message, Role};

const RULES: &str = r#"
fallback = "Sorry, I did not catch that."

[[rule]]
when = ["opening hours", "when are you open"]
reply = "We are open from nine to five."

[[rule]]
when = ["hello", "hi"]
reply = "Hello! How can I help?"

[[rule]]
when = ["that's all", "goodbye", "bye"]
reply = "Goodbye, and thank you for calling."
hangup = true

[[rule]]
when = ["open"]
reply = "Something is open."
"#;

fn brain() -> ScriptedBrain {
    ScriptedBrain::from_toml_str(RULES).expect("valid rules")
}

#[test]
fn matches_rules_in_order_on_whole_words() {
    let fallback = ("Sorry, I did not catch that.", false);
    let hours = ("We are open from nine to five.", false);
    let hello = ("Hello! How can I help?", false);
    let bye = ("Goodbye, and thank you for calling.", true);
    let cases = [
        ("What are your OPENING hours?", hours),
        ("When are you open, please?", hours),
        ("Hello.", hello),
        ("hi there", hello),
        ("This is high", fallback),  // "hi" is not a word of "high"
        ("Thats all, thanks!", bye), // apostrophes are ignored on both sides
        ("That's all.", bye),
        ("okay bye", bye),
        ("Hi, that's all", hello), // the first rule that matches wins
        ("opening", fallback),     // "open" is not a word of "opening"
        ("Is the shop open?", ("Something is open.", false)),
        ("hours opening", fallback), // phrase words must be in order
        ("", fallback),
        ("?!", fallback),
    ];
    let brain = brain();
    for (message, (reply, hangup)) in cases {
        assert_eq!(
            brain.answer(message),
            Answer { reply, hangup },
            "{message:?}"
        );
    }
}

#[tokio::test]
async fn streams_the_reply_word_by_word_then_hangs_up() {
    let history = [
        Message::new(Role::System, "You are a shop."),
        Message::new(Role::User, "Hello"),
        Message::new(Role::Assistant, "Hello! How can I help?"),
        Message::new(Role::User, "No, that's all. Bye!"),
    ];
    let events: Vec<BrainEvent> = brain()
        .reply(&history)
        .map(|e| e.expect("event"))
        .collect()
        .await;
    let expected: Vec<BrainEvent> = ["Goodbye,", " and", " thank", " you", " for", " calling."]
        .into_iter()
        .map(|w| BrainEvent::Text(w.to_owned()))
        .chain([BrainEvent::Hangup])
        .collect();
    assert_eq!(events, expected);
}

#[tokio::test]
async fn answers_the_latest_caller_message_only() {
    let history = [
        Message::new(Role::User, "goodbye"),
        Message::new(Role::Assistant, "hello"),
        Message::new(Role::User, "hi"),
    ];
    let text: String = brain()
        .reply(&history)
        .map(|e| match e.expect("event") {
            BrainEvent::Text(t) => t,
            BrainEvent::Hangup => panic!("no hangup"),
        })
        .collect()
        .await;
    assert_eq!(text, "Hello! How can I help?");
}

#[test]
fn invalid_rules_are_config_errors_naming_the_key() {
    let cases = [
        ("fallback = ", "rules"),                               // bad TOML
        ("[[rule]]\nwhen = [\"a\"]\nreply = \"b\"\n", "rules"), // no fallback
        ("fallback = \"x\"\nfallbak = \"y\"\n", "rules"),       // unknown key
        ("fallback = \" \"\n", "fallback"),
        (
            "fallback = \"x\"\n[[rule]]\nwhen = []\nreply = \"b\"\n",
            "rule[0].when",
        ),
        (
            "fallback = \"x\"\n[[rule]]\nwhen = [\"a\"]\nreply = \"b\"\n[[rule]]\nwhen = [\"ok\", \"?!\"]\nreply = \"c\"\n",
            "rule[1].when[1]",
        ),
        (
            "fallback = \"x\"\n[[rule]]\nwhen = [\"a\"]\nreply = \"\"\n",
            "rule[0].reply",
        ),
        (
            "fallback = \"x\"\n[[rule]]\nwhen = [\"a\"]\nreply = 3\n",
            "rules",
        ),
    ];
    for (text, expected_key) in cases {
        let err = ScriptedBrain::from_toml_str(text).expect_err(text);
        assert!(
            matches!(&err, PipelineError::Config { key, .. } if key == expected_key),
            "{text:?}: {err:?}"
        );
    }
}

#[test]
fn a_hangup_rule_may_have_an_empty_reply() {
    let brain = ScriptedBrain::from_toml_str(
        "fallback = \"x\"\n[[rule]]\nwhen = [\"bye\"]\nreply = \"\"\nhangup = true\n",
    )
    .expect("valid");
    assert_eq!(
        brain.answer("bye"),
        Answer {
            reply: "",
            hangup: true
        }
    );
}

#[test]
fn reads_a_rules_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("rules.toml");
    std::fs::write(&path, RULES).expect("write");
    assert_eq!(ScriptedBrain::from_path(&path).expect("valid"), brain());

    std::fs::write(&path, "fallback = \"\"\n").expect("write");
    let err = ScriptedBrain::from_path(&path).expect_err("empty fallback");
    let expected = format!("{}: fallback", path.display());
    assert!(
        matches!(&err, PipelineError::Config { key, .. } if *key == expected),
        "{err:?}"
    );

    let missing = dir.path().join("missing.toml");
    let err = ScriptedBrain::from_path(&missing).expect_err("missing");
    assert!(matches!(err, PipelineError::Config { .. }), "{err:?}");
}

#[test]
fn toml_errors_say_where() {
    let err =
        ScriptedBrain::from_toml_str("fallback = \"x\"\n[[rule]]\nwhen = [\"a\"]\nrepl = \"b\"\n")
            .expect_err("unknown key");
    let text = err.to_string();
    assert!(text.contains("repl") && text.contains("line"), "{text}");
}

#[tokio::test]
async fn again_answers_a_question_the_caller_asked_before() {
    let brain = ScriptedBrain::from_toml_str(
        r#"
fallback = "Sorry?"
[[rule]]
when = ["price"]
reply = "Fifty crowns."
again = "As I said, fifty crowns."
[[rule]]
when = ["hello"]
reply = "Hello!"
"#,
    )
    .expect("valid rules");
    assert_eq!(brain.answer_in("the price?", &[]).reply, "Fifty crowns.");
    assert_eq!(
        brain.answer_in("the price?", &["hello"]).reply,
        "Fifty crowns."
    );
    assert_eq!(
        brain.answer_in("price again", &["what price"]).reply,
        "As I said, fifty crowns."
    );
    assert_eq!(
        brain.answer_in("hello", &["hello"]).reply,
        "Hello!",
        "no again: reply"
    );
    // Through `reply`: an earlier call's messages in the history count.
    let history = [
        Message::new(Role::System, "You are a shop."),
        Message::new(Role::User, "What is the price?"),
        Message::new(Role::Assistant, "Fifty crowns."),
        Message::new(Role::User, "The price, once more?"),
    ];
    let reply: Vec<_> = brain.reply(&history).collect().await;
    let text: String = reply
        .into_iter()
        .map(|e| match e.expect("event") {
            BrainEvent::Text(t) => t,
            BrainEvent::Hangup => String::new(),
        })
        .collect();
    assert_eq!(text, "As I said, fifty crowns.");
}

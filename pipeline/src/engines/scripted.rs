//! A deterministic brain that answers from a rules file: for tests, demos and simple IVRs.
//!
//! The rules are TOML:
//!
//! ```toml
//! # Said when no rule matches (required).
//! fallback = "Sorry, I did not catch that. Could you say it again?"
//!
//! # Rules are tried in order; the first whose `when` matches wins.
//! [[rule]]
//! when = ["opening hours", "when are you open"]
//! reply = "We are open from nine to five, Monday to Friday."
//!
//! [[rule]]
//! when = ["price", "cost"]
//! reply = "A visit costs fifty crowns."
//! again = "As I said before, fifty crowns."  # optional: when the caller asked before
//!
//! [[rule]]
//! when = ["bye", "goodbye", "that's all"]
//! reply = "Goodbye!"
//! hangup = true   # end the call once the reply has been spoken
//! ```
//!
//! A `when` entry matches when its words appear consecutively, as whole words, in the
//! caller's latest message. Matching ignores case and punctuation; apostrophes are dropped
//! (`that's` is `thats`), every other non-alphanumeric character separates words.
//!
//! `again`, if given, replaces `reply` when an earlier caller message in the conversation
//! matched the same rule. The conversation includes earlier calls of the same caller with
//! the same agent (the thread the control API keeps), so `again` is how a scripted agent
//! shows that it remembers.
//!
//! The reply streams as [`BrainEvent::Text`] pieces, one word each (with the space before
//! it), with no delay, followed by [`BrainEvent::Hangup`] if the rule says so. Nothing here
//! is random or timed, so tests can assert on exact replies.
//!
//! # Costs
//!
//! Matching scans every rule's phrases against the message's words: microseconds for files
//! of a few dozen rules. The file is read and validated once.

use std::path::Path;

use futures::StreamExt as _;
use serde::Deserialize;

use crate::error::PipelineError;
use crate::providers::{BoxStream, Brain, BrainEvent, Message, Role};

/// The engine's name in errors, logs and metrics.
const NAME: &str = "scripted";

/// The rules file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    fallback: String,
    #[serde(default)]
    rule: Vec<RuleEntry>,
}

/// One `[[rule]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleEntry {
    when: Vec<String>,
    reply: String,
    #[serde(default)]
    again: Option<String>,
    #[serde(default)]
    hangup: bool,
}

/// A validated rule: its phrases already split into normalized words.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    phrases: Vec<Vec<String>>,
    reply: String,
    again: Option<String>,
    hangup: bool,
}

/// What the brain answers to a message: the reply text and whether to hang up after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer<'a> {
    /// The reply, exactly as in the rules file.
    pub reply: &'a str,
    /// Whether the call ends once the reply has been spoken.
    pub hangup: bool,
}

/// A brain that replies from an ordered list of rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptedBrain {
    rules: Vec<Rule>,
    fallback: String,
}

/// The rules used when an agent names no rules file (`engines/scripted_default.toml`): a
/// greeting, thanks, opening hours and a goodbye that hangs up.
pub const BUILTIN_RULES: &str = include_str!("scripted_default.toml");

impl ScriptedBrain {
    /// The brain with the [`BUILTIN_RULES`].
    ///
    /// # Errors
    ///
    /// None in practice: the built-in rules are checked by a test.
    pub fn builtin() -> Result<Self, PipelineError> {
        Self::from_toml_str(BUILTIN_RULES)
    }

    /// Parses and validates rules written in TOML (see the [module docs](self)).
    ///
    /// # Errors
    ///
    /// [`PipelineError::Config`] naming the offending key (`fallback`, `rule[2].when[0]`, ...)
    /// if the TOML is malformed, a key is unknown or missing, or a value is empty.
    pub fn from_toml_str(text: &str) -> Result<Self, PipelineError> {
        let file: RulesFile = toml::from_str(text).map_err(|e| PipelineError::Config {
            key: "rules".to_owned(),
            reason: e.message().to_owned() + &location(text, e.span()),
        })?;
        Self::validate(file)
    }

    /// Reads and validates the rules file at `path`.
    ///
    /// # Errors
    ///
    /// [`PipelineError::Config`] if the file cannot be read or is invalid; the key names
    /// the file and, if the content is at fault, the offending key.
    pub fn from_path(path: &Path) -> Result<Self, PipelineError> {
        let text = std::fs::read_to_string(path).map_err(|e| PipelineError::Config {
            key: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::from_toml_str(&text).map_err(|e| match e {
            PipelineError::Config { key, reason } => PipelineError::Config {
                key: format!("{}: {key}", path.display()),
                reason,
            },
            other => other,
        })
    }

    /// What the brain answers to the caller's `message`: the first matching rule, or the
    /// fallback.
    pub fn answer(&self, message: &str) -> Answer<'_> {
        self.answer_in(message, &[])
    }

    /// What the brain answers to `message` when the caller said `earlier` before (oldest
    /// first): a matching rule's `again` if one of them matched the same rule.
    pub fn answer_in(&self, message: &str, earlier: &[&str]) -> Answer<'_> {
        let Some(index) = self.rule_for(message) else {
            return Answer {
                reply: &self.fallback,
                hangup: false,
            };
        };
        let rule = &self.rules[index];
        let asked_before =
            rule.again.is_some() && earlier.iter().any(|m| self.rule_for(m) == Some(index));
        let reply = match (&rule.again, asked_before) {
            (Some(again), true) => again,
            _ => &rule.reply,
        };
        Answer {
            reply,
            hangup: rule.hangup,
        }
    }

    /// The index of the first rule matching `message`.
    fn rule_for(&self, message: &str) -> Option<usize> {
        let words = words(message);
        self.rules
            .iter()
            .position(|rule| rule.phrases.iter().any(|p| contains_phrase(&words, p)))
    }

    fn validate(file: RulesFile) -> Result<Self, PipelineError> {
        if file.fallback.trim().is_empty() {
            return Err(invalid("fallback", "must not be empty"));
        }
        let rules = file
            .rule
            .into_iter()
            .enumerate()
            .map(|(i, entry)| validate_rule(i, entry))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            rules,
            fallback: file.fallback,
        })
    }
}

impl Brain for ScriptedBrain {
    fn reply(&self, history: &[Message]) -> BoxStream<Result<BrainEvent, PipelineError>> {
        let mut said: Vec<&str> = history
            .iter()
            .filter(|m| m.role == Role::User)
            .map(|m| m.content.as_str())
            .collect();
        let latest = said.pop().unwrap_or("");
        let answer = self.answer_in(latest, &said);
        let mut events: Vec<_> = pieces(answer.reply)
            .map(|piece| Ok(BrainEvent::Text(piece.to_owned())))
            .collect();
        if answer.hangup {
            events.push(Ok(BrainEvent::Hangup));
        }
        futures::stream::iter(events).boxed()
    }

    fn name(&self) -> &'static str {
        NAME
    }
}

fn validate_rule(index: usize, entry: RuleEntry) -> Result<Rule, PipelineError> {
    let key = |field: &str| format!("rule[{index}].{field}");
    if entry.when.is_empty() {
        return Err(invalid(
            &key("when"),
            "must list at least one word or phrase",
        ));
    }
    let phrases = entry
        .when
        .iter()
        .enumerate()
        .map(|(j, phrase)| {
            let phrase = words(phrase);
            if phrase.is_empty() {
                Err(invalid(&key(&format!("when[{j}]")), "has no words"))
            } else {
                Ok(phrase)
            }
        })
        .collect::<Result<_, _>>()?;
    if entry.reply.trim().is_empty() && !entry.hangup {
        return Err(invalid(
            &key("reply"),
            "must not be empty unless hangup = true",
        ));
    }
    Ok(Rule {
        phrases,
        reply: entry.reply,
        again: entry.again.filter(|a| !a.trim().is_empty()),
        hangup: entry.hangup,
    })
}

/// Lower-case words: apostrophes dropped, any other non-alphanumeric character a separator.
fn words(text: &str) -> Vec<String> {
    text.chars()
        .filter(|c| !matches!(c, '\'' | '\u{2019}'))
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether `phrase` occurs as consecutive whole words in `words`.
fn contains_phrase(words: &[String], phrase: &[String]) -> bool {
    words.windows(phrase.len()).any(|w| w == phrase)
}

/// `text` cut before each word, keeping all whitespace: the pieces concatenate to `text`.
fn pieces(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let word_start = rest
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(rest.len());
        let word_end = rest[word_start..]
            .find(char::is_whitespace)
            .map_or(rest.len(), |i| word_start + i);
        let (piece, tail) = rest.split_at(word_end);
        rest = tail;
        Some(piece)
    })
}

/// ` (line L, column C)` for a byte span of `text`, or nothing.
fn location(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    let Some(start) = span.map(|s| s.start.min(text.len())) else {
        return String::new();
    };
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    format!(" (line {line}, column {column})")
}

fn invalid(key: &str, reason: &str) -> PipelineError {
    PipelineError::Config {
        key: key.to_owned(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_answer_the_demo_prompts() {
        let brain = ScriptedBrain::builtin().expect("built-in rules are valid");
        let table = [
            ("Hello world.", "Hello!", false),
            (
                "Goodbye. Thank you for trying out the Asterisk PBX.",
                "Goodbye,",
                true,
            ),
            ("Thank you for your patience", "You are welcome.", false),
            ("Press star for help", "Sorry,", false),
        ];
        for (said, starts, hangup) in table {
            let answer = brain.answer(said);
            assert!(answer.reply.starts_with(starts), "{said:?} -> {answer:?}");
            assert_eq!(answer.hangup, hangup, "{said:?}");
        }
    }

    #[test]
    fn words_ignore_case_and_punctuation() {
        let cases: [(&str, &[&str]); 5] = [
            ("Hello, World!", &["hello", "world"]),
            ("That's ALL, thanks.", &["thats", "all", "thanks"]),
            ("  ", &[]),
            ("nine-to-five", &["nine", "to", "five"]),
            ("Don\u{2019}t", &["dont"]),
        ];
        for (text, expected) in cases {
            assert_eq!(words(text), expected, "{text:?}");
        }
    }

    #[test]
    fn pieces_concatenate_to_the_text() {
        let cases: [(&str, &[&str]); 4] = [
            ("Hello there, friend.", &["Hello", " there,", " friend."]),
            (" lead  and trail ", &[" lead", "  and", " trail", " "]),
            ("one", &["one"]),
            ("", &[]),
        ];
        for (text, expected) in cases {
            let got: Vec<_> = pieces(text).collect();
            assert_eq!(got, expected, "{text:?}");
            assert_eq!(got.concat(), text);
        }
    }

    #[test]
    fn locates_a_span() {
        assert_eq!(location("a\nbc = x", Some(5..6)), " (line 2, column 4)");
        assert_eq!(location("abc", None), "");
    }
}

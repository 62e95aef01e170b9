//! The sans-IO SMTP receiver session (RFC 5321 §4.1, §4.3.2): bytes in, replies and
//! requests out. No sockets, no clock, no tasks.
//!
//! # Driving it
//!
//! ```text
//! let mut session = Session::new(&config, peer);      // queues the 220 greeting
//! loop {
//!     while let Some(output) = session.poll_output() {
//!         match output {
//!             Output::Reply(reply) => write reply.to_bytes(),
//!             Output::CheckRecipient(address) => {
//!                 session.handle_recipient(delivery.recipient(&address).await)
//!             }
//!             Output::Deliver { envelope, raw } => {
//!                 session.handle_delivered(delivery.deliver(&envelope, raw).await)
//!             }
//!             Output::Close => close the connection,
//!         }
//!     }
//!     session.handle_input(&bytes_read);  // or handle_idle_timeout() / handle_shutdown()
//! }
//! ```
//!
//! While a recipient or a message awaits its verdict the session reads no further input
//! (pipelined commands wait in its buffer), so replies always come in command order as
//! RFC 2920 requires. The driver should answer before feeding more bytes; the buffer then
//! never holds more than one read.

use std::collections::VecDeque;
use std::net::SocketAddr;

use super::command::{self, Command};
use super::data::{DataEnd, DataReader};
use super::reply::Reply;
use super::{Envelope, ListenerConfig, Verdict};

/// The longest command line, CRLF included (RFC 5321 §4.5.3.1.4).
pub const MAX_COMMAND_LINE: usize = 512;

/// Bad commands tolerated before the session gives up with `421` (RFC 5321 §4.3.2 lets a
/// server close after repeated errors; ten is generous for a human typing by hand).
pub const MAX_ERRORS: usize = 10;

/// Refused recipients a session may try before it is closed: a sender walking through
/// guessed addresses (directory harvesting) is cut off, while a real relay with a few
/// stale addresses is not.
pub const MAX_REFUSED_RECIPIENTS: usize = 20;

/// What the session wants done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Write this reply.
    Reply(Reply),
    /// Ask the [`super::Delivery`] about `RCPT TO:<address>`, then call
    /// [`Session::handle_recipient`].
    CheckRecipient(String),
    /// Hand this message to the [`super::Delivery`], then call
    /// [`Session::handle_delivered`].
    Deliver {
        /// The envelope.
        envelope: Envelope,
        /// The message as received, dot-unstuffed, CRLF line ends.
        raw: Vec<u8>,
    },
    /// Close the connection (after writing the replies before this).
    Close,
}

/// Where the conversation is.
#[derive(Debug)]
enum State {
    /// Reading command lines.
    Command,
    /// Reading message content after `354`.
    Data(DataReader),
    /// Waiting for the verdict on a recipient.
    AwaitRecipient(String),
    /// Waiting for the verdict on a message.
    AwaitDelivery,
    /// Done: nothing more is read.
    Closed,
}

/// One SMTP connection's conversation, from the greeting to `QUIT`.
#[derive(Debug)]
pub struct Session {
    hostname: String,
    max_message_bytes: usize,
    max_recipients: usize,
    peer: SocketAddr,
    state: State,
    helo: Option<String>,
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
    input: Vec<u8>,
    /// How much of `input` has been read.
    consumed: usize,
    /// Inside a command line longer than [`MAX_COMMAND_LINE`], dropping it to its end.
    discarding: bool,
    errors: usize,
    refused_recipients: usize,
    outputs: VecDeque<Output>,
}

impl Session {
    /// A new session with the client at `peer`; the `220` greeting is queued.
    pub fn new(config: &ListenerConfig, peer: SocketAddr) -> Self {
        let greeting = format!("{} ESMTP voxgate", config.hostname);
        Self {
            hostname: config.hostname.clone(),
            max_message_bytes: config.max_message_bytes,
            max_recipients: config.max_recipients,
            peer,
            state: State::Command,
            helo: None,
            mail_from: None,
            rcpt_to: Vec::new(),
            input: Vec::new(),
            consumed: 0,
            discarding: false,
            errors: 0,
            refused_recipients: 0,
            outputs: VecDeque::from([Output::Reply(Reply::plain(220, &greeting))]),
        }
    }

    /// The next thing to do, in order.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// Whether the session is over (a [`Output::Close`] has been queued).
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// Whether the session is in the middle of something a shutdown should let finish:
    /// message content or a verdict.
    pub fn is_busy(&self) -> bool {
        matches!(
            self.state,
            State::Data(_) | State::AwaitRecipient(_) | State::AwaitDelivery
        )
    }

    /// Bytes from the client.
    pub fn handle_input(&mut self, bytes: &[u8]) {
        if self.is_closed() {
            return;
        }
        self.input.extend_from_slice(bytes);
        self.advance();
    }

    /// The [`super::Delivery`]'s verdict on the recipient asked about last.
    pub fn handle_recipient(&mut self, verdict: Verdict) {
        let State::AwaitRecipient(address) = std::mem::replace(&mut self.state, State::Command)
        else {
            return;
        };
        match verdict {
            Verdict::Accept => {
                self.rcpt_to.push(address);
                self.reply(Reply::new(250, "2.1.5", "Recipient OK"));
            }
            Verdict::Reject { code, status, text } => {
                self.reply(Reply::refusal(code, &status, &text));
                self.refused_recipients += 1;
                if self.refused_recipients >= MAX_REFUSED_RECIPIENTS {
                    self.close(Reply::new(
                        421,
                        "4.7.0",
                        "Too many unknown recipients, closing connection",
                    ));
                }
            }
        }
        self.advance();
    }

    /// The [`super::Delivery`]'s verdict on the message handed over last.
    pub fn handle_delivered(&mut self, verdict: Verdict) {
        if !matches!(self.state, State::AwaitDelivery) {
            return;
        }
        self.state = State::Command;
        self.reset_transaction();
        match verdict {
            Verdict::Accept => self.reply(Reply::new(250, "2.0.0", "Message accepted")),
            Verdict::Reject { code, status, text } => {
                self.reply(Reply::refusal(code, &status, &text));
            }
        }
        self.advance();
    }

    /// The client stayed silent too long (RFC 5321 §4.5.3.2.7).
    pub fn handle_idle_timeout(&mut self) {
        self.close(Reply::new(421, "4.4.2", "Idle timeout, closing connection"));
    }

    /// The server is stopping: an idle session is told `421` and closed; a busy one
    /// ([`Session::is_busy`]) is left to finish. Returns whether it closed.
    pub fn handle_shutdown(&mut self) -> bool {
        if !self.is_busy() {
            self.close(Reply::new(421, "4.3.2", "Service shutting down"));
        }
        self.is_closed()
    }

    /// Works through the buffered input until it needs more or awaits a verdict.
    fn advance(&mut self) {
        while self.step() {}
        self.input.drain(..std::mem::take(&mut self.consumed));
    }

    /// Takes one command line or one piece of message content; `false` when nothing more
    /// can be done now.
    fn step(&mut self) -> bool {
        match &mut self.state {
            State::Data(reader) => {
                self.input.drain(..std::mem::take(&mut self.consumed));
                match reader.feed(&mut self.input) {
                    Some(end) => self.end_data(end),
                    None => return false,
                }
            }
            State::Command => match self.next_line() {
                Some(Ok(line)) => self.handle_line(&line),
                Some(Err(())) => self.error(Reply::new(500, "5.5.6", "Line too long")),
                None => return false,
            },
            State::AwaitRecipient(_) | State::AwaitDelivery | State::Closed => return false,
        }
        true
    }

    /// The next complete command line without its line end, `Err` for one that was too
    /// long, `None` when more input is needed. Lines are not removed one by one (a burst
    /// of pipelined commands would be moved again for each); `advance` drops them at once.
    fn next_line(&mut self) -> Option<Result<Vec<u8>, ()>> {
        let start = self.consumed;
        let Some(nl) = self.input[start..].iter().position(|&b| b == b'\n') else {
            if self.input.len() - start > MAX_COMMAND_LINE {
                self.discarding = true;
                self.input.clear();
                self.consumed = 0;
            }
            return None;
        };
        self.consumed = start + nl + 1;
        let line = &self.input[start..self.consumed];
        if std::mem::take(&mut self.discarding) || line.len() > MAX_COMMAND_LINE {
            return Some(Err(()));
        }
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        Some(Ok(line.to_vec()))
    }

    fn handle_line(&mut self, line: &[u8]) {
        match command::parse(line) {
            Ok(command) => self.handle_command(command),
            Err(reply) => self.error(reply),
        }
    }

    fn handle_command(&mut self, command: Command) {
        match command {
            Command::Ehlo(domain) => self.ehlo(domain),
            Command::Helo(domain) => {
                self.greeted(domain);
                let text = self.hostname.clone();
                self.reply(Reply::plain(250, &text));
            }
            Command::Mail { path, size } => self.mail(path, size),
            Command::Rcpt(address) => self.rcpt(address),
            Command::Data => self.data(),
            Command::Rset => {
                self.reset_transaction();
                self.reply(Reply::new(250, "2.0.0", "OK"));
            }
            Command::Noop => self.reply(Reply::new(250, "2.0.0", "OK")),
            Command::Quit => self.close(Reply::new(221, "2.0.0", "Bye")),
            Command::Vrfy => self.reply(Reply::new(252, "2.5.0", "Cannot VRFY, send mail")),
            Command::Help => self.reply(Reply::new(
                214,
                "2.0.0",
                "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP",
            )),
            Command::NotImplemented => {
                self.error(Reply::new(502, "5.5.1", "Command not implemented"));
            }
        }
    }

    fn ehlo(&mut self, domain: String) {
        let lines = vec![
            format!("{} greets {domain}", self.hostname),
            format!("SIZE {}", self.max_message_bytes),
            "8BITMIME".to_owned(),
            "SMTPUTF8".to_owned(),
            "PIPELINING".to_owned(),
            "ENHANCEDSTATUSCODES".to_owned(),
        ];
        self.greeted(domain);
        self.reply(Reply { code: 250, lines });
    }

    /// HELO and EHLO reset any transaction (RFC 5321 §4.1.4).
    fn greeted(&mut self, domain: String) {
        self.reset_transaction();
        self.helo = Some(domain);
    }

    fn mail(&mut self, path: String, size: Option<u64>) {
        if self.helo.is_none() {
            return self.error(Reply::new(503, "5.5.1", "Say EHLO first"));
        }
        if self.mail_from.is_some() {
            return self.error(Reply::new(503, "5.5.1", "Nested MAIL command"));
        }
        let limit = u64::try_from(self.max_message_bytes).unwrap_or(u64::MAX);
        if size.is_some_and(|size| size > limit) {
            // RFC 1870 §6.2: 552 for an estimate over the fixed limit.
            return self.reply(Reply::new(552, "5.3.4", "Message size exceeds limit"));
        }
        self.mail_from = Some(path);
        self.reply(Reply::new(250, "2.1.0", "Sender OK"));
    }

    fn rcpt(&mut self, address: String) {
        if self.mail_from.is_none() {
            return self.error(Reply::new(503, "5.5.1", "Need MAIL before RCPT"));
        }
        if self.rcpt_to.len() >= self.max_recipients {
            // RFC 5321 §4.5.3.1.10: 452 for too many recipients.
            return self.reply(Reply::new(452, "4.5.3", "Too many recipients"));
        }
        self.outputs
            .push_back(Output::CheckRecipient(address.clone()));
        self.state = State::AwaitRecipient(address);
    }

    fn data(&mut self) {
        if self.mail_from.is_none() {
            return self.error(Reply::new(503, "5.5.1", "Need MAIL command"));
        }
        if self.rcpt_to.is_empty() {
            return self.error(Reply::new(503, "5.5.1", "No valid recipients"));
        }
        self.reply(Reply::plain(354, "End data with <CR><LF>.<CR><LF>"));
        self.state = State::Data(DataReader::new(self.max_message_bytes));
    }

    fn end_data(&mut self, end: DataEnd) {
        match end {
            DataEnd::Complete(raw) => {
                let envelope = Envelope {
                    helo: self.helo.clone().unwrap_or_default(),
                    mail_from: self.mail_from.clone().unwrap_or_default(),
                    rcpt_to: self.rcpt_to.clone(),
                    peer: self.peer,
                };
                self.outputs.push_back(Output::Deliver { envelope, raw });
                self.state = State::AwaitDelivery;
            }
            DataEnd::TooBig => {
                self.state = State::Command;
                self.reset_transaction();
                self.reply(Reply::new(552, "5.3.4", "Message size exceeds limit"));
            }
        }
    }

    fn reset_transaction(&mut self) {
        self.mail_from = None;
        self.rcpt_to.clear();
    }

    fn reply(&mut self, reply: Reply) {
        self.outputs.push_back(Output::Reply(reply));
    }

    /// A refused command; too many of them end the session.
    fn error(&mut self, reply: Reply) {
        self.reply(reply);
        self.errors += 1;
        if self.errors >= MAX_ERRORS {
            self.close(Reply::new(
                421,
                "4.7.0",
                "Too many errors, closing connection",
            ));
        }
    }

    fn close(&mut self, reply: Reply) {
        if self.is_closed() {
            return;
        }
        self.reply(reply);
        self.outputs.push_back(Output::Close);
        self.state = State::Closed;
        self.input = Vec::new();
        self.consumed = 0;
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;

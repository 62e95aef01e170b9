//! What the 46elks REST API answers (reference §2), typed leniently: fields the carrier may
//! leave out are optional and unknown fields are ignored, so a new carrier field never
//! breaks a call. Costs and balances are in 1/10000 of the account currency.

use serde::Deserialize;
use serde_json::Value;

/// An SMS (`POST /sms`, `GET /sms`, `GET /sms/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Sms {
    /// `s...`.
    pub id: String,
    /// `outgoing`, `outgoing-reply` or `incoming`.
    #[serde(default)]
    pub direction: String,
    /// Sender ID or number.
    #[serde(default)]
    pub from: String,
    /// Recipient.
    #[serde(default)]
    pub to: String,
    /// Naive UTC timestamp.
    #[serde(default)]
    pub created: String,
    /// When delivered (with `Z`).
    pub delivered: Option<String>,
    /// The text; absent with `dontlog=message`.
    pub message: Option<String>,
    /// `created`, `sent`, `delivered` or `failed`.
    pub status: Option<String>,
    /// 1/10000 of the currency.
    pub cost: Option<i64>,
    /// Estimated cost, answered instead of `cost` to a dry run.
    pub estimated_cost: Option<i64>,
    /// Parts the message was split into.
    pub parts: Option<i64>,
}

/// A call (`POST /calls`, `GET /calls`, `GET /calls/{id}`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Call {
    /// `c...`.
    pub id: String,
    /// `outgoing` (placed through the API) or `incoming`.
    #[serde(default)]
    pub direction: String,
    /// Calling number.
    #[serde(default)]
    pub from: String,
    /// Called number.
    #[serde(default)]
    pub to: String,
    /// Naive UTC timestamp.
    #[serde(default)]
    pub created: String,
    /// When it was picked up.
    pub start: Option<String>,
    /// `ongoing`, `success`, `busy` or `failed`.
    #[serde(default)]
    pub state: String,
    /// Seconds.
    pub duration: Option<i64>,
    /// 1/10000 of the currency.
    pub cost: Option<i64>,
    /// The actions run, with their results.
    pub actions: Option<Value>,
    /// The call's legs.
    pub legs: Option<Value>,
}

/// A number (`POST /numbers`, `POST /numbers/{id}`, `GET /numbers/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Number {
    /// `n...`.
    pub id: String,
    /// `yes` or `no`.
    #[serde(default)]
    pub active: String,
    /// E.164; absent in a deallocation answer.
    pub number: Option<String>,
    /// ISO alpha-2 (the carrier writes it in lower case).
    pub country: Option<String>,
    /// `sms`, `mms`, `voice`.
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// Inbound SMS webhook or action.
    pub sms_url: Option<String>,
    /// Inbound call webhook or action.
    pub voice_start: Option<String>,
    /// When it was deallocated.
    pub deallocated: Option<String>,
}

/// The account (`GET /me`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Account {
    /// `u...`.
    #[serde(default)]
    pub id: String,
    /// `SEK` or `EUR`.
    #[serde(default)]
    pub currency: String,
    /// 1/10000 of the currency.
    #[serde(default)]
    pub balance: i64,
    /// The account holder's name.
    pub displayname: Option<String>,
}

/// One page of a list: pass `next` as the next request's `start` (reference §2.3).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Page<T> {
    /// The items, newest first.
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    /// Where the next page starts; absent on the last page.
    pub next: Option<String>,
}

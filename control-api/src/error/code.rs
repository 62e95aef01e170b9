//! [`ErrorCode`]: every stable code the control API answers, in one list.
//!
//! The codes are the product's contract: the interface documents name most of them
//! (`PHONE_*`, `EMAIL_*`, `WS_*`), the rest are ours and listed in `docs/control-api.md`
//! (a test checks that the two lists agree). A code never changes once published; its
//! meaning here is the one-line description clients see in the docs.

use serde::Serialize;

/// Declares [`ErrorCode`] with each code's wire name and meaning (its doc line).
macro_rules! codes {
    ($( #[doc = $doc:literal] $variant:ident = $wire:literal, )*) => {
        /// A stable, machine-readable error code (`{"error": {"code": ...}}`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( #[doc = $doc] $variant, )*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$( Self::$variant, )*];

            /// The wire name, e.g. `PHONE_INVALID_NUMBER`.
            pub const fn as_str(self) -> &'static str {
                match self { $( Self::$variant => $wire, )* }
            }

            /// What the code means, as the docs list it.
            pub fn meaning(self) -> &'static str {
                match self { $( Self::$variant => $doc.trim(), )* }
            }
        }
    };
}

codes! {
    // Authentication and request shape.
    /// No `Authorization: Bearer` header.
    AuthRequired = "AUTH_REQUIRED",
    /// The API key is unknown or malformed.
    AuthInvalidKey = "AUTH_INVALID_KEY",
    /// The key's role is below what the operation needs.
    AuthForbidden = "AUTH_FORBIDDEN",
    /// The path, or `X-Account-ID`, names another circle than the key's.
    AuthWrongCircle = "AUTH_WRONG_CIRCLE",
    /// The `X-Account-ID` header is missing.
    AccountRequired = "ACCOUNT_REQUIRED",
    /// The body is not JSON of the expected shape (unknown field, wrong type, missing field).
    InvalidBody = "INVALID_BODY",
    /// The query string does not parse or a query value is out of range.
    InvalidQuery = "INVALID_QUERY",
    /// A path parameter does not decode or holds control characters.
    InvalidPath = "INVALID_PATH",
    /// A `page_token` that this API did not give.
    InvalidPageToken = "INVALID_PAGE_TOKEN",
    /// A role name other than read, write, execute or admin.
    InvalidRole = "INVALID_ROLE",
    /// No route has this path.
    NotFound = "NOT_FOUND",
    /// The path exists but not with this HTTP method (the `Allow` header lists the methods).
    MethodNotAllowed = "METHOD_NOT_ALLOWED",
    // Circles, elements and operations.
    /// A circle name that is not 1-63 of a-z, 0-9 and -, or a reserved one.
    CircleInvalidName = "CIRCLE_INVALID_NAME",
    /// An `element_type` other than phone-number, email or websocket.
    ElementInvalidType = "ELEMENT_INVALID_TYPE",
    /// A slug that is not 1-63 of a-z, 0-9 and -.
    ElementInvalidSlug = "ELEMENT_INVALID_SLUG",
    /// Another live element of the circle has this slug.
    ElementSlugTaken = "ELEMENT_SLUG_TAKEN",
    /// No live element with this slug in the circle.
    ElementNotFound = "ELEMENT_NOT_FOUND",
    /// The element changed since it was read (a concurrent update); read it and try again.
    ElementVersionConflict = "ELEMENT_VERSION_CONFLICT",
    /// The element is disabled; enable it first.
    ElementDisabled = "ELEMENT_DISABLED",
    /// The element is deleted; it cannot be enabled or restored.
    ElementDeleted = "ELEMENT_DELETED",
    /// No version with this number in the element's history.
    ElementVersionNotFound = "ELEMENT_VERSION_NOT_FOUND",
    /// A bundle that is not an export of this API, or of another element type.
    ElementInvalidBundle = "ELEMENT_INVALID_BUNDLE",
    /// The element type has no operation of this name.
    OperationNotFound = "OPERATION_NOT_FOUND",
    /// A documented operation that only the platform the documents come from offers.
    OperationNotSupported = "OPERATION_NOT_SUPPORTED",
    // Agents, telephony REST, calls.
    /// An agent body that fails validation.
    AgentInvalid = "AGENT_INVALID",
    /// No agent with this id in the circle.
    AgentNotFound = "AGENT_NOT_FOUND",
    /// The operation needs an agent and none is named or bound.
    AgentRequired = "AGENT_REQUIRED",
    /// A provider credential body that fails validation.
    ProviderInvalid = "PROVIDER_INVALID",
    /// No provider credential with this id in the account.
    ProviderNotFound = "PROVIDER_NOT_FOUND",
    /// Numbers still use the provider credential; detach them first.
    ProviderInUse = "PROVIDER_IN_USE",
    /// The number is registered already.
    NumberExists = "NUMBER_EXISTS",
    /// No registered number with this id in the account.
    NumberNotFound = "NUMBER_NOT_FOUND",
    /// The registered number has outbound calls switched off (`outbound_enabled` false).
    NumberOutboundDisabled = "NUMBER_OUTBOUND_DISABLED",
    /// No call with this id.
    CallNotFound = "CALL_NOT_FOUND",
    /// A carrier webhook whose form is malformed; nothing changed.
    WebhookInvalid = "WEBHOOK_INVALID",
    /// A carrier webhook without a valid token.
    WebhookTokenInvalid = "WEBHOOK_TOKEN_INVALID",
    // Server.
    /// The secrets key cannot be read, so credentials can be neither stored nor used.
    SecretsUnavailable = "SECRETS_UNAVAILABLE",
    /// The secrets key file is not base64 of 32 bytes.
    SecretsKeyInvalid = "SECRETS_KEY_INVALID",
    /// The database failed; try again (the cause is logged, never returned).
    StoreFailed = "STORE_FAILED",
    /// `store.url` is neither a PostgreSQL nor a SQLite URL.
    StoreUrlInvalid = "STORE_URL_INVALID",
    // Phone numbers (the interface document's codes first).
    /// Carrier API authentication failed (invalid credentials).
    PhoneAuthFailed = "PHONE_AUTH_FAILED",
    /// Failed to send SMS via carrier API.
    PhoneSendFailed = "PHONE_SEND_FAILED",
    /// A phone number (the recipient, `phone_number`, `caller_id`, ...) is not valid E.164.
    PhoneInvalidNumber = "PHONE_INVALID_NUMBER",
    /// Carrier rejected the message (permanent failure).
    PhoneRejected = "PHONE_REJECTED",
    /// Carrier rate limit exceeded.
    PhoneRateLimited = "PHONE_RATE_LIMITED",
    /// Phone number is not provisioned or active with the carrier.
    PhoneNumberNotProvisioned = "PHONE_NUMBER_NOT_PROVISIONED",
    /// credential_ref not set or the provider it names not found.
    PhoneCredentialMissing = "PHONE_CREDENTIAL_MISSING",
    /// Failed to initiate voice call.
    PhoneCallFailed = "PHONE_CALL_FAILED",
    /// Carrier account balance insufficient for this operation.
    PhoneInsufficientBalance = "PHONE_INSUFFICIENT_BALANCE",
    /// A phone-number spec or operation input that fails validation.
    PhoneInvalidConfig = "PHONE_INVALID_CONFIG",
    /// `country` is not an ISO 3166-1 alpha-2 code in upper case.
    PhoneInvalidCountry = "PHONE_INVALID_COUNTRY",
    /// A sender ID that is not 1-11 letters, digits or spaces with a letter.
    PhoneInvalidSenderId = "PHONE_INVALID_SENDER_ID",
    /// An SMS body or spoken message of the wrong length.
    PhoneInvalidMessage = "PHONE_INVALID_MESSAGE",
    /// The element has a number already; release it first.
    PhoneAlreadyProvisioned = "PHONE_ALREADY_PROVISIONED",
    /// The element rents a number at the carrier; release it before deleting.
    PhoneNumberProvisioned = "PHONE_NUMBER_PROVISIONED",
    /// `sandbox_managed`, `elks_number_id` (and the number they hold) are set by the number operations only.
    PhoneNumberManaged = "PHONE_NUMBER_MANAGED",
    /// Calls on the number are active; try after they end.
    PhoneCallsActive = "PHONE_CALLS_ACTIVE",
    /// The carrier could not be reached for a number or account request.
    PhoneCarrierUnavailable = "PHONE_CARRIER_UNAVAILABLE",
    /// SMS is not among the number's capabilities.
    PhoneSmsDisabled = "PHONE_SMS_DISABLED",
    /// Voice is not among the number's capabilities.
    PhoneVoiceDisabled = "PHONE_VOICE_DISABLED",
    /// The server cannot place this kind of call (no Realtime URL, no mouth).
    PhoneVoiceUnavailable = "PHONE_VOICE_UNAVAILABLE",
    /// The spoken message could not be synthesized; nothing was placed.
    PhoneTtsFailed = "PHONE_TTS_FAILED",
    /// No such message audio, or its URL has expired.
    PhoneAudioNotFound = "PHONE_AUDIO_NOT_FOUND",
    /// No such SMS on this number (delivery reports: not yet stored, retry later).
    PhoneMessageNotFound = "PHONE_MESSAGE_NOT_FOUND",
    /// All sandbox numbers are leased.
    PhoneSandboxExhausted = "PHONE_SANDBOX_EXHAUSTED",
    /// The circle sent its sandbox SMS for today.
    PhoneSandboxLimit = "PHONE_SANDBOX_LIMIT",
    /// A sandbox number does not take this operation (outbound only; release_sandbox_number).
    PhoneSandboxNumber = "PHONE_SANDBOX_NUMBER",
    /// This server has no sandbox carrier account.
    PhoneSandboxUnavailable = "PHONE_SANDBOX_UNAVAILABLE",
    /// The SIP leg is not running on this server.
    PhoneSipUnavailable = "PHONE_SIP_UNAVAILABLE",
    /// No SIP credentials: no sip_credential_ref trunk and no webrtc_sip_user / webrtc_sip_pass.
    PhoneSipNotConfigured = "PHONE_SIP_NOT_CONFIGURED",
    /// The SIP registrar refused the credentials.
    PhoneSipAuthFailed = "PHONE_SIP_AUTH_FAILED",
    /// The SIP peer answered with another final failure.
    PhoneSipRefused = "PHONE_SIP_REFUSED",
    /// The SIP peer could not be reached (DNS or transport).
    PhoneSipUnreachable = "PHONE_SIP_UNREACHABLE",
    /// The SIP peer did not answer in time.
    PhoneSipTimeout = "PHONE_SIP_TIMEOUT",
    /// No free call slot or RTP port for the SIP call.
    PhoneSipBusy = "PHONE_SIP_BUSY",
    // Email (the interface document's codes first).
    /// SMTP authentication failed (invalid credentials).
    EmailAuthFailed = "EMAIL_AUTH_FAILED",
    /// Failed to send email via SMTP.
    EmailSendFailed = "EMAIL_SEND_FAILED",
    /// One or more addresses are invalid.
    EmailInvalidAddress = "EMAIL_INVALID_ADDRESS",
    /// Remote server rejected the message (permanent failure).
    EmailRejected = "EMAIL_REJECTED",
    /// SMTP rate limit exceeded.
    EmailRateLimited = "EMAIL_RATE_LIMITED",
    /// Message exceeds maximum size limit.
    EmailTooLarge = "EMAIL_TOO_LARGE",
    /// credential_ref not set or the provider it names not found.
    EmailCredentialMissing = "EMAIL_CREDENTIAL_MISSING",
    /// Domain not allowed: not a domain name, or not a platform or verified domain of the circle.
    EmailInvalidDomain = "EMAIL_INVALID_DOMAIN",
    /// Email alias already exists (on another element).
    EmailAliasExists = "EMAIL_ALIAS_EXISTS",
    /// Another circle has registered this domain.
    EmailDomainOwnedByOtherCircle = "EMAIL_DOMAIN_OWNED_BY_OTHER_CIRCLE",
    /// The circle's domain is registered but not verified yet.
    EmailDomainNotVerified = "EMAIL_DOMAIN_NOT_VERIFIED",
    /// No add_domain was made for the domain.
    EmailDomainNotRegistered = "EMAIL_DOMAIN_NOT_REGISTERED",
    /// The contact has not opted in to tracked mail.
    EmailNoConsent = "EMAIL_NO_CONSENT",
    /// The recipient is not a known contact and send_policy is known_only.
    EmailUnknownRecipient = "EMAIL_UNKNOWN_RECIPIENT",
    /// The outbox row is not in the state the operation needs.
    EmailOutboxInvalidState = "EMAIL_OUTBOX_INVALID_STATE",
    /// An email spec that fails validation.
    EmailInvalidConfig = "EMAIL_INVALID_CONFIG",
    /// A message (subject, body, headers) that fails validation.
    EmailInvalidMessage = "EMAIL_INVALID_MESSAGE",
    /// An attachment that fails validation.
    EmailInvalidAttachment = "EMAIL_INVALID_ATTACHMENT",
    /// More recipients than one message may have.
    EmailTooManyRecipients = "EMAIL_TOO_MANY_RECIPIENTS",
    /// A folder name that cannot be used.
    EmailInvalidFolder = "EMAIL_INVALID_FOLDER",
    /// A label that cannot be used (empty, too long, or a system flag).
    EmailInvalidLabel = "EMAIL_INVALID_LABEL",
    /// A consent value other than none, soft_optin or double_optin.
    EmailInvalidConsent = "EMAIL_INVALID_CONSENT",
    /// The element cannot send: no SMTP server and no platform mailbox.
    EmailNotConfigured = "EMAIL_NOT_CONFIGURED",
    /// The element has no mailbox to read.
    EmailMailboxUnavailable = "EMAIL_MAILBOX_UNAVAILABLE",
    /// The mailbox server refused the login or the command.
    EmailMailboxRefused = "EMAIL_MAILBOX_REFUSED",
    /// The mail server failed or answered something unexpected.
    EmailServerError = "EMAIL_SERVER_ERROR",
    /// The mail server could not be reached.
    EmailUnreachable = "EMAIL_UNREACHABLE",
    /// TLS with the mail server failed.
    EmailTlsFailed = "EMAIL_TLS_FAILED",
    /// The mail server did not answer in time.
    EmailTimeout = "EMAIL_TIMEOUT",
    /// The mail server deferred the message (it is retried).
    EmailDeferred = "EMAIL_DEFERRED",
    /// The circle has sent its daily cap of messages.
    EmailDailyCapReached = "EMAIL_DAILY_CAP_REACHED",
    /// The recipient is on the suppression list.
    EmailSuppressed = "EMAIL_SUPPRESSED",
    /// The address is not on the suppression list.
    EmailNotSuppressed = "EMAIL_NOT_SUPPRESSED",
    /// Removing a suppression needs a reason.
    EmailReasonRequired = "EMAIL_REASON_REQUIRED",
    /// No such message.
    EmailMessageNotFound = "EMAIL_MESSAGE_NOT_FOUND",
    /// No such folder.
    EmailFolderNotFound = "EMAIL_FOLDER_NOT_FOUND",
    /// No such attachment on the message.
    EmailAttachmentNotFound = "EMAIL_ATTACHMENT_NOT_FOUND",
    /// The address is not one of the element's.
    EmailAddressNotFound = "EMAIL_ADDRESS_NOT_FOUND",
    /// The primary address cannot be removed.
    EmailPrimaryAddress = "EMAIL_PRIMARY_ADDRESS",
    /// The circle has no such domain.
    EmailDomainNotFound = "EMAIL_DOMAIN_NOT_FOUND",
    /// The circle's managed domain cannot be removed.
    EmailDomainManaged = "EMAIL_DOMAIN_MANAGED",
    /// The domain is the platform's own.
    EmailDomainReserved = "EMAIL_DOMAIN_RESERVED",
    /// The DNS lookup failed.
    EmailDnsFailed = "EMAIL_DNS_FAILED",
    /// An unsubscribe of a message to several recipients must name the address.
    EmailUnsubscribeAddress = "EMAIL_UNSUBSCRIBE_ADDRESS",
    /// A received message that could not be fully read (stored with its problems).
    EmailMalformed = "EMAIL_MALFORMED",
    // Websocket elements.
    /// A websocket spec that fails validation.
    WsInvalidConfig = "WS_INVALID_CONFIG",
}

impl ErrorCode {
    /// The code whose wire name is `text`.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_str() == text)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<ErrorCode> for &str {
    fn eq(&self, other: &ErrorCode) -> bool {
        *self == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn codes_are_unique_upper_snake_and_described() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let wire = code.as_str();
            assert!(seen.insert(wire), "{wire} twice");
            assert!(
                wire.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
                "{wire}"
            );
            assert!(!code.meaning().is_empty(), "{wire}");
            assert_eq!(ErrorCode::parse(wire), Some(*code));
        }
        assert_eq!(ErrorCode::parse("NOPE"), None);
    }

    /// The table under `## Error codes` in `docs/control-api.md`, as `(code, meaning)`.
    fn documented() -> Vec<(String, String)> {
        let doc = include_str!("../../../docs/control-api.md");
        let section = doc
            .split("\n## Error codes\n")
            .nth(1)
            .expect("docs/control-api.md has an `## Error codes` section");
        let section = section.split("\n## ").next().unwrap_or(section);
        section
            .lines()
            .filter_map(|line| {
                let mut cells = line.strip_prefix("| `")?.splitn(2, "` | ");
                let code = cells.next()?.to_owned();
                let meaning = cells.next()?.strip_suffix(" |")?.to_owned();
                Some((code, meaning))
            })
            .collect()
    }

    #[test]
    fn the_docs_list_every_code_with_its_meaning_and_no_other() {
        let expected: Vec<(String, String)> = ErrorCode::ALL
            .iter()
            .map(|c| (c.as_str().to_owned(), c.meaning().replace('|', "\\|")))
            .collect();
        let table: String = expected
            .iter()
            .map(|(code, meaning)| format!("| `{code}` | {meaning} |\n"))
            .collect();
        assert_eq!(
            documented(),
            expected,
            "docs/control-api.md's `## Error codes` table must be, in this order:\n{table}"
        );
    }
}

-- The email element (postgres): messages both ways, the outbox, suppressions, consent,
-- the audit log, daily send counts, tracking tokens, domains and addresses.
-- Keep in step with the other dialect's 0005_email.sql.

-- Every message, both ways. An outgoing one is stored before it is attempted: 'pending'
-- (waiting for approval in the outbox), 'queued' (to send, maybe after a backoff),
-- 'sending', then 'sent' or 'failed'; 'rejected' when an operator refused the draft.
-- Incoming ones are 'received'. `raw` holds the RFC 5322 bytes (composed or received).
CREATE TABLE email_messages (
    id TEXT PRIMARY KEY,
    circle_id TEXT NOT NULL REFERENCES circles(id),
    element_id TEXT NOT NULL REFERENCES elements(id),
    direction TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    message_id TEXT NOT NULL,
    in_reply_to TEXT,
    refs TEXT NOT NULL,
    thread_id TEXT,
    sender TEXT NOT NULL,
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT,
    body_html TEXT,
    attachments TEXT NOT NULL,
    raw BYTEA NOT NULL,
    tracked BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    error_code TEXT,
    error TEXT,
    reviewed_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE INDEX email_messages_by_element ON email_messages (element_id, created_at, id);
CREATE INDEX email_messages_by_status ON email_messages (status, next_attempt_at);
CREATE INDEX email_messages_by_message_id ON email_messages (circle_id, message_id);

-- Addresses never to send to again in a circle: hard bounces, unsubscribes, complaints,
-- and entries an admin made (with the reason).
CREATE TABLE email_suppressions (
    circle_id TEXT NOT NULL REFERENCES circles(id),
    address TEXT NOT NULL,
    reason TEXT NOT NULL,
    source TEXT NOT NULL,
    detail TEXT,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (circle_id, address)
);

-- Who the circle knows, and what they agreed to: 'none', 'soft_optin', 'double_optin'.
CREATE TABLE email_contacts (
    circle_id TEXT NOT NULL REFERENCES circles(id),
    address TEXT NOT NULL,
    consent TEXT NOT NULL,
    source TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (circle_id, address)
);

-- The audit log: sent, failed, opened, clicked, bounced, suppressed, unsuppressed,
-- consent_changed, received, approved, rejected, ...
CREATE TABLE email_events (
    id TEXT PRIMARY KEY,
    circle_id TEXT NOT NULL REFERENCES circles(id),
    element_id TEXT,
    kind TEXT NOT NULL,
    message TEXT,
    address TEXT,
    detail TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX email_events_by_circle ON email_events (circle_id, created_at, id);

-- Messages accepted for sending per circle and UTC day, against the daily cap.
CREATE TABLE email_days (
    circle_id TEXT NOT NULL REFERENCES circles(id),
    day TEXT NOT NULL,
    sent BIGINT NOT NULL,
    PRIMARY KEY (circle_id, day)
);

-- Open pixels, click redirects and unsubscribe links of tracked messages, by the SHA-256
-- of the token in their URL.
CREATE TABLE email_tracking (
    token_hash TEXT PRIMARY KEY,
    message TEXT NOT NULL REFERENCES email_messages(id),
    kind TEXT NOT NULL,
    url TEXT,
    hits BIGINT NOT NULL,
    first_at BIGINT,
    last_at BIGINT
);
CREATE INDEX email_tracking_by_message ON email_tracking (message);

-- Sending domains: one circle each. `token` is the TXT value that proves control;
-- `managed` domains are the platform's own and verified from the start.
CREATE TABLE email_domains (
    id TEXT PRIMARY KEY,
    circle_id TEXT NOT NULL REFERENCES circles(id),
    domain TEXT NOT NULL UNIQUE,
    token TEXT NOT NULL,
    managed BIGINT NOT NULL,
    verified_at BIGINT,
    created_at BIGINT NOT NULL
);

-- Extra addresses an email element receives at (its `address` is the primary one).
CREATE TABLE email_addresses (
    address TEXT PRIMARY KEY,
    circle_id TEXT NOT NULL REFERENCES circles(id),
    element_id TEXT NOT NULL REFERENCES elements(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX email_addresses_by_element ON email_addresses (element_id);

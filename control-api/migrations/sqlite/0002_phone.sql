-- Phone-number operations (sqlite): SMS, webhook tokens, sandbox leases and daily counts.
-- Keep in step with the other dialect's 0002_phone.sql.

-- Every SMS, both ways. An outgoing one is stored (status 'pending') before the carrier is
-- asked, so a crash between the two is found and reconciled on restart.
CREATE TABLE sms (
    id TEXT PRIMARY KEY,
    circle_id TEXT NOT NULL REFERENCES circles(id),
    element_id TEXT NOT NULL REFERENCES elements(id),
    direction TEXT NOT NULL,
    sender TEXT NOT NULL,
    recipient TEXT NOT NULL,
    body TEXT NOT NULL,
    segments INTEGER NOT NULL,
    encoding TEXT NOT NULL,
    flash INTEGER NOT NULL,
    sandbox INTEGER NOT NULL,
    status TEXT NOT NULL,
    carrier_id TEXT UNIQUE,
    cost INTEGER,
    error_code TEXT,
    attempts INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    delivered_at INTEGER
);
CREATE INDEX sms_by_element ON sms (element_id, created_at, id);
CREATE INDEX sms_by_status ON sms (status);

-- Webhook tokens (SHA-256) that the carrier echoes in the URLs voxgate registered.
CREATE TABLE phone_hooks (
    token_hash TEXT PRIMARY KEY,
    element_id TEXT NOT NULL REFERENCES elements(id),
    created_at INTEGER NOT NULL
);
CREATE INDEX phone_hooks_element ON phone_hooks (element_id);

-- Sandbox numbers leased from the configured pool: one element per number, one number per
-- element.
CREATE TABLE sandbox_leases (
    number TEXT PRIMARY KEY,
    circle_id TEXT NOT NULL REFERENCES circles(id),
    element_id TEXT NOT NULL UNIQUE REFERENCES elements(id),
    leased_at INTEGER NOT NULL
);

-- SMS sent from sandbox numbers per circle and UTC day, against the daily cap.
CREATE TABLE sandbox_sms_days (
    circle_id TEXT NOT NULL REFERENCES circles(id),
    day TEXT NOT NULL,
    sent INTEGER NOT NULL,
    PRIMARY KEY (circle_id, day)
);

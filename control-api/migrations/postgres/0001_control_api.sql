-- The control API's tables (PostgreSQL). Times are Unix milliseconds; JSON is TEXT; booleans
-- are 0/1. Keep in step with migrations/sqlite/0001_control_api.sql.
CREATE TABLE circles (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    circle_id TEXT NOT NULL REFERENCES circles(id),
    role TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    shown TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE elements (
    id TEXT PRIMARY KEY,
    circle_id TEXT NOT NULL REFERENCES circles(id),
    element_type TEXT NOT NULL,
    slug TEXT NOT NULL,
    spec TEXT NOT NULL,
    enabled BIGINT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE UNIQUE INDEX elements_live_slug ON elements (circle_id, slug) WHERE deleted_at IS NULL;

CREATE TABLE element_versions (
    element_id TEXT NOT NULL REFERENCES elements(id),
    version BIGINT NOT NULL,
    spec TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (element_id, version)
);

CREATE TABLE agents (
    id TEXT PRIMARY KEY,
    circle_id TEXT NOT NULL REFERENCES circles(id),
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX agents_circle ON agents (circle_id, created_at);

CREATE TABLE providers (
    id TEXT PRIMARY KEY,
    circle_id TEXT NOT NULL REFERENCES circles(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    username TEXT NOT NULL,
    sealed_secret BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE numbers (
    id TEXT PRIMARY KEY,
    circle_id TEXT NOT NULL REFERENCES circles(id),
    number TEXT NOT NULL UNIQUE,
    provider_id TEXT NOT NULL REFERENCES providers(id),
    agent_id TEXT REFERENCES agents(id),
    created_at BIGINT NOT NULL
);

CREATE TABLE calls (
    id TEXT PRIMARY KEY,
    circle_id TEXT NOT NULL REFERENCES circles(id),
    carrier_call_id TEXT NOT NULL,
    number TEXT NOT NULL,
    direction TEXT NOT NULL,
    from_number TEXT NOT NULL,
    to_number TEXT NOT NULL,
    state TEXT NOT NULL,
    agent_id TEXT,
    thread_id TEXT,
    started_at BIGINT NOT NULL,
    answered_at BIGINT,
    ended_at BIGINT,
    end_reason TEXT,
    error TEXT
);
CREATE INDEX calls_circle ON calls (circle_id, started_at);
CREATE INDEX calls_live_number ON calls (number) WHERE ended_at IS NULL;

CREATE TABLE call_turns (
    call_id TEXT NOT NULL REFERENCES calls(id),
    turn BIGINT NOT NULL,
    user_text TEXT NOT NULL,
    agent_text TEXT NOT NULL,
    interrupted BIGINT NOT NULL,
    metrics TEXT NOT NULL,
    PRIMARY KEY (call_id, turn)
);

CREATE TABLE threads (
    id TEXT PRIMARY KEY,
    circle_id TEXT NOT NULL REFERENCES circles(id),
    contact TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (circle_id, contact, agent_id)
);

CREATE TABLE thread_messages (
    seq BIGSERIAL PRIMARY KEY,
    thread_id TEXT NOT NULL REFERENCES threads(id),
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    channel TEXT NOT NULL,
    call_id TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX thread_messages_thread ON thread_messages (thread_id, seq);

-- Spoken messages of `call-message` (postgres). Keep in step with the other dialect's
-- 0003_call_audio.sql.

-- The synthesized audio of one call-message call, served to the carrier at a tokenized URL
-- until expires_at. Once it expires, its audio is cleared and the row stays: the hang-up
-- webhook uses it to record what was played.
CREATE TABLE call_audio (
    id TEXT PRIMARY KEY,
    circle_id TEXT NOT NULL REFERENCES circles(id),
    call_id TEXT NOT NULL UNIQUE REFERENCES calls(id),
    text TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    duration_ms BIGINT NOT NULL,
    audio BYTEA,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX call_audio_expiry ON call_audio (expires_at);

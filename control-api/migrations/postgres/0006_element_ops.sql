-- The generic element operations (postgres). Keep in step with the other dialect's 0006_element_ops.sql.

-- Element metadata beside the versioned spec: a display name (default: the slug), an
-- intention (what it is for), free UI metadata (update_meta; never versioned), the README
-- (readme / readme_update) and why it was disabled.
ALTER TABLE elements ADD COLUMN name TEXT;
ALTER TABLE elements ADD COLUMN intention TEXT;
ALTER TABLE elements ADD COLUMN meta TEXT NOT NULL DEFAULT '{}';
ALTER TABLE elements ADD COLUMN readme TEXT NOT NULL DEFAULT '';
ALTER TABLE elements ADD COLUMN disabled_reason TEXT;

-- Why a version was written, when not by a plain update ("Before restore to v3").
ALTER TABLE element_versions ADD COLUMN note TEXT;

-- Every operation run on an element (not reads): what `activity` lists and `stats` counts.
-- outcome is 'ok' or the error code.
CREATE TABLE element_activity (
    id TEXT PRIMARY KEY,
    element_id TEXT NOT NULL,
    circle_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    outcome TEXT NOT NULL,
    status BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    key_id TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX element_activity_element ON element_activity (element_id, created_at);

-- A sandbox lease's id (claim_sandbox_number answers lease_id); leases from before have none
-- and are answered with "lease_" and their number.
ALTER TABLE sandbox_leases ADD COLUMN id TEXT;

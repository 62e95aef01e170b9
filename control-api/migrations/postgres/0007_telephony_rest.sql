-- The telephony REST document's number fields (postgres). Keep in step with the other dialect's 0007_telephony_rest.sql.

-- Whether calls may come in on, or go out from, a registered number (the document's
-- inbound_enabled / outbound_enabled, both default on), and when the row last changed.
ALTER TABLE numbers ADD COLUMN inbound_enabled BIGINT NOT NULL DEFAULT 1;
ALTER TABLE numbers ADD COLUMN outbound_enabled BIGINT NOT NULL DEFAULT 1;
ALTER TABLE numbers ADD COLUMN updated_at BIGINT;

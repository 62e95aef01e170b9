-- SIP trunk credentials (sqlite). Keep in step with the other dialect's 0004_sip_providers.sql.

-- A provider of kind `sip` is a SIP trunk: its registrar (`sip:host[:port]`), with the
-- user name and sealed password of the providers row. NULL for carrier API credentials.
ALTER TABLE providers ADD COLUMN registrar TEXT;

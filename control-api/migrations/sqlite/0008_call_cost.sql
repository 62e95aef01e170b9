-- get-call's cost and the caller's own whenhangup_url of calls voxgate places (sqlite).
-- Keep in step with the other dialect's 0008_call_cost.sql.

-- What the carrier charged (its hang-up webhook's cost, 1/10000 of the account's currency).
ALTER TABLE calls ADD COLUMN cost BIGINT;
-- Where the carrier's hang-up report is passed on to, as agent-call / call-message were asked.
ALTER TABLE calls ADD COLUMN whenhangup_url TEXT;

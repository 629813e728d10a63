-- Hookyard schema 3 (PostgreSQL): indexes the retention purger walks. Partial, so they hold only rows
-- that still have content: a purged row leaves the index and is never looked at again.

CREATE INDEX messages_payload_expiry ON messages (payload_expires_at) WHERE payload IS NOT NULL;
CREATE INDEX attempts_response_retention ON attempts (created_at) WHERE response <> '';

-- Hookyard schema 6 (PostgreSQL): destinations (the Destination API) are endpoint rows with a kind
-- other than 'http' and their type's config, so fan-out, deliveries, attempts, retries and the
-- endpoint policies treat them like any endpoint. The endpoint routes show only kind 'http'.

ALTER TABLE endpoints ADD COLUMN kind TEXT NOT NULL DEFAULT 'http';  -- 'http' or a destination type
ALTER TABLE endpoints ADD COLUMN config TEXT;                        -- JSON config of a destination; NULL for 'http'

-- Hookyard schema 14: the receiver's response headers with each attempt (a JSON object of name →
-- value, bounded by the HTTP client; NULL when there was no HTTP response or it predates schema 14),
-- so the dashboard's attempt page shows the response whole. Retention empties them with the body.

ALTER TABLE attempts ADD COLUMN response_headers TEXT;

-- Hookyard schema 12 (PostgreSQL): an HTTP endpoint's egress settings (client certificate and key,
-- trusted CA bundle, proxy override) as JSON, NULL when it has none. Like `secrets` and `config`,
-- the value is encrypted at rest (`hyenc:v1:...`) when HOOKYARD_ENCRYPTION_KEY is set.

ALTER TABLE endpoints ADD COLUMN egress TEXT;

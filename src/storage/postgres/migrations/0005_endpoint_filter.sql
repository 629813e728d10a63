-- Hookyard schema 5 (PostgreSQL): an endpoint's payload filter (JSON text, NULL = every payload),
-- checked at fan-out after the event-type and channel filters.

ALTER TABLE endpoints ADD COLUMN filter TEXT;

-- Hookyard schema 16 (PostgreSQL): every table that holds an application's data carries `app_id`, so a
-- deployment that outgrows one PostgreSQL can distribute the hot tables by application and co-locate
-- each application's rows (docs/fleet.md, "Outgrowing one PostgreSQL"). These four were keyed by
-- endpoint alone: `endpoint_state` (written by every completion), `fifo_state` and `fifo_queue`
-- (ordered ingest and delivery) and `polling_consumers`. Their `app_id` is their endpoint's, filled in
-- here and written by every insert from now on (src/storage/sql/endpoint-state.ts,
-- ordered-transitions.ts, polling.ts). The keys stay as they are, since an endpoint id is unique across
-- applications; the distribution migration widens them to lead with `app_id`, as it does for messages,
-- deliveries and attempts. `test/storage/app-keys.test.ts` keeps every later table to the rule.
--
-- The foreign keys to endpoints cascade, so every row has its endpoint and the backfill finds an
-- `app_id` for each. The tables are small beside the history (one row per endpoint, per consumer, or per
-- message queued for an ordered destination), and this transaction holds them locked while it rewrites
-- them.

ALTER TABLE endpoint_state ADD COLUMN app_id TEXT COLLATE "C";
UPDATE endpoint_state s SET app_id = e.app_id FROM endpoints e WHERE e.id = s.endpoint_id;
ALTER TABLE endpoint_state ALTER COLUMN app_id SET NOT NULL;

ALTER TABLE fifo_state ADD COLUMN app_id TEXT COLLATE "C";
UPDATE fifo_state s SET app_id = e.app_id FROM endpoints e WHERE e.id = s.endpoint_id;
ALTER TABLE fifo_state ALTER COLUMN app_id SET NOT NULL;

ALTER TABLE fifo_queue ADD COLUMN app_id TEXT COLLATE "C";
UPDATE fifo_queue q SET app_id = e.app_id FROM endpoints e WHERE e.id = q.endpoint_id;
ALTER TABLE fifo_queue ALTER COLUMN app_id SET NOT NULL;

ALTER TABLE polling_consumers ADD COLUMN app_id TEXT COLLATE "C";
UPDATE polling_consumers c SET app_id = e.app_id FROM endpoints e WHERE e.id = c.endpoint_id;
ALTER TABLE polling_consumers ALTER COLUMN app_id SET NOT NULL;

-- Hookyard schema 16 (SQLite): `app_id` on the four tables that were keyed by endpoint alone, as in
-- PostgreSQL's 0016 (see there for why). SQLite adds a NOT NULL column only with a default, so the
-- column gets an empty one that no row keeps: the backfill gives every existing row its endpoint's
-- `app_id` (foreign keys are on and cascade, so every row has its endpoint), every insert writes it,
-- and a trigger per table refuses an insert that leaves it empty, as PostgreSQL's NOT NULL does.

ALTER TABLE endpoint_state ADD COLUMN app_id TEXT NOT NULL DEFAULT '';
UPDATE endpoint_state SET app_id = (SELECT e.app_id FROM endpoints e WHERE e.id = endpoint_state.endpoint_id);
CREATE TRIGGER endpoint_state_app_id BEFORE INSERT ON endpoint_state WHEN NEW.app_id = ''
BEGIN SELECT RAISE(ABORT, 'endpoint_state.app_id must be set'); END;

ALTER TABLE fifo_state ADD COLUMN app_id TEXT NOT NULL DEFAULT '';
UPDATE fifo_state SET app_id = (SELECT e.app_id FROM endpoints e WHERE e.id = fifo_state.endpoint_id);
CREATE TRIGGER fifo_state_app_id BEFORE INSERT ON fifo_state WHEN NEW.app_id = ''
BEGIN SELECT RAISE(ABORT, 'fifo_state.app_id must be set'); END;

ALTER TABLE fifo_queue ADD COLUMN app_id TEXT NOT NULL DEFAULT '';
UPDATE fifo_queue SET app_id = (SELECT e.app_id FROM endpoints e WHERE e.id = fifo_queue.endpoint_id);
CREATE TRIGGER fifo_queue_app_id BEFORE INSERT ON fifo_queue WHEN NEW.app_id = ''
BEGIN SELECT RAISE(ABORT, 'fifo_queue.app_id must be set'); END;

ALTER TABLE polling_consumers ADD COLUMN app_id TEXT NOT NULL DEFAULT '';
UPDATE polling_consumers
SET app_id = (SELECT e.app_id FROM endpoints e WHERE e.id = polling_consumers.endpoint_id);
CREATE TRIGGER polling_consumers_app_id BEFORE INSERT ON polling_consumers WHEN NEW.app_id = ''
BEGIN SELECT RAISE(ABORT, 'polling_consumers.app_id must be set'); END;

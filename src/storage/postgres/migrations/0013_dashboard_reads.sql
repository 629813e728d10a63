-- Hookyard schema 13 (PostgreSQL): the endpoint stats (Svix's GET …/endpoint/{id}/stats) without reading a
-- delivery row. They count an endpoint's deliveries in a time range by status: the total along
-- deliveries_endpoint (endpoint_id, id), index only, and every status but success along this index,
-- which holds only the deliveries not succeeded (queued, failed, canceled), so it stays small: a
-- delivery enters at ingest and leaves when it succeeds, as with deliveries_due. Success is the
-- difference (src/storage/sql/endpoints.ts).

CREATE INDEX deliveries_endpoint_unsettled ON deliveries (endpoint_id, id, status) WHERE status <> 0;

-- Hookyard schema 11 (PostgreSQL): the consumers of polling endpoints (docs/destinations.md, pollingEndpoint).
-- A polling endpoint gets no deliveries; each of its consumers keeps a committed position in the
-- application's messages (in id order, which is ingest order) and what it was last handed.

CREATE TABLE polling_consumers (
  endpoint_id      TEXT COLLATE "C" NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
  consumer_id      TEXT COLLATE "C" NOT NULL,
  position         TEXT COLLATE "C" NOT NULL,  -- committed: the consumer reads the message ids above this one
  committed_offset BIGINT NOT NULL,            -- the offset of the message at position (0 before the first)
  handed           TEXT NOT NULL,              -- JSON array: ids handed out after position, offsets committed_offset+1...
  lease_expires_at BIGINT,                     -- while in the future, a poll continues after the handed ids
  updated_at       BIGINT NOT NULL,
  PRIMARY KEY (endpoint_id, consumer_id)
);

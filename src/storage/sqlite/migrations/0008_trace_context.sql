-- Hookyard schema 8 (SQLite): the W3C trace context of a message's ingest span (its `traceparent`),
-- so that every attempt, in whichever process makes it, continues the ingest request's trace.
-- NULL when tracing was off at ingest.

ALTER TABLE messages ADD COLUMN trace_context TEXT;

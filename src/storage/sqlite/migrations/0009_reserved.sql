-- Hookyard schema 9 (SQLite): a placeholder on the `polling` branch only. Numbers 9 and 10 belong to
-- migrations of branches developed beside it (ordered delivery, egress); the integrator deletes this
-- file when merging theirs. It changes nothing.
SELECT 1;

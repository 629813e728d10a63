-- Hookyard schema 9 (PostgreSQL): a placeholder on the `egress` branch only. Numbers 9 to 11 belong to
-- migrations of branches developed beside it (partitioning, ordered delivery, polling, dashboard);
-- the integrator deletes this file when merging theirs. It changes nothing.
SELECT 1;

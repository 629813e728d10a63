-- Hookyard schema 9 (SQLite): a placeholder on the `uibench` branch only. Numbers 9 to 12 belong to
-- migrations of branches developed beside it (partitioning, ordered delivery, polling, egress); the
-- integrator deletes this file when merging theirs. It changes nothing.
SELECT 1;

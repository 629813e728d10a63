-- Hookyard schema 9: a placeholder on the `fifo` branch only. Number 9 belongs to another branch that
-- merges beside this one; when it lands, this file is deleted in its favour (migration numbers must be
-- contiguous, and 0010 ordered delivery must not be renumbered once a database has applied it).
SELECT 1;

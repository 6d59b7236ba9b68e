-- SQLite keeps the counter row for tracking serials: it has a single writer, so the
-- row's lock costs nothing there. (The PostgreSQL twin moves serials to a sequence.)
SELECT 1;

-- 0009-reserved.sql - a placeholder for the migration another branch adds
-- under this number; it changes nothing. Dropped when that branch is
-- merged (sql2c.sh wants versions without gaps).
SELECT 1;

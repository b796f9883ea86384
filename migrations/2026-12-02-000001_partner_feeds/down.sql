DROP TABLE feed_schedule_runs;
DROP TABLE feed_schedules;
DROP TABLE feed_row_errors;
DROP TABLE feed_jobs;
DROP INDEX products_partner;
ALTER TABLE products DROP COLUMN partner_id;
DROP TABLE partner_keys;
DROP TABLE partners;

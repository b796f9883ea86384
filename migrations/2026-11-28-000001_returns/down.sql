DROP TABLE rma_effects;
DROP TABLE rma_photos;
DROP TABLE rma_events;
DROP TABLE rma_lines;
DROP TABLE rmas;
ALTER TABLE products DROP COLUMN returnable;

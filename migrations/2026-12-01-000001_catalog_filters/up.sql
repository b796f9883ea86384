-- The catalog's `in_stock=true` filter. Without it, counting the products in stock scans every
-- row (65 ms for 100,000 products, warm); with it, 3 ms. Partial, and keyed on `active` alone,
-- so that the planner still sorts by name or price through the existing indexes (a plain
-- index on (active, stock) won those plans and made them 80 ms). Queries must say
-- `stock > 0` literally for SQLite to use it. Costs one index write per stock change.
CREATE INDEX products_in_stock ON products (active) WHERE stock > 0;

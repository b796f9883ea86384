DROP TRIGGER IF EXISTS sale_items_ad_catalog_version;
DROP TRIGGER IF EXISTS sale_items_ai_catalog_version;
DROP TRIGGER IF EXISTS sales_au_catalog_version;
DROP TRIGGER IF EXISTS sales_ai_catalog_version;
DROP TABLE IF EXISTS sale_reservations;
DROP TABLE IF EXISTS sale_items;
DROP TABLE IF EXISTS sales;

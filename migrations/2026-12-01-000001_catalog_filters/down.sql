DROP INDEX products_in_stock;

DROP TABLE store_credit_entries;
DROP TABLE payments;
DROP TABLE order_lines;
DROP TABLE orders;
DROP TABLE cart_lines;

-- The benchmark's tables (Benchmarks/mysql/run): users with PII and a JSON profile, orders
-- with addresses and card numbers, a unique key, a secondary index and a foreign key.
CREATE TABLE users (
  id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  email varchar(255) NOT NULL,
  first_name varchar(100),
  last_name varchar(100),
  phone varchar(32),
  ssn char(11),
  date_of_birth date,
  profile json,
  password_hash varchar(100) NOT NULL,
  created_at datetime(6) NOT NULL,
  UNIQUE KEY users_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE orders (
  id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id bigint NOT NULL,
  shipping_address varchar(255),
  card_number varchar(23),
  total decimal(12,2),
  status varchar(16),
  created_at datetime(6),
  KEY orders_user (user_id),
  CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Rows for the benchmark (Benchmarks/mysql/run replaces {users} and {orders}); MariaDB's
-- sequence tables seq_1_to_N make a million rows in seconds. Deterministic.
SET unique_checks = 0, foreign_key_checks = 0;

INSERT INTO users (id, email, first_name, last_name, phone, ssn, date_of_birth, profile, password_hash, created_at)
SELECT seq, email, first_name, last_name, phone,
       IF(seq % 3 = 0, NULL, CONCAT(LPAD(seq % 899 + 1, 3, '0'), '-', LPAD(seq % 99 + 1, 2, '0'), '-', LPAD(seq % 9999 + 1, 4, '0'))),
       DATE_ADD('1950-01-01', INTERVAL seq % 20000 DAY),
       IF(seq % 10 = 0, NULL, JSON_OBJECT('contact', JSON_OBJECT('email', email, 'phones', JSON_ARRAY(phone)),
                                          'preferences', JSON_OBJECT('theme', ELT(1 + seq % 3, 'dark', 'light', 'system'),
                                                                     'locale', 'en'))),
       CONCAT('$2b$12$', MD5(seq), LEFT(MD5(seq + 1), 21)),
       TIMESTAMPADD(SECOND, seq * 37, '2024-01-01 00:00:00')
  FROM (SELECT seq,
               ELT(1 + seq % 10, 'Liam', 'Olivia', 'Noah', 'Emma', 'José', 'Sofía', 'Wei', 'Zoë', 'Amara', 'Søren') AS first_name,
               ELT(1 + (seq DIV 10) % 10, 'Smith', 'García', 'Müller', 'O''Connor', 'Nguyễn', 'Kowalski', 'Okafor', 'Rossi',
                   'Tanaka', 'Silva') AS last_name,
               CONCAT(ELT(1 + seq % 10, 'liam', 'olivia', 'noah', 'emma', 'jose', 'sofia', 'wei', 'zoe', 'amara', 'soren'), '.',
                      ELT(1 + (seq DIV 10) % 10, 'smith', 'garcia', 'muller', 'oconnor', 'nguyen', 'kowalski', 'okafor', 'rossi',
                          'tanaka', 'silva'), seq, '@', ELT(1 + seq % 4, 'gmail.com', 'example.org', 'quikapp.com', 'proton.me'))
                   AS email,
               CONCAT('+1 (', 200 + seq % 800, ') 555-', LPAD(seq % 10000, 4, '0')) AS phone
          FROM seq_1_to_{users}) AS g;

INSERT INTO orders (id, user_id, shipping_address, card_number, total, status, created_at)
SELECT seq, 1 + (seq * 7) % {users},
       IF(seq % 15 = 0, NULL, CONCAT(100 + seq % 9800, ' ', ELT(1 + seq % 5, 'Market Street', 'Baker Street', 'Elm Avenue',
                                     'Rue de Rivoli', 'Hauptstraße'), ', ', ELT(1 + seq % 4, 'San Francisco', 'London', 'Paris',
                                     'Berlin'), ' ', LPAD(seq % 100000, 5, '0'))),
       IF(seq % 10 = 9, NULL, CONCAT('4', LPAD(seq % 1000, 3, '0'), ' ', LPAD(seq % 10000, 4, '0'), ' ',
                                     LPAD((seq * 7) % 10000, 4, '0'), ' ', LPAD((seq * 13) % 10000, 4, '0'))),
       (seq * 7919 % 50000) / 100 + 1,
       ELT(1 + seq % 6, 'pending', 'paid', 'shipped', 'delivered', 'refunded', 'cancelled'),
       TIMESTAMPADD(SECOND, -seq * 61, '2026-06-01 00:00:00')
  FROM seq_1_to_{orders};

ANALYZE TABLE users, orders;

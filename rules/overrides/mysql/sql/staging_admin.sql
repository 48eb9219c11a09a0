-- rules/overrides/mysql/sql/staging_admin.sql
-- Runs on the masked shadow copy after the declarative overrides of ../app.yaml, in the same
-- transaction (keep it to DML: DDL would commit it). Plain statements separated by ';' (no
-- DELIMITER): snapmask runs the file statement by statement.

-- Production sessions mean nothing in staging: everyone signs in again.
DELETE FROM sessions;

-- A staging admin that exists after every restore, with the staging password ("quikapp-staging",
-- the hash of ../app.yaml). users.id is AUTO_INCREMENT and continues after production's last
-- id; full_name is a generated column and is computed.
INSERT INTO users (email, first_name, last_name, username, role, password_hash, profile, created_at, tags)
VALUES ('staging-admin@quikapp.test', 'Staging', 'Admin', 'staging-admin', 'admin',
        '$2b$12$LdGK7QV61Ny1BsbAVg4EH.MVFDMG8jwYD2lNN2ViScxhk1Opzhuay',
        '{"preferences": {"theme": "dark", "locale": "en"}}', CURRENT_TIMESTAMP(6), 'staff')
ON DUPLICATE KEY UPDATE role = VALUES(role), password_hash = VALUES(password_hash);

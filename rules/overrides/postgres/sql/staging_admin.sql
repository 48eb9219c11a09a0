-- rules/overrides/postgres/sql/staging_admin.sql
-- Runs on the masked shadow copy after the declarative overrides of ../app.yaml.

-- Production sessions mean nothing in staging: everyone signs in again.
DELETE FROM public.sessions;

-- A staging admin that exists after every restore, with the staging password
-- ("quikapp-staging", the hash of ../app.yaml). users.id is GENERATED ALWAYS AS IDENTITY:
-- the id is left to the identity sequence, which continues after production's last id.
-- full_name is a generated column and is computed.
INSERT INTO public.users (email, first_name, last_name, username, role, password_hash, profile, created_at, tags)
VALUES ('staging-admin@quikapp.test', 'Staging', 'Admin', 'staging-admin', 'admin',
        '$2b$12$LdGK7QV61Ny1BsbAVg4EH.MVFDMG8jwYD2lNN2ViScxhk1Opzhuay',
        '{"preferences": {"theme": "dark", "locale": "en"}}', now(), '{staff}')
ON CONFLICT (email) DO UPDATE
   SET role = EXCLUDED.role,
       password_hash = EXCLUDED.password_hash;

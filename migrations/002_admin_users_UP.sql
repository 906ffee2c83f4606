-- Panel users. password_hash is a self-describing scrypt string (algorithm, parameters,
-- salt, key); the plain password is never stored.
CREATE TABLE admin_users (
    id SERIAL PRIMARY KEY,
    email VARCHAR(254) NOT NULL,
    password_hash TEXT NOT NULL,
    role VARCHAR(20) NOT NULL CHECK (role IN ('super_admin', 'viewer')),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_login_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX admin_users_email_key ON admin_users (lower(email));

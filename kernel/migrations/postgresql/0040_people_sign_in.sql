-- 0040 people sign in (issue #34, ADR 0046): a user's password, kept as an argon2id
-- hash with its parameters, and the count of failed attempts that locks it for a while;
-- and the browser sessions a sign-in opens — only SHA-256 of the session's secret and of
-- its CSRF token are kept, so a copy of the database opens no session.
CREATE TABLE user_credentials (
  user_id        text PRIMARY KEY REFERENCES users (id),
  tenant_id      text NOT NULL REFERENCES tenants (id),
  password_hash  text NOT NULL,   -- $argon2id$v=19$m=…,t=…,p=…$salt$hash
  set_at         bigint NOT NULL,
  failed_logins  integer NOT NULL DEFAULT 0,
  locked_until   bigint
);
SELECT nucleo_enable_tenant_rls('user_credentials');

CREATE TABLE user_sessions (
  id           text PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (id),
  user_id      text NOT NULL REFERENCES users (id),
  secret_hash  text NOT NULL,
  csrf_hash    text NOT NULL,
  created_at   bigint NOT NULL,
  expires_at   bigint NOT NULL,
  revoked_at   bigint,
  source_ip    text
);
CREATE INDEX user_sessions_user ON user_sessions (tenant_id, user_id);
SELECT nucleo_enable_tenant_rls('user_sessions');

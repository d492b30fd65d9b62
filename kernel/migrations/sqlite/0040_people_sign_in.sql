-- 0040 people sign in: see ../postgresql/0040_people_sign_in.sql.
CREATE TABLE user_credentials (
  user_id        text PRIMARY KEY REFERENCES users (id),
  tenant_id      text NOT NULL REFERENCES tenants (id),
  password_hash  text NOT NULL,
  set_at         bigint NOT NULL,
  failed_logins  integer NOT NULL DEFAULT 0,
  locked_until   bigint
);

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

-- 0033 data-subject requests (LGPD art. 18; docs/compliance.md "Data-subject requests";
-- docs/adr/0040-data-subject-requests.md).
--
-- A request is tracked from intake to its outcome: kind, subject, deadline (art. 19 II:
-- 15 days for the complete report, configurable), assignee and the task on their agenda,
-- the identity check, status and outcome. Every change is audited (privacy.request_*).
CREATE TABLE privacy_requests (
  id                   text PRIMARY KEY,
  tenant_id            text NOT NULL REFERENCES tenants (id),
  kind                 text NOT NULL CHECK (kind IN ('access', 'portability', 'correction', 'anonymisation',
                                                     'erasure', 'consent_revocation', 'information_on_sharing')),
  subject_id           text NOT NULL,   -- the contact the request is about
  status               text NOT NULL CHECK (status IN ('received', 'in_progress', 'completed', 'rejected')),
  received_via         text NOT NULL,   -- e-mail, form, phone, letter…
  details              text,            -- what was asked, in the officer's words
  received_at          bigint NOT NULL,
  due_at               bigint NOT NULL,
  assignee_id          text,
  task_id              text,            -- the assignee's agenda entry for it
  identity_method      text,
  identity_reference   text,
  identity_verified_by text,
  identity_verified_at bigint,
  outcome              text,
  closed_by            text,
  closed_at            bigint,
  created_by           text NOT NULL,
  version              bigint NOT NULL DEFAULT 1,
  updated_at           bigint NOT NULL
);
CREATE INDEX privacy_requests_open ON privacy_requests (tenant_id, status, due_at);
CREATE INDEX privacy_requests_subject ON privacy_requests (tenant_id, subject_id);
SELECT nucleo_enable_tenant_rls('privacy_requests');

-- The report of an access or portability request, built by a job (kernel:privacy.report):
-- its progress and, once ready, the JSON bundle and the readable document. Bookkeeping of
-- the job; the request's audit events say when it was asked for and generated, with its
-- digest. Erasing the subject deletes her reports.
CREATE TABLE privacy_reports (
  request_id   text PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (id),
  subject_id   text NOT NULL,
  status       text NOT NULL CHECK (status IN ('queued', 'running', 'ready', 'failed')),
  done         bigint NOT NULL DEFAULT 0,   -- records gathered so far…
  total        bigint NOT NULL DEFAULT 0,   -- …of this many
  bundle       text,                        -- the JSON bundle
  document     text,                        -- the same as Markdown
  digest       text,                        -- hex SHA-256 of the bundle
  error        text,
  queued_at    bigint NOT NULL,
  generated_at bigint
);
CREATE INDEX privacy_reports_subject ON privacy_reports (tenant_id, subject_id);
SELECT nucleo_enable_tenant_rls('privacy_reports');

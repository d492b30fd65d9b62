-- 0014 the sequencer reads pending audit events per tenant (a tenant whose events
-- cannot be sequenced must not hold up the others): index them that way.
CREATE INDEX audit_pending_by_tenant ON audit_pending (tenant_id, seq);

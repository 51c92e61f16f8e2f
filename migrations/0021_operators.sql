-- owner: gateway. Operators: accounts that may read the system stream of the audit log (what ran
-- for no job or account: recovery scans, retention passes, the outbox relay's reports of them,
-- refused anonymous requests), GET /v1/system/audit and `longform audit system`. Made only by
-- `longform users create --operator` on the database; the API cannot grant it.
ALTER TABLE gateway.users ADD COLUMN operator boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN gateway.users.operator IS 'May read the system stream of the audit log (longform users create --operator).';

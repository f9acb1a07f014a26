-- The dashboard lists the security events of one account: those it is the
-- subject of (indexed already) and those it acted in.
CREATE INDEX audit_events_actor_id ON audit_events (actor_id);

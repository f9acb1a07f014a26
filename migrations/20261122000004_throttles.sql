-- Guess counters, shared by every instance: one row per throttled key
-- ("account:<name>", "address:<ip>", ...). Rows are replaced only by a
-- compare-and-set on their previous values, so concurrent attempts on
-- different instances are each counted. Rows whose window and lock have
-- both ended are purged.
CREATE TABLE throttles (
    key          TEXT PRIMARY KEY NOT NULL,
    hits         BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    locked_until BIGINT NOT NULL
);

CREATE INDEX throttles_window_start ON throttles (window_start);

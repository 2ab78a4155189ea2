-- The audit log: every state change and command made through the API, who made it (user id and
-- the name it had then, the API token), from which address, on what, and the result. Rows are
-- only ever inserted; the retention sweep (--audit-retention) deletes those older than it.
-- seq is assigned by the hub, increasing.
CREATE TABLE audit (
    seq          BIGINT       PRIMARY KEY,
    at           BIGINT       NOT NULL,
    user_id      VARCHAR(32),
    user_name    VARCHAR(128),
    token_id     VARCHAR(32),
    remote_addr  VARCHAR(64),
    action       VARCHAR(64)  NOT NULL,
    target       VARCHAR(256),
    node_id      VARCHAR(32),
    detail       TEXT,
    status       INTEGER      NOT NULL,
    result       VARCHAR(16)  NOT NULL
);

CREATE INDEX audit_at_idx ON audit (at);
CREATE INDEX audit_user_idx ON audit (user_name, seq);
CREATE INDEX audit_node_idx ON audit (node_id, seq);

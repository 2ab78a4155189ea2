-- Nodes authenticate with client certificates the hub signs: the bearer credential becomes
-- optional (kept only for hubs without TLS, and for an agent until it has moved to a certificate),
-- and the expiry of the newest certificate signed for each node is kept. SQLite cannot drop a NOT
-- NULL in place, so the table is rebuilt; the statements are the same on PostgreSQL.

CREATE TABLE nodes_v6 (
    id              VARCHAR(32)  PRIMARY KEY,
    name            VARCHAR(255) NOT NULL,
    hostname        VARCHAR(255) NOT NULL,
    os              VARCHAR(64)  NOT NULL,
    arch            VARCHAR(64)  NOT NULL,
    agent_version   VARCHAR(64)  NOT NULL,
    labels          TEXT         NOT NULL,
    owner           VARCHAR(128) NOT NULL,
    credential_hash CHAR(64)     UNIQUE,
    join_token_id   VARCHAR(32),
    created_at      BIGINT       NOT NULL,
    status          VARCHAR(16)  NOT NULL,
    offline_reason  VARCHAR(64),
    connected_at    BIGINT,
    last_seen       BIGINT,
    cert_expires_at BIGINT
);

INSERT INTO nodes_v6 (id, name, hostname, os, arch, agent_version, labels, owner, credential_hash,
        join_token_id, created_at, status, offline_reason, connected_at, last_seen)
    SELECT id, name, hostname, os, arch, agent_version, labels, owner, credential_hash,
        join_token_id, created_at, status, offline_reason, connected_at, last_seen FROM nodes;

DROP TABLE nodes;
ALTER TABLE nodes_v6 RENAME TO nodes;
CREATE INDEX nodes_name_idx ON nodes (name);
CREATE INDEX nodes_owner_idx ON nodes (owner);

-- Users, API tokens, join tokens and nodes. Portable SQL: SQLite and PostgreSQL run it as is.
-- Times are Unix epoch milliseconds; every secret is stored as the hex SHA-256 of the token.

CREATE TABLE users (
    id          VARCHAR(32)  PRIMARY KEY,
    name        VARCHAR(128) NOT NULL UNIQUE,
    role        VARCHAR(16)  NOT NULL,
    created_at  BIGINT       NOT NULL
);

CREATE TABLE api_tokens (
    id          VARCHAR(32)  PRIMARY KEY,
    user_id     VARCHAR(32)  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  CHAR(64)     NOT NULL UNIQUE,
    created_at  BIGINT       NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE join_tokens (
    id          VARCHAR(32)  PRIMARY KEY,
    token_hash  CHAR(64)     NOT NULL UNIQUE,
    owner       VARCHAR(128) NOT NULL,
    labels      TEXT         NOT NULL,
    uses_left   INTEGER      NOT NULL,
    expires_at  BIGINT       NOT NULL,
    created_at  BIGINT       NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE nodes (
    id              VARCHAR(32)  PRIMARY KEY,
    name            VARCHAR(255) NOT NULL,
    hostname        VARCHAR(255) NOT NULL,
    os              VARCHAR(64)  NOT NULL,
    arch            VARCHAR(64)  NOT NULL,
    agent_version   VARCHAR(64)  NOT NULL,
    labels          TEXT         NOT NULL,
    owner           VARCHAR(128) NOT NULL,
    credential_hash CHAR(64)     NOT NULL UNIQUE,
    join_token_id   VARCHAR(32),
    created_at      BIGINT       NOT NULL,
    status          VARCHAR(16)  NOT NULL,
    offline_reason  VARCHAR(64),
    connected_at    BIGINT,
    last_seen       BIGINT
);

CREATE INDEX nodes_name_idx ON nodes (name);
CREATE INDEX nodes_owner_idx ON nodes (owner);

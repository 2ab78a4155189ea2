-- Commands run on nodes. argv is a JSON array when the task was given as argv.
CREATE TABLE tasks (
    id           VARCHAR(32)  PRIMARY KEY,
    node_id      VARCHAR(32)  NOT NULL,
    owner        VARCHAR(128) NOT NULL,
    command      TEXT,
    argv         TEXT,
    timeout_ms   BIGINT       NOT NULL,
    state        VARCHAR(16)  NOT NULL,
    exit_code    INTEGER,
    error        TEXT,
    created_at   BIGINT       NOT NULL,
    started_at   BIGINT,
    finished_at  BIGINT
);

CREATE INDEX tasks_node_idx ON tasks (node_id, created_at);

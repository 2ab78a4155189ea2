-- Runs: one command on many nodes, rolled out a few at a time. A run keeps its resolved node list,
-- in launch order, with each node's task and outcome.
CREATE TABLE runs (
    id           VARCHAR(32)   PRIMARY KEY,
    owner        VARCHAR(128)  NOT NULL,
    owner_id     VARCHAR(32)   NOT NULL,
    command      TEXT,
    argv         TEXT,
    run_as       VARCHAR(32),
    selector     VARCHAR(1024),
    parallel     INTEGER       NOT NULL,
    max_errors   INTEGER       NOT NULL,
    timeout_ms   BIGINT        NOT NULL,
    state        VARCHAR(16)   NOT NULL,
    created_at   BIGINT        NOT NULL,
    finished_at  BIGINT
);

CREATE INDEX runs_owner_idx ON runs (owner_id, created_at);

CREATE TABLE run_nodes (
    run_id     VARCHAR(32)  NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    position   INTEGER      NOT NULL,
    node_id    VARCHAR(32)  NOT NULL,
    node_name  VARCHAR(255) NOT NULL,
    task_id    VARCHAR(32),
    outcome    VARCHAR(16)  NOT NULL,
    exit_code  INTEGER,
    error      TEXT,
    PRIMARY KEY (run_id, position)
);

CREATE INDEX run_nodes_task_idx ON run_nodes (task_id);

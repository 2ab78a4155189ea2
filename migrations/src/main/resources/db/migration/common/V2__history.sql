-- Terminal history (the SQLite/PostgreSQL history store). Offsets are per node, increasing, never
-- reused; trimming removes the oldest lines and moves first_offset forward.

CREATE TABLE history_nodes (
    node_id       VARCHAR(32) PRIMARY KEY,
    first_offset  BIGINT      NOT NULL,
    next_offset   BIGINT      NOT NULL,
    line_count    BIGINT      NOT NULL,
    byte_count    BIGINT      NOT NULL
);

CREATE TABLE history_lines (
    node_id      VARCHAR(32) NOT NULL,
    line_offset  BIGINT      NOT NULL,
    task_id      VARCHAR(32),
    stream       VARCHAR(8)  NOT NULL,
    text         TEXT        NOT NULL,
    bytes        INTEGER     NOT NULL,
    at           BIGINT      NOT NULL,
    PRIMARY KEY (node_id, line_offset)
);

-- Per task: the highest output sequence stored (chunks at or below it are duplicates), and the
-- unfinished last line of each stream, so ingest resumes exactly after a hub crash.
CREATE TABLE history_task_progress (
    task_id        VARCHAR(32) PRIMARY KEY,
    node_id        VARCHAR(32) NOT NULL,
    last_sequence  BIGINT      NOT NULL,
    pending_stdout TEXT,
    pending_stderr TEXT
);

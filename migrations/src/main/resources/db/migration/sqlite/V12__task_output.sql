-- A task's output exactly as its agent sent it (bytes, CR, NUL and invalid UTF-8 kept), one row per
-- chunk, stored with the history append and acknowledged after both. Kept until the client running
-- the task has read it (hubctl exec releases what it printed), its node is removed, or
-- --task-output-retention after the task ended; bounded per node by --task-output-max-bytes.
-- stream: 1 stdout, 2 stderr (the protocol's OutputStream numbers).
CREATE TABLE task_output (
    task_id  VARCHAR(32)  NOT NULL,
    seq      BIGINT       NOT NULL,
    node_id  VARCHAR(32)  NOT NULL,
    stream   SMALLINT     NOT NULL,
    data     BLOB         NOT NULL,
    PRIMARY KEY (task_id, seq)
);

CREATE INDEX task_output_node_idx ON task_output (node_id);

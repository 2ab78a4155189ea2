-- History in blocks: the lines one output chunk completed, joined with a newline, in one row.
-- One row per chunk instead of one per line is what lets ingest keep up with chatty nodes.
-- Lines of a block have offsets first_offset .. first_offset + line_count - 1. Trimming may cut a
-- block in two: history_nodes.first_offset is exact, and readers skip the block's lines below it.

CREATE TABLE history_blocks (
    node_id      VARCHAR(32) NOT NULL,
    first_offset BIGINT      NOT NULL,
    line_count   INTEGER     NOT NULL,
    task_id      VARCHAR(32),
    stream       VARCHAR(8)  NOT NULL,
    at           BIGINT      NOT NULL,
    bytes        BIGINT      NOT NULL,
    text         TEXT        NOT NULL,
    PRIMARY KEY (node_id, first_offset)
);

INSERT INTO history_blocks (node_id, first_offset, line_count, task_id, stream, at, bytes, text)
    SELECT node_id, line_offset, 1, task_id, stream, at, bytes, text FROM history_lines;

DROP TABLE history_lines;

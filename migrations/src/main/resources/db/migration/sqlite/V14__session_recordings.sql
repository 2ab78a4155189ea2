-- A terminal session's recording, played back by 'hubctl sessions play': its output exactly as the
-- agent sent it (kind 1, seq: the task's output sequence), what was typed when the hub runs with
-- --record-input (kind 3), and window size changes (kind 4, data "COLUMNSxROWS"), each with when
-- the hub took it (at_ms, Unix milliseconds). Kept --session-retention after the session ended, or
-- until its node is removed; one session keeps at most --session-max-recording-bytes.
CREATE TABLE session_recordings (
    session_id VARCHAR(32) NOT NULL,
    kind       SMALLINT    NOT NULL,
    seq        BIGINT      NOT NULL,
    at_ms      BIGINT      NOT NULL,
    node_id    VARCHAR(32) NOT NULL,
    data       BLOB NOT NULL,
    PRIMARY KEY (session_id, kind, seq)
);

CREATE INDEX session_recordings_time_idx ON session_recordings (session_id, at_ms);
CREATE INDEX session_recordings_node_idx ON session_recordings (node_id);

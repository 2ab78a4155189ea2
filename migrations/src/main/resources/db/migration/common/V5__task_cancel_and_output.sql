-- A cancel is kept with its task, so that one asked for while the node is offline (or lost with a
-- dropped stream) is sent again when the agent reconnects still holding the task.
ALTER TABLE tasks ADD COLUMN cancel_requested_at BIGINT;
ALTER TABLE tasks ADD COLUMN cancel_requested_by VARCHAR(128);

-- Where the task's output lies in its node's history: every line of it has an offset above
-- output_after, and, once the task has ended, at most output_until. Reading a task's output scans
-- that window (filtered by task id, since tasks of one node may interleave), not the whole history.
ALTER TABLE tasks ADD COLUMN output_after BIGINT;
ALTER TABLE tasks ADD COLUMN output_until BIGINT;

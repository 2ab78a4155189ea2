-- A cancel is kept with its task, so that one asked for while the node is offline (or lost with a
-- dropped stream) is sent again when the agent reconnects still holding the task.
ALTER TABLE tasks ADD COLUMN cancel_requested_at BIGINT;
ALTER TABLE tasks ADD COLUMN cancel_requested_by VARCHAR(128);

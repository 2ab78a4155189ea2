-- Where a task's output ends, for readers of its raw bytes (task_output): the sequence of its last
-- chunk, set with its result; and the first sequence not kept raw because its node's unread raw
-- output was over --task-output-max-bytes (null while every chunk is kept).
ALTER TABLE tasks ADD COLUMN output_last_seq BIGINT;
ALTER TABLE tasks ADD COLUMN raw_dropped_from BIGINT;

-- A run's wait between batches (hubctl exec --batch-wait); 0 rolls out as a sliding window.
ALTER TABLE runs ADD COLUMN batch_wait_ms BIGINT NOT NULL DEFAULT 0;
-- Whether a run's tasks read the stdin their client sends (hubctl exec with stdin): 1 or 0.
ALTER TABLE runs ADD COLUMN stdin SMALLINT NOT NULL DEFAULT 0;

-- Terminal sessions (hubctl ssh) are tasks run on a pseudo-terminal: the terminal type they asked
-- for (TERM) marks them; NULL for every other task.
ALTER TABLE tasks ADD COLUMN terminal VARCHAR(64);
CREATE INDEX tasks_terminal_idx ON tasks (created_at) WHERE terminal IS NOT NULL;

-- The local user a task runs as on its node (hubctl exec --user); NULL: the agent's default.
ALTER TABLE tasks ADD COLUMN run_as VARCHAR(32);

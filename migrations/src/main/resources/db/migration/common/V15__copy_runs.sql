-- A run can be a file copy (hubctl cp -l): the file it copies, as JSON {path, name, size, sha256};
-- NULL for a run of a command.
ALTER TABLE runs ADD COLUMN copy_spec TEXT;

-- Ownership by user id: a user name can be freed and taken again, an id never is. An owner whose
-- user is already gone keeps its old value, which is no user's id: only admins see those nodes.
UPDATE nodes SET owner = (SELECT u.id FROM users u WHERE u.name = nodes.owner)
    WHERE owner IN (SELECT name FROM users);
UPDATE join_tokens SET owner = (SELECT u.id FROM users u WHERE u.name = join_tokens.owner)
    WHERE owner IN (SELECT name FROM users);

-- Grants: a user gets a role (viewer or operator) on every node whose labels match a selector,
-- beyond the nodes it owns. One grant per user and selector.
CREATE TABLE grants (
    id          VARCHAR(32)   PRIMARY KEY,
    user_id     VARCHAR(32)   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    selector    VARCHAR(1024) NOT NULL,
    role        VARCHAR(16)   NOT NULL,
    created_at  BIGINT        NOT NULL,
    UNIQUE (user_id, selector)
);

package hub.hubd.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import hub.hubd.core.StoreException;
import hub.hubd.tasks.Task;
import hub.hubd.tasks.TaskRepository;
import hub.hubd.tasks.TaskState;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/** {@link TaskRepository} over JDBC. */
public final class JdbcTaskRepository implements TaskRepository {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String COLUMNS = "id, node_id, owner, command, argv, timeout_ms, state, exit_code, error, "
            + "created_at, started_at, finished_at, cancel_requested_at, cancel_requested_by, output_after, output_until, run_as, terminal";
    private static final String FINAL_STATES = "('exited', 'failed', 'timed_out', 'cancelled')";
    private final Jdbc jdbc;

    public JdbcTaskRepository(Database db) {
        this.jdbc = db.jdbc();
    }

    @Override
    public void insert(Task t) {
        jdbc.update(INSERT, insertParams(t));
    }

    @Override
    public void insertAll(List<Task> tasks) {
        if (tasks.isEmpty()) {
            return;
        }
        jdbc.inTransaction(c -> {
            for (Task t : tasks) {
                Jdbc.update(c, INSERT, insertParams(t));
            }
            return null;
        });
    }

    private static final String INSERT = "INSERT INTO tasks (id, node_id, owner, command, argv, timeout_ms, state, "
            + "created_at, output_after, output_until, run_as, terminal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

    private static Object[] insertParams(Task t) {
        String argv;
        try {
            argv = t.argv() == null ? null : JSON.writeValueAsString(t.argv());
        } catch (JsonProcessingException e) {
            throw new StoreException("cannot encode argv", e);
        }
        return new Object[] {t.id(), t.nodeId(), t.owner(), t.command(), argv, t.timeoutMs(), t.state().wireName(),
            t.createdAt().toEpochMilli(), t.output().after(), t.output().until(), t.runAs(),
            t.terminal() == null ? null : t.terminal().term()};
    }

    @Override
    public Optional<Task> find(String id) {
        return jdbc.queryOne("SELECT " + COLUMNS + " FROM tasks WHERE id = ?", JdbcTaskRepository::row, id);
    }

    @Override
    public Optional<Task> latest(String nodeId) {
        return jdbc.queryOne("SELECT " + COLUMNS + " FROM tasks WHERE node_id = ? ORDER BY created_at DESC, id DESC "
                + "LIMIT 1", JdbcTaskRepository::row, nodeId);
    }

    @Override
    public List<Task> list(String nodeId, Set<TaskState> states, Position before, int limit) {
        if (states.isEmpty()) {
            return List.of();
        }
        StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM tasks WHERE node_id = ?");
        List<Object> params = new ArrayList<>();
        params.add(nodeId);
        if (states.size() < TaskState.values().length) {
            sql.append(" AND state IN (").append(String.join(", ", java.util.Collections.nCopies(states.size(), "?")))
                    .append(')');
            states.forEach(st -> params.add(st.wireName()));
        }
        if (before != null) {
            sql.append(" AND (created_at < ? OR (created_at = ? AND id < ?))");
            params.addAll(List.of(before.createdAtMillis(), before.createdAtMillis(), before.id()));
        }
        sql.append(" ORDER BY created_at DESC, id DESC LIMIT ?");
        params.add(limit);
        return jdbc.query(sql.toString(), JdbcTaskRepository::row, params.toArray());
    }

    @Override
    public List<Task> sessions(String nodeId, Position before, int limit) {
        StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM tasks WHERE terminal IS NOT NULL");
        List<Object> params = new ArrayList<>();
        if (nodeId != null) {
            sql.append(" AND node_id = ?");
            params.add(nodeId);
        }
        if (before != null) {
            sql.append(" AND (created_at < ? OR (created_at = ? AND id < ?))");
            params.addAll(List.of(before.createdAtMillis(), before.createdAtMillis(), before.id()));
        }
        sql.append(" ORDER BY created_at DESC, id DESC LIMIT ?");
        params.add(limit);
        return jdbc.query(sql.toString(), JdbcTaskRepository::row, params.toArray());
    }

    @Override
    public List<Task> unfinished(String nodeId) {
        return jdbc.query("SELECT " + COLUMNS + " FROM tasks WHERE node_id = ? AND state NOT IN " + FINAL_STATES
                + " ORDER BY created_at, id", JdbcTaskRepository::row, nodeId);
    }

    @Override
    public boolean update(String id, TaskState state, Integer exitCode, String error, Long startedAtMillis,
            Long finishedAtMillis, Long outputUntil) {
        return jdbc.update("UPDATE tasks SET state = ?, exit_code = COALESCE(?, exit_code), error = COALESCE(?, error), "
                + "started_at = COALESCE(?, started_at), finished_at = COALESCE(?, finished_at), "
                + "output_until = COALESCE(?, output_until) WHERE id = ? AND state NOT IN " + FINAL_STATES,
                state.wireName(), exitCode, error, startedAtMillis, finishedAtMillis, outputUntil, id) > 0;
    }

    @Override
    public boolean move(String id, TaskState from, TaskState to, String error, Long finishedAtMillis,
            Long outputUntil) {
        return jdbc.update("UPDATE tasks SET state = ?, error = COALESCE(?, error), "
                + "finished_at = COALESCE(?, finished_at), output_until = COALESCE(?, output_until) "
                + "WHERE id = ? AND state = ?", to.wireName(), error, finishedAtMillis, outputUntil, id,
                from.wireName()) > 0;
    }

    @Override
    public void requestCancel(String id, Task.CancelRequest cancel) {
        jdbc.update("UPDATE tasks SET cancel_requested_at = ?, cancel_requested_by = ? "
                + "WHERE id = ? AND cancel_requested_at IS NULL AND state NOT IN " + FINAL_STATES,
                cancel.at().toEpochMilli(), cancel.by(), id);
    }

    private static Task row(ResultSet rs) throws SQLException {
        String argv = rs.getString("argv");
        List<String> list;
        try {
            list = argv == null ? null : JSON.readValue(argv, new TypeReference<List<String>>() { });
        } catch (JsonProcessingException e) {
            throw new StoreException("stored argv is not JSON", e);
        }
        int exit = rs.getInt("exit_code");
        Integer exitCode = rs.wasNull() ? null : exit;
        return new Task(rs.getString("id"), rs.getString("node_id"), rs.getString("owner"), rs.getString("command"),
                list, rs.getLong("timeout_ms"), TaskState.valueOf(rs.getString("state").toUpperCase(Locale.ROOT)),
                exitCode, rs.getString("error"), Instant.ofEpochMilli(rs.getLong("created_at")),
                Jdbc.instant(rs, "started_at"), Jdbc.instant(rs, "finished_at"), cancel(rs), output(rs),
                rs.getString("run_as"), terminal(rs.getString("terminal")));
    }

    private static Task.Terminal terminal(String term) {
        return term == null ? null : new Task.Terminal(term, 0, 0, null);
    }

    private static Task.OutputRange output(ResultSet rs) throws SQLException {
        long after = rs.getLong("output_after"); // 0 when NULL: a task from before V5
        long until = rs.getLong("output_until");
        return new Task.OutputRange(after, rs.wasNull() ? null : until);
    }

    private static Task.CancelRequest cancel(ResultSet rs) throws SQLException {
        Instant at = Jdbc.instant(rs, "cancel_requested_at");
        return at == null ? null : new Task.CancelRequest(at, rs.getString("cancel_requested_by"));
    }
}

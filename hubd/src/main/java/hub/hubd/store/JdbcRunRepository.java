package hub.hubd.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import hub.hubd.core.StoreException;
import hub.hubd.runs.Run;
import hub.hubd.runs.RunRepository;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** Runs in SQLite or PostgreSQL: a row per run, a row per node of it. */
public final class JdbcRunRepository implements RunRepository {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String COLUMNS = "id, owner, owner_id, command, argv, run_as, selector, parallel, max_errors, "
            + "timeout_ms, batch_wait_ms, stdin, state, created_at, finished_at, copy_spec";
    private final Jdbc jdbc;

    public JdbcRunRepository(Database db) {
        this.jdbc = db.jdbc();
    }

    @Override
    public void insert(Run r) {
        String argv;
        String copy;
        try {
            argv = r.argv() == null ? null : JSON.writeValueAsString(r.argv());
            copy = r.copy() == null ? null : JSON.writeValueAsString(r.copy());
        } catch (JsonProcessingException e) {
            throw new StoreException("cannot encode argv", e);
        }
        jdbc.inTransaction(c -> {
            Jdbc.update(c, "INSERT INTO runs (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    r.id(), r.owner(), r.ownerId(), r.command(), argv, r.runAs(), r.selector(), r.parallel(),
                    r.maxErrors(), r.timeoutMs(), r.batchWaitMs(), r.stdin() ? 1 : 0, r.state().wireName(),
                    r.createdAt().toEpochMilli(), Jdbc.millis(r.finishedAt()), copy);
            for (Run.Node n : r.nodes()) {
                insertNode(c, r.id(), n);
            }
            return null;
        });
    }

    private static void insertNode(Connection c, String runId, Run.Node n) throws SQLException {
        Jdbc.update(c, "INSERT INTO run_nodes (run_id, position, node_id, node_name, task_id, outcome, exit_code, error) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", runId, n.position(), n.nodeId(), n.nodeName(), n.taskId(),
                n.outcome().wireName(), n.exitCode(), n.error());
    }

    @Override
    public void updateNode(String runId, Run.Node n) {
        jdbc.update(UPDATE_NODE, n.taskId(), n.outcome().wireName(), n.exitCode(), n.error(), runId, n.position());
    }

    private static final String UPDATE_NODE = "UPDATE run_nodes SET task_id = ?, outcome = ?, exit_code = ?, error = ? "
            + "WHERE run_id = ? AND position = ?";

    @Override
    public void updateNodes(String runId, List<Run.Node> nodes) {
        if (nodes.isEmpty()) {
            return;
        }
        jdbc.inTransaction(c -> {
            for (Run.Node n : nodes) {
                Jdbc.update(c, UPDATE_NODE, n.taskId(), n.outcome().wireName(), n.exitCode(), n.error(), runId,
                        n.position());
            }
            return null;
        });
    }

    @Override
    public void finish(String runId, Run.State state, long atMillis) {
        jdbc.update("UPDATE runs SET state = ?, finished_at = ? WHERE id = ?", state.wireName(), atMillis, runId);
    }

    @Override
    public Optional<Run> find(String id) {
        return jdbc.inConnectionRead(c -> {
            List<Run> runs = Jdbc.query(c, "SELECT " + COLUMNS + " FROM runs WHERE id = ?", rs -> run(c, rs), id);
            return runs.stream().findFirst();
        });
    }

    @Override
    public List<Run> list(String ownerIdOrNull, int limit) {
        return jdbc.inConnectionRead(c -> ownerIdOrNull == null
                ? Jdbc.query(c, "SELECT " + COLUMNS + " FROM runs ORDER BY created_at DESC, id DESC LIMIT ?",
                        rs -> run(c, rs), limit)
                : Jdbc.query(c, "SELECT " + COLUMNS + " FROM runs WHERE owner_id = ? ORDER BY created_at DESC, "
                        + "id DESC LIMIT ?", rs -> run(c, rs), ownerIdOrNull, limit));
    }

    @Override
    public List<Run> unfinished() {
        return jdbc.inConnectionRead(c -> Jdbc.query(c, "SELECT " + COLUMNS + " FROM runs WHERE state = 'running' "
                + "ORDER BY created_at", rs -> run(c, rs)));
    }

    private static Run run(Connection c, ResultSet rs) throws SQLException {
        String id = rs.getString("id");
        List<String> argv;
        Run.Copy copy;
        try {
            String a = rs.getString("argv");
            argv = a == null ? null : JSON.readValue(a, new TypeReference<List<String>>() { });
            String cs = rs.getString("copy_spec");
            copy = cs == null ? null : JSON.readValue(cs, Run.Copy.class);
        } catch (JsonProcessingException e) {
            throw new StoreException("stored argv is not JSON", e);
        }
        List<Run.Node> nodes = new ArrayList<>(Jdbc.query(c, "SELECT position, node_id, node_name, task_id, outcome, "
                + "exit_code, error FROM run_nodes WHERE run_id = ? ORDER BY position", n -> {
                    int exit = n.getInt("exit_code");
                    Integer exitCode = n.wasNull() ? null : exit;
                    return new Run.Node(n.getInt("position"), n.getString("node_id"), n.getString("node_name"),
                            n.getString("task_id"), Run.Outcome.valueOf(n.getString("outcome").toUpperCase(Locale.ROOT)),
                            exitCode, n.getString("error"));
                }, id));
        return new Run(id, rs.getString("owner"), rs.getString("owner_id"), rs.getString("command"), argv,
                rs.getString("run_as"), rs.getString("selector"), rs.getInt("parallel"), rs.getInt("max_errors"),
                rs.getLong("timeout_ms"), rs.getLong("batch_wait_ms"), rs.getInt("stdin") != 0, Run.State.valueOf(rs.getString("state").toUpperCase(Locale.ROOT)),
                Instant.ofEpochMilli(rs.getLong("created_at")), Jdbc.instant(rs, "finished_at"), List.copyOf(nodes), copy);
    }
}

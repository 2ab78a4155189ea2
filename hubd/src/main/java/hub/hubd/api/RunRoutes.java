package hub.hubd.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import hub.hubd.config.Durations;
import hub.hubd.core.HubException;
import hub.hubd.runs.Run;
import hub.hubd.runs.RunService;
import io.javalin.http.Context;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code /api/v1/runs}: one command on many nodes. */
final class RunRoutes {
    private final RunService runs;
    private final ObjectMapper mapper;

    RunRoutes(RunService runs, ObjectMapper mapper) {
        this.runs = runs;
        this.mapper = mapper;
    }

    /** Body of {@code POST /api/v1/runs}. */
    record CreateRun(String command, List<String> argv, String selector, List<String> nodes, Boolean all,
            String parallel, String maxErrors, String timeout, String user, String batchWait,
            Boolean stdin, CopyJson copy) {
    }

    /** The file of a copy run ({@code hubctl cp -l}): its client then sends it to each node with {@code run=ID}. */
    record CopyJson(String path, String name, Long size, String sha256) {
    }

    /** A node of a run in JSON. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record NodeJson(String node, String name, String taskId, String outcome, Integer exitCode, String error) {
    }

    /** A run in JSON: its settings, counts by outcome, and each node's task and outcome in launch order. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record RunJson(String id, String state, String command, List<String> argv, String user, String selector,
            int parallel, int maxErrors, String timeout, String batchWait, String owner, Instant createdAt, Instant finishedAt,
            Map<String, Integer> counts, List<NodeJson> nodes, CopyJson copy) {
        static RunJson of(Run r) {
            Map<String, Integer> counts = new LinkedHashMap<>();
            for (Run.Outcome o : Run.Outcome.values()) {
                counts.put(camel(o), 0);
            }
            for (Run.Node n : r.nodes()) {
                counts.merge(camel(n.outcome()), 1, Integer::sum);
            }
            return new RunJson(r.id(), r.state().wireName(), r.command(), r.argv(), r.runAs(), r.selector(),
                    r.parallel(), r.maxErrors(), r.timeoutMs() > 0 ? Durations.format(Duration.ofMillis(r.timeoutMs()))
                            : null, r.batchWaitMs() > 0 ? Durations.format(Duration.ofMillis(r.batchWaitMs())) : null,
                    r.owner(), r.createdAt(), r.finishedAt(), counts,
                    r.nodes().stream().map(n -> new NodeJson(n.nodeId(), n.nodeName(), n.taskId(),
                            n.outcome().wireName(), n.exitCode(), n.error())).toList(),
                    r.copy() == null ? null : new CopyJson(r.copy().path(), r.copy().name(), r.copy().size(),
                            r.copy().sha256()));
        }

        private static String camel(Run.Outcome o) {
            return o == Run.Outcome.TIMED_OUT ? "timedOut" : o.wireName();
        }
    }

    void create(Context ctx) {
        CreateRun req = ApiJson.body(ctx, mapper, CreateRun.class);
        Duration timeout;
        try {
            timeout = req.timeout() == null ? null : Durations.parse(req.timeout());
        } catch (IllegalArgumentException e) {
            throw HubException.invalid("timeout: " + e.getMessage());
        }
        Duration batchWait;
        try {
            batchWait = req.batchWait() == null ? null : Durations.parse(req.batchWait());
        } catch (IllegalArgumentException e) {
            throw HubException.invalid("batchWait: " + e.getMessage());
        }
        Run.Copy copy = null;
        if (req.copy() != null) {
            CopyJson c = req.copy();
            if (c.size() == null) {
                throw HubException.invalid("copy.size is required");
            }
            copy = new Run.Copy(c.path(), c.name(), c.size(), c.sha256() == null ? null
                    : c.sha256().toLowerCase(java.util.Locale.ROOT));
        }
        ctx.attribute(AuditRoutes.DETAIL, (Boolean.TRUE.equals(req.all()) ? "on all"
                : req.selector() != null ? "on " + req.selector() : "on " + req.nodes())
                + ": " + (copy != null ? "copy " + copy.name() + " to " + copy.path() + " (sha256 " + copy.sha256() + ")"
                        : req.command() != null ? req.command() : "argv " + req.argv()));
        Run r = runs.create(HttpApi.principal(ctx), new RunService.Request(req.command(), req.argv(), req.selector(),
                req.nodes(), Boolean.TRUE.equals(req.all()), req.parallel(), req.maxErrors(), timeout, req.user(), batchWait,
                Boolean.TRUE.equals(req.stdin()), copy));
        ctx.status(201).json(RunJson.of(r));
    }

    void list(Context ctx) {
        String limit = ctx.queryParam("limit");
        int n;
        try {
            n = limit == null ? 50 : Integer.parseInt(limit);
        } catch (NumberFormatException e) {
            throw HubException.invalid("limit must be a number");
        }
        if (n < 1 || n > 1000) {
            throw HubException.invalid("limit must be between 1 and 1000");
        }
        ctx.json(Map.of("items", runs.list(HttpApi.principal(ctx), n).stream().map(RunJson::of).toList()));
    }

    void show(Context ctx) {
        ctx.json(RunJson.of(runs.get(HttpApi.principal(ctx), ctx.pathParam("id"))));
    }

    void cancel(Context ctx) {
        ctx.status(202).json(RunJson.of(runs.cancel(HttpApi.principal(ctx), ctx.pathParam("id"))));
    }
}

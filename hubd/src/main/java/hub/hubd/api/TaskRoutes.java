package hub.hubd.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import hub.hubd.auth.Principal;
import hub.hubd.config.Durations;
import hub.hubd.core.HubException;
import hub.hubd.history.HistoryLine;
import hub.hubd.history.HistoryPage;
import hub.hubd.history.HistoryStore;
import hub.hubd.registry.NodeDirectory;
import hub.hubd.tasks.Task;
import hub.hubd.tasks.TaskRepository;
import hub.hubd.tasks.TaskService;
import hub.hubd.tasks.TaskState;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/** Tasks ({@code /api/v1/nodes/{node}/tasks}, {@code /api/v1/tasks/{id}}) and node history. */
final class TaskRoutes {
    static final int MAX_LINES = 10_000;

    private final TaskService tasks;
    private final NodeDirectory nodes;
    private final HistoryStore history;
    private final hub.hubd.tasks.RawOutput raw;
    private final ObjectMapper mapper;

    TaskRoutes(TaskService tasks, NodeDirectory nodes, HistoryStore history, hub.hubd.tasks.RawOutput raw,
            ObjectMapper mapper) {
        this.raw = raw;
        this.tasks = tasks;
        this.nodes = nodes;
        this.history = history;
        this.mapper = mapper;
    }

    /** Body of {@code POST …/tasks}. */
    record CreateTask(String command, List<String> argv, String timeout, String user, Boolean stdin) {
    }

    /** Task JSON. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record TaskJson(String id, String node, String state, Integer exitCode, String error, String command,
            List<String> argv, String timeout, String user, String owner, Instant createdAt, Instant startedAt,
            Instant finishedAt, Instant cancelRequestedAt, String cancelRequestedBy) {
        static TaskJson of(Task t) {
            return new TaskJson(t.id(), t.nodeId(), t.state().wireName(), t.exitCode(), t.error(), t.command(),
                    t.argv(), t.timeoutMs() > 0 ? Durations.format(Duration.ofMillis(t.timeoutMs())) : null,
                    t.runAs(), t.owner(), t.createdAt(), t.startedAt(), t.finishedAt(),
                    t.cancel() == null ? null : t.cancel().at(), t.cancel() == null ? null : t.cancel().by());
        }
    }

    /** A history line. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record LineJson(long offset, String taskId, String stream, String text, Instant at) {
        static LineJson of(HistoryLine l) {
            return new LineJson(l.offset(), l.taskId(), l.stream(), l.text(), l.at());
        }
    }

    /** History JSON: {@code gap} only when lines asked for were trimmed. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record HistoryJson(List<LineJson> lines, long nextOffset, HistoryPage.Gap gap) {
    }

    void create(Context ctx) {
        CreateTask req = ApiJson.body(ctx, mapper, CreateTask.class);
        Duration timeout;
        try {
            timeout = req.timeout() == null ? null : Durations.parse(req.timeout());
        } catch (IllegalArgumentException e) {
            throw HubException.invalid("timeout: " + e.getMessage());
        }
        ctx.attribute(AuditRoutes.DETAIL, (req.user() == null ? "" : "as " + req.user() + ": ")
                + (req.command() != null ? req.command() : req.argv() == null ? "" : "argv " + req.argv()));
        // Resolved once, here: the node of a refused attempt is recorded too (one it cannot see is a
        // 404), and the task is created by the id, which the registry answers from memory.
        String nodeId = nodes.resolve(HttpApi.principal(ctx), ctx.pathParam("node")).info().id();
        ctx.attribute(AuditRoutes.NODE, nodeId);
        boolean stdin = Boolean.TRUE.equals(req.stdin());
        if (stdin) {
            ctx.attribute(AuditRoutes.DETAIL, "with stdin: " + ctx.attribute(AuditRoutes.DETAIL));
        }
        Task t = tasks.create(HttpApi.principal(ctx), nodeId, req.command(), req.argv(), timeout, req.user(), stdin);
        ctx.attribute(AuditRoutes.NODE, t.nodeId());
        ctx.attribute(AuditRoutes.DETAIL, "task " + t.id() + ": " + ctx.attribute(AuditRoutes.DETAIL));
        ctx.status(201).json(TaskJson.of(t));
    }

    void show(Context ctx) {
        ctx.json(TaskJson.of(tasks.get(HttpApi.principal(ctx), ctx.pathParam("id"))));
    }

    /** Default and largest {@code ?limit=} of a node's task list. */
    static final int TASKS_PAGE = 50;
    static final int MAX_TASKS_PAGE = 1000;

    /**
     * {@code GET /api/v1/nodes/{node}/tasks}: the node's tasks, newest first, {@value #TASKS_PAGE}
     * at a time unless {@code ?limit=} says otherwise; {@code ?state=} filters (a state,
     * {@code unfinished} or {@code finished}); {@code next} is the cursor of the next page. A task
     * created while paging never shifts the pages (the cursor is a position, not an offset).
     */
    void list(Context ctx) {
        java.util.Set<TaskState> states;
        try {
            states = TaskState.filter(ctx.queryParam("state"));
        } catch (IllegalArgumentException e) {
            throw HubException.invalid(e.getMessage());
        }
        int limit = (int) number("limit", ctx.queryParam("limit"), 1, MAX_TASKS_PAGE, TASKS_PAGE);
        String cursor = ctx.queryParam("cursor");
        List<Task> page = tasks.list(HttpApi.principal(ctx), ctx.pathParam("node"), states,
                cursor == null ? null : decodeCursor(cursor), limit + 1);
        String next = null;
        if (page.size() > limit) {
            page = page.subList(0, limit);
            next = encodeCursor(TaskRepository.Position.of(page.get(limit - 1)));
        }
        ctx.json(new ApiJson.Items<>(page.stream().map(TaskJson::of).toList(), next));
    }

    private static String encodeCursor(TaskRepository.Position p) {
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString(("t:" + p.createdAtMillis() + ":" + p.id()).getBytes(StandardCharsets.UTF_8));
    }

    private static TaskRepository.Position decodeCursor(String cursor) {
        try {
            String[] parts = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8).split(":", 3);
            if (parts.length == 3 && parts[0].equals("t") && !parts[2].isEmpty()) {
                return new TaskRepository.Position(Long.parseLong(parts[1]), parts[2]);
            }
        } catch (IllegalArgumentException e) {
            // answered below (NumberFormatException is one)
        }
        throw HubException.invalid("invalid cursor");
    }

    /** History lines one output request reads at most while looking for a task's lines. */
    static final int MAX_OUTPUT_SCAN = 50_000;

    /** A task's output and where reading it stands. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record OutputJson(TaskJson task, List<LineJson> lines, long nextOffset, boolean complete,
            HistoryPage.Gap gap) {
    }

    /**
     * {@code GET /api/v1/tasks/{id}/output?after=OFFSET&limit=N}: the task's lines (stdout and
     * stderr, oldest first) from its node's history, read within the window its output lies in;
     * {@code nextOffset} continues, {@code complete} once the task has ended and every line of it
     * was returned; {@code gap} when the store trimmed lines in the window.
     */
    void output(Context ctx) {
        Task t = tasks.get(HttpApi.principal(ctx), ctx.pathParam("id"));
        long after = number("after", ctx.queryParam("after"), 0, Long.MAX_VALUE, 0);
        int limit = (int) number("limit", ctx.queryParam("limit"), 1, MAX_LINES, 1000);
        Long until = t.output().until();
        long pos = Math.max(after, t.output().after());
        List<LineJson> lines = new ArrayList<>();
        HistoryPage.Gap gap = null;
        boolean end = until != null && pos >= until;
        int scanned = 0;
        while (!end && lines.size() < limit && scanned < MAX_OUTPUT_SCAN) {
            HistoryPage page = history.after(t.nodeId(), pos, 1000);
            if (gap == null) {
                gap = page.gap();
            }
            if (page.lines().isEmpty()) {
                end = true;
                break;
            }
            for (HistoryLine l : page.lines()) {
                if (until != null && l.offset() > until) {
                    end = true;
                    break;
                }
                pos = l.offset();
                scanned++;
                if (t.id().equals(l.taskId())) {
                    lines.add(LineJson.of(l));
                    if (lines.size() == limit) {
                        break;
                    }
                }
            }
            end = end || (until != null && pos >= until);
        }
        ctx.json(new OutputJson(TaskJson.of(t), lines, pos, end && t.state().isFinal(), gap));
    }

    /** A raw output chunk: {@code data} base64 (standard alphabet, padded). */
    record ChunkJson(long seq, String stream, String data) {
    }

    /** A page of raw output; see {@link hub.hubd.tasks.RawOutput.Page}. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record RawJson(TaskJson task, List<ChunkJson> chunks, long next, boolean complete,
            hub.hubd.tasks.RawOutput.Range missing, Long droppedFrom) {
    }

    /**
     * {@code GET /api/v1/tasks/{id}/raw?after=SEQ&maxBytes=N&release=true}: the task's output chunks
     * after sequence {@code after}, exactly as the agent sent them (base64), up to about
     * {@code maxBytes} (default 1 MiB, at most 8 MiB). {@code next} is the {@code after} of the next
     * call; {@code complete} once the task has ended and every chunk was returned; {@code missing}
     * names chunks that are no longer here (released, expired after --task-output-retention, or not
     * kept past the node's --task-output-max-bytes: {@code droppedFrom}). With {@code release=true}
     * the caller says it has everything up to {@code after}, and the hub forgets it: that needs
     * operator on the node, as running the task did.
     */
    void raw(Context ctx) {
        Principal by = HttpApi.principal(ctx);
        Task t = tasks.get(by, ctx.pathParam("id"));
        long after = number("after", ctx.queryParam("after"), 0, Long.MAX_VALUE, 0);
        long maxBytes = number("maxBytes", ctx.queryParam("maxBytes"), 1, hub.hubd.tasks.RawOutput.MAX_PAGE_BYTES,
                1024 * 1024);
        String release = ctx.queryParam("release");
        if (release != null && !release.equals("true") && !release.equals("false")) {
            throw HubException.invalid("release must be true or false");
        }
        ctx.json(rawPage(by, t, after, maxBytes, "true".equals(release)));
    }

    private RawJson rawPage(Principal by, Task t, long after, long maxBytes, boolean releasing) {
        if (releasing) {
            tasks.requireOperator(by, t);
        }
        var page = raw.read(t, after, maxBytes, releasing);
        Base64.Encoder b64 = Base64.getEncoder();
        List<ChunkJson> chunks = new ArrayList<>(page.chunks().size());
        for (var c : page.chunks()) {
            chunks.add(new ChunkJson(c.sequence(), c.stderr() ? "stderr" : "stdout", b64.encodeToString(c.data())));
        }
        return new RawJson(TaskJson.of(t), chunks, page.next(), page.complete(), page.missing(), page.droppedFrom());
    }

    /** Pages asked for in one {@code POST /api/v1/tasks/raw}, at most. */
    static final int MAX_PAGES = 256;

    /** One page asked for: a task, where to start, whether to release what is before it. */
    record PageRequest(String task, Long after, Long maxBytes, Boolean release) {
    }

    /** The body of {@code POST /api/v1/tasks/raw}. */
    record PagesRequest(List<PageRequest> pages, Long maxBytes) {
    }

    /** One page answered: the page, or why not ({@code error}), or {@code deferred} past the byte budget. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record PageAnswer(String task, RawJson page, Problem error, Boolean deferred) {
    }

    /**
     * {@code POST /api/v1/tasks/raw} {@code {"pages":[{"task":ID,"after":SEQ,"release":true},…],
     * "maxBytes":N}}: several tasks' raw output pages in one request, as {@code GET …/raw} gives
     * each (a run's client reads a thousand tasks so). At most {@value #MAX_PAGES} pages and about
     * {@code maxBytes} (default 1 MiB, at most 8 MiB) in all; pages past that are answered
     * {@code "deferred": true} (ask again). A task the caller may not read is answered with its own
     * {@code error} (a problem: status, detail), the others as usual.
     */
    void rawPages(Context ctx) {
        Principal by = HttpApi.principal(ctx);
        PagesRequest req = ApiJson.body(ctx, mapper, PagesRequest.class);
        if (req.pages() == null || req.pages().isEmpty()) {
            throw HubException.invalid("pages must be a non-empty list of {task, after, release}");
        }
        if (req.pages().size() > MAX_PAGES) {
            throw HubException.invalid("at most " + MAX_PAGES + " pages in one request, not " + req.pages().size());
        }
        long budget = req.maxBytes() == null ? 1024 * 1024 : req.maxBytes();
        if (budget < 1 || budget > hub.hubd.tasks.RawOutput.MAX_PAGE_BYTES) {
            throw HubException.invalid("maxBytes must be between 1 and " + hub.hubd.tasks.RawOutput.MAX_PAGE_BYTES);
        }
        List<PageAnswer> out = new ArrayList<>(req.pages().size());
        for (PageRequest p : req.pages()) {
            if (p == null || p.task() == null || p.task().isBlank()) {
                throw HubException.invalid("every page needs a task id");
            }
            long after = p.after() == null ? 0 : p.after();
            long max = p.maxBytes() == null ? Long.MAX_VALUE : p.maxBytes();
            if (after < 0 || max < 1) {
                throw HubException.invalid("after must be at least 0 and maxBytes at least 1 (task " + p.task() + ")");
            }
            if (budget <= 0) {
                out.add(new PageAnswer(p.task(), null, null, true));
                continue;
            }
            try {
                RawJson page = rawPage(by, tasks.get(by, p.task()), after, Math.min(max, budget),
                        Boolean.TRUE.equals(p.release()));
                for (ChunkJson c : page.chunks()) {
                    budget -= c.data().length() * 3L / 4;
                }
                out.add(new PageAnswer(p.task(), page, null, null));
            } catch (HubException e) {
                out.add(new PageAnswer(p.task(), null, ApiErrors.problem(e), null));
            }
        }
        ctx.json(Map.of("pages", out));
    }

    /** How long a stdin post waits for the agent before answering 503 (the client sends it again). */
    static final Duration STDIN_WAIT = Duration.ofSeconds(20);

    /**
     * {@code POST /api/v1/tasks/{id}/stdin?seq=N[&eof=true]} with the bytes as the body
     * (application/octet-stream, at most 1 MiB): chunk N (1, 2, 3…) of the stdin of a task created
     * with {@code "stdin": true}; {@code eof} closes it after. Answers 204 once the agent wrote it to
     * the process, 503 with Retry-After if the process has not taken it within 20 s (send the same
     * chunk again: it is never written twice), 409 when the task has ended or its process closed its
     * stdin (stop sending). Needs operator on the node. Not audited one by one: the task's creation
     * is, "with stdin".
     */
    void stdin(Context ctx) throws InterruptedException {
        Task t = tasks.get(HttpApi.principal(ctx), ctx.pathParam("id"));
        tasks.requireOperator(HttpApi.principal(ctx), t);
        long seq = number("seq", ctx.queryParam("seq"), 1, Long.MAX_VALUE);
        String eofParam = ctx.queryParam("eof");
        if (eofParam != null && !eofParam.equals("true") && !eofParam.equals("false")) {
            throw HubException.invalid("eof must be true or false");
        }
        byte[] data = ctx.bodyAsBytes();
        if (data.length > hub.hubd.tasks.TaskInputs.MAX_CHUNK) {
            throw HubException.invalid("a stdin chunk is at most " + hub.hubd.tasks.TaskInputs.MAX_CHUNK + " bytes");
        }
        if (tasks.inputs().send(t, seq, data, "true".equals(eofParam), STDIN_WAIT)) {
            ctx.status(204);
        } else {
            ctx.header("Retry-After", "0");
            throw HubException.unavailable("the process has not taken this stdin chunk yet; send it again");
        }
    }

    void cancel(Context ctx) {
        Task t = tasks.cancel(HttpApi.principal(ctx), ctx.pathParam("id"));
        ctx.attribute(AuditRoutes.NODE, t.nodeId());
        ctx.status(202).json(TaskJson.of(t));
    }

    /** {@code GET …/history}: {@code ?tail=N}, {@code ?after=OFFSET&limit=N} or {@code ?maxBytes=N}. */
    void history(Context ctx) {
        String nodeId = nodes.resolve(HttpApi.principal(ctx), ctx.pathParam("node")).info().id();
        String after = ctx.queryParam("after");
        String maxBytes = ctx.queryParam("maxBytes");
        HistoryPage page;
        if (maxBytes != null) {
            page = lastBytes(history.tail(nodeId, MAX_LINES), null,
                    number("maxBytes", maxBytes, 1, 16L * 1024 * 1024));
        } else if (after != null) {
            page = history.after(nodeId, number("after", after, 0, Long.MAX_VALUE),
                    (int) number("limit", ctx.queryParam("limit"), 1, MAX_LINES, 1000));
        } else {
            page = history.tail(nodeId, (int) number("tail", ctx.queryParam("tail"), 0, MAX_LINES, 100));
        }
        answer(ctx, page);
    }

    /**
     * {@code GET /api/v1/nodes/{node}/last-task}: the node's most recent task and its output (as
     * far back as the last {@value #MAX_LINES} lines of history reach), {@code ?maxBytes=} to bound it.
     */
    void lastTask(Context ctx) {
        var by = HttpApi.principal(ctx);
        Task t = tasks.latest(by, ctx.pathParam("node"))
                .orElseThrow(() -> HubException.notFound("node " + ctx.pathParam("node") + " has run no task"));
        long max = number("maxBytes", ctx.queryParam("maxBytes"), 1, 16L * 1024 * 1024, 1024 * 1024);
        HistoryPage page = lastBytes(history.tail(t.nodeId(), MAX_LINES), t.id(), max);
        ctx.json(new LastTaskJson(TaskJson.of(t), page.lines().stream().map(LineJson::of).toList()));
    }

    /** The last task and its output. */
    record LastTaskJson(TaskJson task, List<LineJson> lines) {
    }

    /** The most recent lines (of {@code taskId} if given) whose text adds up to at most {@code max} bytes. */
    private static HistoryPage lastBytes(HistoryPage tail, String taskId, long max) {
        List<HistoryLine> all = tail.lines();
        java.util.ArrayDeque<HistoryLine> kept = new java.util.ArrayDeque<>();
        long bytes = 0;
        for (int i = all.size() - 1; i >= 0; i--) {
            HistoryLine l = all.get(i);
            if (taskId != null && !taskId.equals(l.taskId())) {
                continue;
            }
            long b = l.text().getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 1L;
            if (bytes + b > max) {
                break;
            }
            bytes += b;
            kept.addFirst(l);
        }
        return new HistoryPage(new ArrayList<>(kept), tail.nextOffset(), null);
    }

    /** JSON, or with {@code ?format=text} the lines' text as text/plain, one per line. */
    private void answer(Context ctx, HistoryPage page) {
        if ("text".equals(ctx.queryParam("format"))) {
            StringBuilder sb = new StringBuilder();
            page.lines().forEach(l -> sb.append(l.text()).append('\n'));
            ctx.contentType("text/plain; charset=utf-8").result(sb.toString());
            return;
        }
        ctx.json(new HistoryJson(page.lines().stream().map(LineJson::of).toList(), page.nextOffset(), page.gap()));
    }

    private static long number(String name, String value, long min, long max, long dflt) {
        return value == null ? dflt : number(name, value, min, max);
    }

    static long number(String name, String value, long min, long max) {
        try {
            long v = Long.parseLong(value);
            if (v >= min && v <= max) {
                return v;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw HubException.invalid(name + " must be a number between " + min + " and " + max);
    }
}

package hub.hubd.api;

import io.javalin.http.Context;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The HTTP requests being handled right now, by method and path (never the query: it may carry a
 * join token), so a stop that had to cut some off can say which.
 */
final class InFlight {
    private final Map<Context, String> running = new ConcurrentHashMap<>();

    void started(Context ctx) {
        running.put(ctx, ctx.method().name() + " " + ctx.path());
    }

    void ended(Context ctx) {
        running.remove(ctx);
    }

    /** The requests still running, at most {@code max} of them. */
    List<String> describe(int max) {
        return running.values().stream().sorted().limit(max).toList();
    }

    int count() {
        return running.size();
    }
}

package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import picocli.CommandLine;

/**
 * Completion candidates that come from the hub: node names and ids, join-token ids, listener ids,
 * user names, and context names from the config file. picocli makes them through its factory;
 * outside the shell (the default factory: {@code --help}, man pages, bash completion scripts) they
 * are empty, so nothing is fetched and nothing is frozen into a generated file. In the shell each
 * list is fetched when first asked for and kept for {@link Cache#TTL_NANOS}; a hub that cannot be
 * reached gives no candidates rather than an error in the middle of the line being typed.
 */
final class LiveValues {
    private LiveValues() {
    }

    /** Where candidates come from. */
    interface Source {
        List<String> values(Kind kind);
    }

    /** The kinds of live value. */
    enum Kind { NODES, LABELS, TOKENS, LISTENERS, USERS, CONTEXTS }

    /** A factory for the shell's command line: live candidates from {@code source}. */
    static CommandLine.IFactory factory(Source source) {
        CommandLine.IFactory fallback = CommandLine.defaultFactory();
        return new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                if (Candidates.class.isAssignableFrom(cls)) {
                    Candidates c = (Candidates) fallback.create(cls);
                    c.source = source;
                    return cls.cast(c);
                }
                return fallback.create(cls);
            }
        };
    }

    /** Base of the candidate classes named in {@code completionCandidates}. */
    abstract static class Candidates implements Iterable<String> {
        private final Kind kind;
        Source source;

        Candidates(Kind kind) {
            this.kind = kind;
        }

        @Override
        public Iterator<String> iterator() {
            return source == null ? Collections.emptyIterator() : source.values(kind).iterator();
        }
    }

    /** Node names and ids. */
    static final class Nodes extends Candidates {
        Nodes() {
            super(Kind.NODES);
        }
    }

    /**
     * Label selector parts: each live label key as {@code key=} and each live {@code key=value}, so
     * Tab completes a key, then its values, as a shell completes a directory, then its files.
     * ({@link Completions} completes after the last comma of a selector too.)
     */
    static final class Labels extends Candidates {
        Labels() {
            super(Kind.LABELS);
        }
    }

    /** Join-token ids. */
    static final class Tokens extends Candidates {
        Tokens() {
            super(Kind.TOKENS);
        }
    }

    /** Listener ids. */
    static final class Listeners extends Candidates {
        Listeners() {
            super(Kind.LISTENERS);
        }
    }

    /** User names. */
    static final class Users extends Candidates {
        Users() {
            super(Kind.USERS);
        }
    }

    /** Context names. */
    static final class Contexts extends Candidates {
        Contexts() {
            super(Kind.CONTEXTS);
        }
    }

    /** Fetches from the hub the shell points at, and keeps each list a few seconds. */
    static final class Cache implements Source {
        static final long TTL_NANOS = 5_000_000_000L;

        private record Entry(List<String> values, long at) {
        }

        private final Supplier<HubctlCommand> root;
        private final LongSupplier clock;
        private final Map<Kind, Entry> entries = new ConcurrentHashMap<>();

        Cache(Supplier<HubctlCommand> root, LongSupplier clock) {
            this.root = root;
            this.clock = clock;
        }

        @Override
        public List<String> values(Kind kind) {
            long now = clock.getAsLong();
            Entry e = entries.get(kind);
            if (e != null && now - e.at() < TTL_NANOS) {
                return e.values();
            }
            List<String> fresh;
            try {
                fresh = fetch(kind);
            } catch (HubctlException | IllegalStateException ex) {
                fresh = e == null ? List.of() : e.values(); // keep the last good list, try again next time
            }
            entries.put(kind, new Entry(fresh, now));
            return fresh;
        }

        /** Forgets everything: after a command that changes what the lists hold, or the hub. */
        void invalidate() {
            entries.clear();
        }

        private List<String> fetch(Kind kind) {
            HubctlCommand r = root.get();
            return switch (kind) {
                case NODES -> items(r, "api/v1/nodes", n -> List.of(n.path("name").asText(""), n.path("id").asText("")));
                case LABELS -> labels(r);
                case TOKENS -> items(r, "api/v1/join-tokens", n -> List.of(n.path("id").asText("")));
                case LISTENERS -> items(r, "api/v1/listeners", n -> List.of(n.path("id").asText("")));
                case USERS -> items(r, "api/v1/users", n -> List.of(n.path("name").asText("")));
                case CONTEXTS -> {
                    List<String> names = new ArrayList<>();
                    r.contexts().all().forEach(c -> names.add(c.name()));
                    yield names;
                }
            };
        }

        /** {@code key=} for every label key of the nodes the caller sees, then every {@code key=value}. */
        private static List<String> labels(HubctlCommand r) {
            java.util.TreeSet<String> keys = new java.util.TreeSet<>();
            java.util.TreeSet<String> pairs = new java.util.TreeSet<>();
            for (JsonNode n : r.client().quick().get("api/v1/nodes").path("items")) {
                n.path("labels").fields().forEachRemaining(e -> {
                    keys.add(e.getKey() + "=");
                    pairs.add(e.getKey() + "=" + e.getValue().asText());
                });
            }
            List<String> out = new ArrayList<>(keys);
            out.addAll(pairs);
            return out;
        }

        private static List<String> items(HubctlCommand r, String path, Function<JsonNode, List<String>> fields) {
            LinkedHashSet<String> out = new LinkedHashSet<>();
            for (JsonNode n : r.client().quick().get(path).path("items")) {
                for (String v : fields.apply(n)) {
                    if (!v.isEmpty()) {
                        out.add(v);
                    }
                }
            }
            return List.copyOf(out);
        }
    }
}

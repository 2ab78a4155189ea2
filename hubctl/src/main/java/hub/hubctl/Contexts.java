package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * hubctl's named contexts (a hub URL, an API token, and the CA the user trusted for that hub) and
 * which one is current, kept in {@code $XDG_CONFIG_HOME/hubctl/config} (default
 * {@code ~/.config/hubctl/config}) as JSON:
 * <pre>{"current": "prod", "contexts": {"prod": {"hub": "https://hub:8080", "token": "…",
 *     "caPin": "sha256:…", "ca": "-----BEGIN CERTIFICATE-----…"}}}</pre>
 * The file holds tokens, so it is written with mode 0600 (its directory 0700), through a temporary
 * file and a rename so that a crash never leaves half a file.
 */
final class Contexts {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * One named context.
     *
     * @param ca    the PEM certificate of the CA trusted for {@code hub}, or null (the system's trust)
     * @param caPin its pin, shown by {@code context ls}
     */
    record Context(String name, String hub, String token, String ca, String caPin) {
        Context(String name, String hub, String token) {
            this(name, hub, token, null, null);
        }
    }

    private final Path file;
    private final Map<String, Context> contexts = new LinkedHashMap<>();
    private String current;

    private Contexts(Path file) {
        this.file = file;
    }

    /** The config file named by the environment. */
    static Path file(Map<String, String> env) {
        String explicit = env.get("HUBCTL_CONFIG");
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        return XdgDirs.config(env).resolve("hubctl").resolve("config");
    }

    /** Loads {@code file}; a missing file is an empty set of contexts. */
    static Contexts load(Path file) {
        Contexts c = new Contexts(file);
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            return c;
        } catch (IOException e) {
            throw HubctlException.usage("cannot read " + file + ": " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw HubctlException.usage(file + " is not a hubctl config (expected a JSON object)");
        }
        root.path("contexts").fields().forEachRemaining(e -> c.contexts.put(e.getKey(),
                new Context(e.getKey(), e.getValue().path("hub").asText(null), e.getValue().path("token").asText(null),
                        e.getValue().path("ca").asText(null), e.getValue().path("caPin").asText(null))));
        c.current = root.path("current").asText(null);
        return c;
    }

    Path file() {
        return file;
    }

    Optional<Context> get(String name) {
        return Optional.ofNullable(contexts.get(name));
    }

    /** The current context, if one is set and exists. */
    Optional<Context> current() {
        return current == null ? Optional.empty() : get(current);
    }

    String currentName() {
        return current;
    }

    Iterable<Context> all() {
        return contexts.values();
    }

    /** Adds or replaces a context. */
    void put(Context c) {
        if (!NAME.matcher(c.name()).matches()) {
            throw HubctlException.usage("context name must be 1-64 of A-Z a-z 0-9 . _ : @ - (starting with a "
                    + "letter or digit), not '" + c.name() + "'");
        }
        contexts.put(c.name(), c);
    }

    void use(String name) {
        if (!contexts.containsKey(name)) {
            throw HubctlException.usage("no context named '" + name + "' (see 'hubctl context ls')");
        }
        current = name;
    }

    void remove(String name) {
        if (contexts.remove(name) == null) {
            throw HubctlException.usage("no context named '" + name + "' (see 'hubctl context ls')");
        }
        if (name.equals(current)) {
            current = null;
        }
    }

    /** Writes the file, mode 0600, atomically. */
    void save() {
        ObjectNode root = JSON.createObjectNode();
        if (current != null) {
            root.put("current", current);
        }
        ObjectNode all = root.putObject("contexts");
        for (Context c : contexts.values()) {
            ObjectNode o = all.putObject(c.name());
            o.put("hub", c.hub());
            if (c.token() != null) {
                o.put("token", c.token());
            }
            if (c.ca() != null) {
                o.put("caPin", c.caPin());
                o.put("ca", c.ca());
            }
        }
        try {
            Path dir = file.toAbsolutePath().getParent();
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rwx------")));
            }
            Path tmp = dir.resolve(file.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            try {
                Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (FileAlreadyExistsException e) {
                throw HubctlException.usage("another hubctl is writing " + file + "; try again");
            }
            Files.writeString(tmp, JSON.writeValueAsString(root) + "\n");
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw HubctlException.usage("cannot write " + file + ": " + e.getMessage());
        }
    }
}

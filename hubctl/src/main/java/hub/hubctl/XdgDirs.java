package hub.hubctl;

import java.nio.file.Path;
import java.util.Map;

/** The XDG base directories hubctl keeps its files in, read from a given environment. */
final class XdgDirs {
    private XdgDirs() {
    }

    /** {@code $XDG_CONFIG_HOME}, else {@code ~/.config}. */
    static Path config(Map<String, String> env) {
        return dir(env, "XDG_CONFIG_HOME", ".config");
    }

    /** {@code $XDG_STATE_HOME}, else {@code ~/.local/state}. */
    static Path state(Map<String, String> env) {
        return dir(env, "XDG_STATE_HOME", ".local/state");
    }

    private static Path dir(Map<String, String> env, String var, String underHome) {
        String v = env.get(var);
        // The spec: a relative path in these variables is invalid and is ignored.
        if (v != null && !v.isBlank() && Path.of(v).isAbsolute()) {
            return Path.of(v);
        }
        String home = env.getOrDefault("HOME", System.getProperty("user.home"));
        return Path.of(home).resolve(underHome);
    }
}

package hub.hubd.config;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine;

/**
 * picocli default values for hubd's options, in this order: the {@code HUB_*} environment
 * variable (option {@code --http-port} reads {@code HUB_HTTP_PORT}), then the config file (key
 * {@code http-port}), then the option's own default. A flag on the command line beats them all.
 *
 * <p>The config file is {@code --config}/{@code HUB_CONFIG}, else {@code /etc/hubd/hubd.conf} if it
 * exists: Java properties syntax, {@code key = value}.
 */
public final class HubdDefaults implements CommandLine.IDefaultValueProvider {
    /** Default location of the config file. */
    public static final Path DEFAULT_CONFIG = Path.of("/etc/hubd/hubd.conf");

    private final Map<String, String> env;
    private final Properties file;

    public HubdDefaults(Map<String, String> env, Path configFile) {
        this.env = env;
        this.file = load(configFile);
    }

    /** Finds the config file from the raw arguments and the environment, before parsing. */
    public static Path configFile(String[] args, Map<String, String> env) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--config") && i + 1 < args.length) {
                return Path.of(args[i + 1]);
            }
            if (args[i].startsWith("--config=")) {
                return Path.of(args[i].substring("--config=".length()));
            }
        }
        String e = env.get("HUB_CONFIG");
        if (e != null && !e.isBlank()) {
            return Path.of(e);
        }
        return Files.isRegularFile(DEFAULT_CONFIG) ? DEFAULT_CONFIG : null;
    }

    private static Properties load(Path path) {
        Properties p = new Properties();
        if (path == null) {
            return p;
        }
        try (Reader r = Files.newBufferedReader(path)) {
            p.load(r);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read config file " + path + ": " + e.getMessage(), e);
        }
        return p;
    }

    @Override
    public String defaultValue(CommandLine.Model.ArgSpec argSpec) {
        if (!(argSpec instanceof CommandLine.Model.OptionSpec opt) || !opt.longestName().startsWith("--")) {
            return null;
        }
        String key = opt.longestName().substring(2);
        String envName = "HUB_" + key.toUpperCase(Locale.ROOT).replace('-', '_');
        String v = env.get(envName);
        if (v != null && !v.isEmpty()) {
            return v;
        }
        v = file.getProperty(key);
        if (v != null && !v.isBlank()) {
            return v.strip();
        }
        return opt.defaultValue();
    }
}

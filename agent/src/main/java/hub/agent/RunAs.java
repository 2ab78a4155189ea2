package hub.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which local user a task runs as, and whether this node allows it. The hub may ask for a user
 * ({@code RunCommand.run_as}, from {@code hubctl exec --user}); otherwise the agent's default
 * ({@code --run-as}, else the user the agent runs as: root for the packaged agent) is used. The
 * node's owner caps what the hub may do in {@code /etc/hub-agent/agent.conf}, read at each task:
 * <pre>
 * allow-users=deploy,www-data   # only these users (absent or empty: any)
 * deny-root=true                # never root, whatever allow-users says
 * </pre>
 * An unknown key or a bad value refuses every task until fixed: a misspelt cap must not be an open
 * door. To run as another user the agent must be root; it starts the command through
 * {@code runuser -u USER --}, which sets HOME, SHELL, USER and LOGNAME for that user.
 */
public final class RunAs {
    /** The file the packaged agent reads. */
    public static final Path DEFAULT_CONFIG = Path.of("/etc/hub-agent/agent.conf");

    private final String defaultUser;
    private final Path config;
    private final String agentUser;

    /** Why a task may not run as the user it asked for; the message goes to the hub as the task's error. */
    public static final class Refused extends Exception {
        Refused(String message) {
            super(message);
        }
    }

    /**
     * @param defaultUser the user tasks run as when the hub names none, or null for the agent's own
     * @param config      the policy file, or null for none (every user the agent can switch to)
     * @param agentUser   the user the agent runs as
     */
    public RunAs(String defaultUser, Path config, String agentUser) {
        this.defaultUser = defaultUser == null || defaultUser.isBlank() ? agentUser : defaultUser.strip();
        this.config = config;
        this.agentUser = agentUser;
    }

    /** The agent's own user, no policy file: what tests and the simulator use. */
    public static RunAs ownUser() {
        return new RunAs(null, null, System.getProperty("user.name"));
    }

    /** The user a task that asked for {@code requested} (empty: none) runs as. */
    public String userFor(String requested) {
        return requested == null || requested.isEmpty() ? defaultUser : requested;
    }

    /** Who a task runs as: the agent's own user, or another through {@code runuser} (its path). */
    public record Target(String user, boolean agentUser, String runuser) {
    }

    /**
     * The user a task asking for {@code requested} runs as, checked against the node's policy.
     *
     * @throws Refused when the policy does not allow the user, or the agent cannot switch to it
     */
    public Target target(String requested) throws Refused {
        String user = userFor(requested);
        Policy p = policy();
        if (p.denyRoot && user.equals("root")) {
            throw new Refused("this node does not allow tasks as root (deny-root in " + config + ")");
        }
        if (!p.allowUsers.isEmpty() && !p.allowUsers.contains(user)) {
            throw new Refused("this node does not allow tasks as " + user + " (allow-users in " + config + ": "
                    + String.join(",", p.allowUsers) + ")");
        }
        if (user.equals(agentUser)) {
            return new Target(user, true, null);
        }
        if (!agentUser.equals("root")) {
            throw new Refused("the agent runs as " + agentUser + " and cannot run tasks as " + user);
        }
        return new Target(user, false, runuser());
    }

    /**
     * The argv to start for a task asking for {@code requested}: {@code argv} itself when it runs as
     * the agent's user, else wrapped in {@code runuser}.
     *
     * @throws Refused when the policy does not allow the user, or the agent cannot switch to it
     */
    public List<String> command(String requested, List<String> argv) throws Refused {
        Target t = target(requested);
        if (t.agentUser()) {
            return argv;
        }
        List<String> wrapped = new ArrayList<>(argv.size() + 4);
        wrapped.add(t.runuser());
        wrapped.add("-u");
        wrapped.add(t.user());
        wrapped.add("--");
        wrapped.addAll(argv);
        return wrapped;
    }

    private static String runuser() throws Refused {
        for (String p : List.of("/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser", "/bin/runuser")) {
            if (Files.isExecutable(Path.of(p))) {
                return p;
            }
        }
        throw new Refused("runuser (util-linux) is not installed: cannot run tasks as another user");
    }

    private record Policy(Set<String> allowUsers, boolean denyRoot) {
    }

    private Policy policy() throws Refused {
        if (config == null) {
            return new Policy(Set.of(), false);
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(config);
        } catch (NoSuchFileException e) {
            return new Policy(Set.of(), false);
        } catch (IOException e) {
            throw new Refused("cannot read " + config + ": " + e.getMessage());
        }
        Set<String> allow = new LinkedHashSet<>();
        boolean denyRoot = false;
        int n = 0;
        for (String raw : lines) {
            n++;
            String line = raw.strip();
            int hash = line.indexOf('#');
            if (hash >= 0) {
                line = line.substring(0, hash).strip();
            }
            if (line.isEmpty()) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw new Refused(config + " line " + n + ": expected key=value");
            }
            String key = line.substring(0, eq).strip().toLowerCase(Locale.ROOT);
            String value = line.substring(eq + 1).strip();
            switch (key) {
                case "allow-users" -> {
                    for (String u : value.split(",")) {
                        if (!u.isBlank()) {
                            allow.add(u.strip());
                        }
                    }
                }
                case "deny-root" -> {
                    if (!value.equals("true") && !value.equals("false")) {
                        throw new Refused(config + " line " + n + ": deny-root must be true or false");
                    }
                    denyRoot = value.equals("true");
                }
                default -> throw new Refused(config + " line " + n + ": unknown key '" + key
                        + "' (allow-users, deny-root); no task runs until it is fixed");
            }
        }
        return new Policy(java.util.Collections.unmodifiableSet(allow), denyRoot);
    }
}

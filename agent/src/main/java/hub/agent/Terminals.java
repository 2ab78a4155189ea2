package hub.agent;

import com.pty4j.PtyProcess;
import com.pty4j.PtyProcessBuilder;
import com.pty4j.WinSize;
import hub.proto.agent.v1.RunCommand;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Starts terminal tasks ({@code RunCommand.terminal}, {@code hubctl ssh}) on a pseudo-terminal
 * (pty4j), as a login would: the user's login shell ({@code SHELL -l}) or {@code SHELL -c COMMAND},
 * in the user's home, with the environment a login gives (HOME, USER, LOGNAME, SHELL, PATH, TERM)
 * plus what the hub passed. As another user the agent (root) goes through
 * {@code runuser -u USER -- env -i …}, so nothing of the agent's own environment leaks into the
 * session.
 */
final class Terminals {
    /** Largest window side taken; larger sizes are clamped. */
    static final int MAX_SIDE = 1000;

    private Terminals() {
    }

    /** A local user's account, as getent (or /etc/passwd) gives it. */
    record Account(String user, String home, String shell) {
    }

    /** The account of {@code user}; refused when it does not exist. */
    static Account account(String user) throws RunAs.Refused {
        String line = getent(user);
        if (line == null) {
            line = passwdLine(user);
        }
        if (line == null) {
            throw new RunAs.Refused("no local user " + user + " on this node");
        }
        String[] f = line.split(":", -1);
        if (f.length < 7) {
            throw new RunAs.Refused("the passwd entry of " + user + " is malformed");
        }
        String home = f[5].isEmpty() ? "/" : f[5];
        String shell = f[6].isEmpty() ? "/bin/sh" : f[6];
        return new Account(user, home, shell);
    }

    private static String getent(String user) {
        try {
            Process p = new ProcessBuilder("getent", "passwd", user).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readNBytes(4096);
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return null;
            }
            String s = new String(out, StandardCharsets.UTF_8).strip();
            return p.exitValue() == 0 && s.startsWith(user + ":") ? s : null;
        } catch (IOException e) {
            return null; // no getent: /etc/passwd below
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static String passwdLine(String user) {
        try {
            for (String l : Files.readAllLines(Path.of("/etc/passwd"))) {
                if (l.startsWith(user + ":")) {
                    return l;
                }
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }

    /** Sets the terminal's size from $1 and $2, then runs the rest of the arguments. */
    static final String SET_SIZE = "stty cols \"$1\" rows \"$2\" 2>/dev/null; shift 2; exec \"$@\"";

    /** How a terminal task starts: argv, environment and directory. */
    record Launch(List<String> argv, Map<String, String> env, String directory) {
    }

    /**
     * What to start for {@code cmd} as {@code account}: as it is when that is the agent's own user,
     * else through {@code runuser} (the path given).
     */
    static Launch launch(RunCommand cmd, Account account, boolean asAgentUser, String runuser, int columns,
            int rows) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("HOME", account.home());
        env.put("USER", account.user());
        env.put("LOGNAME", account.user());
        env.put("SHELL", account.shell());
        env.put("PATH", account.user().equals("root")
                ? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
                : "/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games");
        String term = cmd.getTerminal().getTerm();
        env.put("TERM", term.isEmpty() ? "xterm" : term);
        env.putAll(cmd.getEnvMap());
        List<String> shellArgv = new ArrayList<>();
        shellArgv.add(account.shell());
        if (cmd.getArgvCount() > 0) {
            shellArgv = new ArrayList<>(cmd.getArgvList());
        } else if (!cmd.getShellCommand().isEmpty()) {
            shellArgv.add("-c");
            shellArgv.add(cmd.getShellCommand());
        } else {
            shellArgv.add("-l");
        }
        // The size is set by the terminal's first process, before the shell reads it: the size pty4j
        // sets from outside may land after a quick command (`stty size`) has already run.
        List<String> sized = new ArrayList<>(List.of("/bin/sh", "-c", SET_SIZE, "hub-terminal",
                Integer.toString(columns), Integer.toString(rows)));
        sized.addAll(shellArgv);
        shellArgv = sized;
        String dir = Files.isDirectory(Path.of(account.home())) ? account.home() : "/";
        if (asAgentUser) {
            return new Launch(shellArgv, env, dir);
        }
        List<String> argv = new ArrayList<>();
        argv.add(runuser);
        argv.add("-u");
        argv.add(account.user());
        argv.add("--");
        argv.add("/usr/bin/env");
        argv.add("-i");
        env.forEach((k, v) -> argv.add(k + "=" + v));
        argv.addAll(shellArgv);
        return new Launch(argv, Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), dir);
    }

    /** Starts {@code l} on a new pseudo-terminal of the size asked for. */
    static PtyProcess start(Launch l, int columns, int rows) throws IOException {
        PtyProcess p = new PtyProcessBuilder(l.argv().toArray(String[]::new))
                .setEnvironment(l.env())
                .setDirectory(l.directory())
                .setRedirectErrorStream(true)
                .setInitialColumns(columns)
                .setInitialRows(rows)
                .start();
        // pty4j's initial size does not reach the terminal on Linux: set it now.
        p.setWinSize(new WinSize(columns, rows));
        return p;
    }

    /** A side of the window asked for: 0 for the default, clamped to 1…{@value #MAX_SIDE}. */
    static int side(int asked, int dflt) {
        if (asked <= 0) {
            return dflt;
        }
        return Math.min(asked, MAX_SIDE);
    }
}

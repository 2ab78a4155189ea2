package hub.hubd;

import hub.hubd.config.HubConfig;
import hub.hubd.config.HubdDefaults;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import sun.misc.Signal;

/**
 * hubd's entry point: parse options (flag &gt; env &gt; config file &gt; default), choose the log
 * format, start the {@link HubDaemon}, and on SIGTERM or SIGINT stop it and exit 0.
 *
 * <p>No logger is touched before the log format is chosen, so this class has none as a field.
 */
public final class HubdMain {
    /** Exit status for bad options or configuration. */
    static final int EXIT_USAGE = 2;
    /** Exit status when the hub could not start (port taken, database unusable). */
    static final int EXIT_START_FAILED = 1;

    private HubdMain() {
    }

    /** A start failure whose message is the whole story (no stack trace wanted). */
    static boolean expected(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.BindException || t instanceof java.nio.file.AccessDeniedException) {
                return true;
            }
        }
        return e instanceof IllegalStateException || e instanceof IllegalArgumentException
                || e instanceof java.io.UncheckedIOException;
    }

    private static int runUsage(CommandLine.ParseResult leaf) {
        ((Runnable) leaf.commandSpec().userObject()).run();
        return 0;
    }

    public static void main(String[] args) {
        HubdCommand command = new HubdCommand();
        CommandLine cli = new CommandLine(command);
        HubConfig config;
        try {
            cli.setDefaultValueProvider(new HubdDefaults(System.getenv(),
                    HubdDefaults.configFile(args, System.getenv())));
            CommandLine.ParseResult parsed = cli.parseArgs(args);
            if (CommandLine.executeHelpRequest(parsed) != null) {
                System.exit(0);
            }
            if (parsed.hasSubcommand()) {
                // hubd ca show: reads files, starts nothing; logs nothing.
                CommandLine.ParseResult leaf = parsed;
                while (leaf.hasSubcommand()) {
                    leaf = leaf.subcommand();
                }
                Object cmd = leaf.commandSpec().userObject();
                int code = cmd instanceof java.util.concurrent.Callable<?> c ? (Integer) c.call() : runUsage(leaf);
                System.exit(code);
                return;
            }
            config = command.call();
        } catch (CommandLine.ParameterException e) {
            cli.getErr().println("hubd: " + e.getMessage());
            cli.getErr().println("Try 'hubd --help' for more information.");
            cli.getErr().flush();
            System.exit(EXIT_USAGE);
            return;
        } catch (Exception e) {
            // Bad values (a duration, a port, an unreadable config file): before logging exists.
            cli.getErr().println("hubd: " + e.getMessage());
            cli.getErr().flush();
            System.exit(EXIT_USAGE);
            return;
        }
        System.setProperty("logback.configurationFile",
                config.logFormat().equals("json") ? "logback-json.xml" : "logback-text.xml");
        org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(HubdMain.class);
        // grpc-java (and the JDK) log through java.util.logging: into logback, in the chosen format.
        org.slf4j.bridge.SLF4JBridgeHandler.removeHandlersForRootLogger();
        org.slf4j.bridge.SLF4JBridgeHandler.install();

        HubDaemon daemon;
        try {
            daemon = HubDaemon.start(config);
        } catch (RuntimeException e) {
            if (expected(e)) {
                // A port in use, a locked data dir, unusable certificate files: one line says it all.
                log.error("hubd could not start: {}", e.getMessage());
            } else {
                log.error("hubd could not start: {}", e.getMessage(), e);
            }
            System.exit(EXIT_START_FAILED);
            return;
        }
        CountDownLatch stop = new CountDownLatch(1);
        // Handling the signals ourselves (instead of a shutdown hook) lets hubd stop in order and
        // exit 0, which is what systemd expects of a clean stop.
        Signal.handle(new Signal("TERM"), s -> stop.countDown());
        Signal.handle(new Signal("INT"), s -> stop.countDown());
        try {
            stop.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        log.info("signal received, stopping");
        daemon.close();
        ch.qos.logback.classic.LoggerContext ctx =
                (ch.qos.logback.classic.LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
        ctx.stop();
        System.exit(0);
    }
}

package hub.hubd;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import hub.hubd.core.LogText;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** What hubd's log lines look like in each --log-format, and text from outside made safe in them. */
class LogFormatTest {
    private static String encode(String config, String message, Object... args) throws Exception {
        LoggerContext ctx = new LoggerContext();
        ctx.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        JoranConfigurator jc = new JoranConfigurator();
        jc.setContext(ctx);
        jc.doConfigure(LogFormatTest.class.getResource(config));
        @SuppressWarnings("unchecked")
        var appender = (OutputStreamAppender<ILoggingEvent>) ctx.getLogger("ROOT").getAppender("STDOUT");
        LoggingEvent e = new LoggingEvent("x", ctx.getLogger("hub.test"), Level.WARN, message, null, args);
        return new String(appender.getEncoder().encode(e), StandardCharsets.UTF_8);
    }

    @Test
    void jsonLinesCarryTheFormattedMessage() throws Exception {
        String line = encode("/logback-json.xml", "loaded {} nodes", 3);
        assertThat(line).contains("\"formattedMessage\":\"loaded 3 nodes\"").doesNotContain("{} nodes")
                .doesNotContain("\"context\"");
        assertThat(line.strip().lines()).hasSize(1);
    }

    @Test
    void textFromAnAgentCannotForgeLinesOrReachTheTerminal() throws Exception {
        String hostile = "bad\u001b[31mkey\nFAKE 2026 ERROR hubd is compromised\r\u0000";
        String safe = LogText.safe(hostile);
        assertThat(safe).doesNotContain("\u001b", "\n", "\r", "\u0000").contains("\\u001b").contains("\\u000a");
        assertThat(encode("/logback-text.xml", "rejected: {}", safe).strip().lines()).hasSize(1);
        assertThat(LogText.safe("x".repeat(1000))).hasSize(LogText.MAX_FOR_TESTS + 1);
    }
}

package hub.hubctl;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** How hubctl cp reads its arguments, and which paths from a node's listing it refuses. */
class CpPathsTest {
    @Test
    void aNodeSideIsNodeColonPathAndALocalOneHasASlashBeforeAnyColon() {
        assertThat(CpCommand.Side.parse("web-1:/etc/hosts")).isEqualTo(new CpCommand.Side("web-1", "/etc/hosts"));
        assertThat(CpCommand.Side.parse(":/etc/hosts")).isEqualTo(new CpCommand.Side("", "/etc/hosts"));
        assertThat(CpCommand.Side.parse("./a:b").remote()).isFalse();
        assertThat(CpCommand.Side.parse("/tmp/x:y").remote()).isFalse();
        assertThat(CpCommand.Side.parse("file.txt").remote()).isFalse();
    }

    @Test
    void aListingMayNotLeadOutOfTheDirectoryBeingCopied() {
        assertThat(FileCopier.safeRelative("a/b/c.txt")).isTrue();
        assertThat(FileCopier.safeRelative("..hidden/x")).isTrue();
        for (String bad : new String[] {"", "/etc/passwd", "../x", "a/../../x", "a//b", "a/./b", "a/", "..",
            "a\u001b]0;title\u0007", "a\nb"}) {
            assertThat(FileCopier.safeRelative(bad)).as(bad).isFalse();
        }
    }

    @Test
    void retryDurations() {
        assertThat(CpCommand.duration("90s").toSeconds()).isEqualTo(90);
        assertThat(CpCommand.duration("5m").toMinutes()).isEqualTo(5);
        assertThat(CpCommand.duration("0").isZero()).isTrue();
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> CpCommand.duration("soon")))
                .isInstanceOf(HubctlException.class).hasMessageContaining("--retry-for");
    }
}

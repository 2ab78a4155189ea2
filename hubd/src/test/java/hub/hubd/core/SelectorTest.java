package hub.hubd.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** kubectl's selector grammar: each form, combined, canonical text, and clear errors. */
class SelectorTest {
    static final Map<String, String> WEB = Map.of("team", "web", "env", "prod");
    static final Map<String, String> DB = Map.of("team", "db");

    static boolean m(String s, Map<String, String> labels) {
        return Selector.parse(s).matches(labels);
    }

    @Test
    void everyFormMatchesAsKubectlDoes() {
        assertThat(m("team=web", WEB)).isTrue();
        assertThat(m("team==web", WEB)).isTrue();
        assertThat(m("team=web", DB)).isFalse();
        assertThat(m("team!=web", DB)).isTrue();
        assertThat(m("env!=prod", DB)).as("!= holds when the key is absent").isTrue();
        assertThat(m("team in (web, cache)", WEB)).isTrue();
        assertThat(m("team in (cache)", WEB)).isFalse();
        assertThat(m("env notin (prod)", WEB)).isFalse();
        assertThat(m("env notin (prod)", DB)).as("notin holds when absent").isTrue();
        assertThat(m("env", WEB)).isTrue();
        assertThat(m("env", DB)).isFalse();
        assertThat(m("!env", DB)).isTrue();
        assertThat(m("team=web,env=prod", WEB)).isTrue();
        assertThat(m("team in (web,db),!env", DB)).isTrue();
        assertThat(m("team in (web,db),!env", WEB)).isFalse();
    }

    @Test
    void equalSelectorsShareACanonicalForm() {
        assertThat(Selector.parse(" team == web ,env in ( a , b )").toString()).isEqualTo("team=web,env in (a,b)");
        assertThat(Selector.parse("team==web")).isEqualTo(Selector.parse("team=web"));
    }

    @Test
    void malformedSelectorsAreRefusedNamingWhatIsWrong() {
        for (String bad : new String[] {"", " ", "=web", "team in (web", "team in web)", "a,,b", "te am=x",
            "team=we b", "!team=web", "team notin", "k=" + "x".repeat(200), "x".repeat(2000)}) {
            assertThatThrownBy(() -> Selector.parse(bad)).as(bad).isInstanceOf(HubException.class)
                    .hasMessageContaining("selector");
        }
        assertThatThrownBy(() -> Selector.parse("team=we\u001b[31mb")).hasMessageNotContaining("\u001b");
    }
}

package hub.hubd.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

class TextLinesTest {
    @Test
    void readsTheLinesOfABlockInOrderAndByIndex() {
        TextLines lines = new TextLines("one\n\nthree\nfour", 4);
        assertThat(lines).containsExactly("one", "", "three", "four");
        assertThat(lines.get(2)).isEqualTo("three");
        assertThat(lines).isEqualTo(List.of("one", "", "three", "four"));
        assertThat(lines.chars()).isEqualTo(4 + 1 + 6 + 5); // each line and its end
        assertThat(new TextLines("", 1)).containsExactly("");
        assertThat(new TextLines("trailing\n", 2)).containsExactly("trailing", "");
    }

    @Test
    void encodesAsAJsonArrayOfLines() throws Exception {
        var event = new Event.TaskOutput("n1", "u1", "t1", "stdout", new TextLines("a \"quoted\"\nb", 2));
        String json = new ObjectMapper().writeValueAsString(event);
        assertThat(json).contains("\"lines\":[\"a \\\"quoted\\\"\",\"b\"]");
    }

    @Test
    void aBlockShortOfItsCountFailsWhenRead() {
        TextLines lines = new TextLines("only\none", 3);
        assertThatThrownBy(() -> List.copyOf(lines)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> new TextLines("x", 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> lines.get(3)).isInstanceOf(IndexOutOfBoundsException.class);
    }
}

package hub.hubd.events;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** How long a busy bus gathers events into each listener's next frame, by how many listen. */
class LingerTest {
    @Test
    void aBusyBusLingersLongerWithMoreListenersToKeepItsFramesNearFortyThousandASecond() {
        assertThat(EventBus.lingerMillis(1)).isEqualTo(10);
        assertThat(EventBus.lingerMillis(400)).isEqualTo(10);
        assertThat(EventBus.lingerMillis(1000)).isEqualTo(25); // 1,000 listeners x 40 frames a second
        assertThat(EventBus.lingerMillis(2000)).isEqualTo(50);
        assertThat(EventBus.lingerMillis(100_000)).isEqualTo(50); // never more than 50 ms
    }
}

package hub.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class TimersTest {
    @Test
    void aCancelledTimerLeavesTheQueueAndWhatItHeldWithIt() {
        ScheduledExecutorService timers = Timers.create("t", 1);
        try {
            // a task's timeout of a day, cancelled when the task ends a moment later
            ScheduledFuture<?> timeout = timers.schedule(() -> { }, 1, TimeUnit.DAYS);
            assertThat(((ScheduledThreadPoolExecutor) timers).getQueue()).hasSize(1);
            timeout.cancel(false);
            assertThat(((ScheduledThreadPoolExecutor) timers).getQueue()).isEmpty();
        } finally {
            timers.shutdownNow();
        }
    }
}

package hub.hubd.events;

/** Where components publish events ({@link EventBus} in the hub). */
public interface EventPublisher {
    /** Publishes; returns at once, never throws. */
    void publish(Event event);

    /** Whether anyone wants events of this type now (lets publishers skip heartbeats). */
    boolean wants(String type);

    /** Publishes nothing. */
    EventPublisher NONE = new EventPublisher() {
        @Override
        public void publish(Event event) {
        }

        @Override
        public boolean wants(String type) {
            return false;
        }
    };
}

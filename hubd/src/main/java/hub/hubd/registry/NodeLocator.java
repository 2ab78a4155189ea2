package hub.hubd.registry;

import java.util.Collection;
import java.util.Map;

/** Which hub of a cluster holds a node's stream (presence), read in one batch. */
public interface NodeLocator {
    /**
     * The hub holding each of {@code nodeIds}, for those held by a hub that is alive; nodes held
     * by none are absent.
     *
     * @throws hub.hubd.core.StoreException when presence cannot be read
     */
    Map<String, String> holders(Collection<String> nodeIds);

    /** This hub's id. */
    String localHub();
}

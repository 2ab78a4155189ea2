package hub.hubd.grpc;

import hub.hubd.core.HubException;
import hub.hubd.core.Ids;
import hub.hubd.core.StoreException;
import hub.hubd.core.StoreFaults;
import io.grpc.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/** Maps core failures to gRPC {@link Status}es, once; unexpected ones are logged with an error id. */
final class GrpcErrors {
    private static final Logger log = LoggerFactory.getLogger(GrpcErrors.class);

    private GrpcErrors() {
    }

    static Status status(Throwable t) {
        if (t instanceof HubException e) {
            Status s = switch (e.kind()) {
                case INVALID -> Status.INVALID_ARGUMENT;
                case UNAUTHENTICATED -> Status.UNAUTHENTICATED;
                case FORBIDDEN -> Status.PERMISSION_DENIED;
                case NOT_FOUND -> Status.NOT_FOUND;
                case CONFLICT -> Status.ALREADY_EXISTS;
                case UNAVAILABLE -> Status.RESOURCE_EXHAUSTED;
            };
            return s.withDescription(e.getMessage());
        }
        String errorId = Ids.newId();
        MDC.put("errorId", errorId);
        try {
            if (t instanceof StoreException se) {
                StoreFaults.report(log, "an agent call", se, errorId);
                return se.kind() == StoreException.Kind.FULL
                        ? Status.RESOURCE_EXHAUSTED.withDescription("hub storage is full; retry later (error id "
                                + errorId + ")")
                        : Status.UNAVAILABLE.withDescription("hub storage unavailable; retry (error id "
                                + errorId + ")");
            }
            log.error("agent call failed (error id {})", errorId, t);
            return Status.INTERNAL.withDescription("internal error (error id " + errorId + ")");
        } finally {
            MDC.remove("errorId");
        }
    }
}

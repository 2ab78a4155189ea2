package hub.hubd.audit;

import java.util.List;

/** The audit table: appended to, read with filters, and trimmed by age. Blocks on the database. */
public interface AuditRepository {
    /** The highest seq stored, or 0. */
    long lastSeq();

    void append(AuditEntry e);

    /**
     * What to read: entries with {@code seq > after} (or, when {@code after} is null, the latest
     * {@code limit}), at or after {@code sinceMillis}, of {@code userName} and {@code nodeId} when
     * given; oldest first.
     */
    record Query(Long after, Long sinceMillis, String userName, String nodeId, int limit) {
    }

    List<AuditEntry> find(Query q);

    /** Deletes entries older than {@code beforeMillis}; how many. */
    int deleteBefore(long beforeMillis);
}

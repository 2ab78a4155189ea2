package hub.hubd.tls;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Client certificate chains that passed the full check, by the SHA-256 of their exact bytes, so a
 * node that reconnects with the same certificate is not checked again while it stays within its
 * validity. The full check (PKIX path validation, an ECDSA verification in Java, about a millisecond)
 * was a quarter of the hub's CPU in a restart storm of 10,000 agents.
 *
 * <p>The certificates the hub CA signs for nodes are remembered as they are issued: a node's first
 * reconnect, after a restart too, is then as cheap as its later ones.
 *
 * <p>Only what cannot change for the same bytes is remembered: that the signatures chain to an
 * anchor of the set this cache belongs to (a new set of CAs gets a new cache), and the key usages.
 * What depends on the time is checked again on every hit ({@code notBefore}, {@code notAfter} of
 * every certificate of the chain). Revocation is not a certificate matter here: the registry
 * refuses a certificate whose node was removed. Bounded: past {@link #MAX} chains it starts over.
 *
 * <p>A restarted hub is met by its whole fleet at once, so what it remembered is kept in its data
 * dir ({@link #save}, {@link #load}): a file as private as the CA key beside it, valid only for the
 * same set of CAs (their digest heads the file). A file that does not match is ignored.
 */
final class VerifiedChains {
    /** About 120 bytes each: 200,000 agents' certificates in under 32 MB. */
    static final int MAX = 262_144;

    /** The chain's digest, as four longs (equality and hashing without arrays). */
    private record Digest(long a, long b, long c, long d) {
    }

    /** When the whole chain is valid: from the latest notBefore to the earliest notAfter. */
    private record Window(long from, long until) {
    }

    private final ConcurrentHashMap<Digest, Window> passed = new ConcurrentHashMap<>();
    /** The digest of the set of CAs these chains were checked against: one memory per set. */
    private final byte[] anchors;

    VerifiedChains(byte[] anchors) {
        this.anchors = anchors.clone();
    }
    /** Bumped by every change, so an unchanged memory is not written again. */
    private final java.util.concurrent.atomic.AtomicLong changes = new java.util.concurrent.atomic.AtomicLong();
    private volatile long savedAt = -1;
    private static final int MAGIC = 0x4d485643; // "MHVC"
    private static final int VERSION = 1;

    /** Whether {@code chain} passed before and is valid at {@code nowMillis}. */
    boolean known(X509Certificate[] chain, long nowMillis) {
        Digest d = digest(chain);
        if (d == null) {
            return false;
        }
        Window w = passed.get(d);
        return w != null && nowMillis >= w.from() && nowMillis <= w.until();
    }

    /** Remembers that {@code chain} passed the full check (or is one the hub CA itself just signed). */
    void passed(X509Certificate[] chain) {
        Digest d = digest(chain);
        if (d == null) {
            return;
        }
        long from = Long.MIN_VALUE;
        long until = Long.MAX_VALUE;
        for (X509Certificate c : chain) {
            from = Math.max(from, c.getNotBefore().getTime());
            until = Math.min(until, c.getNotAfter().getTime());
        }
        if (passed.size() >= MAX) {
            passed.clear();
        }
        if (!new Window(from, until).equals(passed.put(d, new Window(from, until)))) {
            changes.incrementAndGet();
        }
    }

    /**
     * Writes what is remembered and still valid at {@code nowMillis} to {@code file} (mode 0600,
     * replaced atomically), under the digest of the CAs it was checked against,
     * unless nothing changed since the last write.
     */
    synchronized void save(java.nio.file.Path file, long nowMillis) throws java.io.IOException {
        long at = changes.get();
        if (at == savedAt) {
            return;
        }
        java.nio.file.Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        java.nio.file.Files.deleteIfExists(tmp);
        java.nio.file.Files.createFile(tmp, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        java.util.List<java.util.Map.Entry<Digest, Window>> live = passed.entrySet().stream()
                .filter(e -> e.getValue().until() >= nowMillis).toList();
        try (var out = new java.io.DataOutputStream(new java.io.BufferedOutputStream(
                java.nio.file.Files.newOutputStream(tmp), 1 << 16))) {
            out.writeInt(MAGIC);
            out.writeInt(VERSION);
            out.write(anchors);
            out.writeInt(live.size());
            for (var e : live) {
                Digest d = e.getKey();
                out.writeLong(d.a());
                out.writeLong(d.b());
                out.writeLong(d.c());
                out.writeLong(d.d());
                out.writeLong(e.getValue().from());
                out.writeLong(e.getValue().until());
            }
        }
        java.nio.file.Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        savedAt = at;
    }

    /**
     * What {@link #save} wrote to {@code file} for the same {@code anchors}, less what is no longer
     * valid at {@code nowMillis}; empty when there is no such file or it is for other CAs.
     */
    static VerifiedChains load(java.nio.file.Path file, byte[] anchors, long nowMillis) throws java.io.IOException {
        VerifiedChains v = new VerifiedChains(anchors);
        if (file == null || !java.nio.file.Files.isRegularFile(file)) {
            return v;
        }
        try (var in = new java.io.DataInputStream(new java.io.BufferedInputStream(
                java.nio.file.Files.newInputStream(file), 1 << 16))) {
            if (in.readInt() != MAGIC || in.readInt() != VERSION) {
                return v;
            }
            byte[] theirs = in.readNBytes(anchors.length);
            if (!java.security.MessageDigest.isEqual(theirs, anchors)) {
                return v; // checked against other CAs: worth nothing now
            }
            int n = Math.min(in.readInt(), MAX);
            for (int i = 0; i < n; i++) {
                Digest d = new Digest(in.readLong(), in.readLong(), in.readLong(), in.readLong());
                Window w = new Window(in.readLong(), in.readLong());
                if (w.until() >= nowMillis) {
                    v.passed.put(d, w);
                }
            }
        } catch (java.io.EOFException e) {
            return new VerifiedChains(anchors); // cut short: start empty rather than trust half of it
        }
        v.savedAt = v.changes.get();
        return v;
    }

    int size() {
        return passed.size();
    }

    /**
     * The SHA-256 of the chain's certificates, each prefixed with its length. The key exchange type
     * a client check is given is not part of it: the JDK's check of a client chain does not depend on it.
     */
    private static Digest digest(X509Certificate[] chain) {
        if (chain == null || chain.length == 0) {
            return null;
        }
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (X509Certificate c : chain) {
                byte[] der = c.getEncoded();
                md.update(lengthOf(der.length));
                md.update(der);
            }
            java.nio.ByteBuffer h = java.nio.ByteBuffer.wrap(md.digest());
            return new Digest(h.getLong(), h.getLong(), h.getLong(), h.getLong());
        } catch (CertificateEncodingException e) {
            return null; // not cached: checked in full every time
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static byte[] lengthOf(int n) {
        return new byte[] {(byte) (n >>> 24), (byte) (n >>> 16), (byte) (n >>> 8), (byte) n};
    }

}

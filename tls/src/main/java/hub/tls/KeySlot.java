package hub.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A key manager holding one key and certificate chain that can be replaced at any time: hubd
 * swaps in a renewed or reloaded serving certificate, an agent its renewed node certificate, and
 * every handshake after that uses the new one while established connections keep theirs.
 *
 * <p>A handshake asks for an alias first and for the key and chain later; each {@link #set} gets
 * a new alias and the previous entry is kept, so a handshake that began before a swap still gets
 * a matching key and chain.
 */
public final class KeySlot extends X509ExtendedKeyManager {
    private record Entry(String alias, PrivateKey key, X509Certificate[] chain) {
    }

    private final AtomicLong generation = new AtomicLong();
    private volatile Entry current;
    private volatile Entry previous;

    /** An empty slot: a client with it presents no certificate, a server cannot complete a handshake. */
    public KeySlot() {
    }

    /** Puts {@code key} and its chain (leaf first) in the slot. */
    public synchronized void set(PrivateKey key, List<X509Certificate> chain) {
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("a key needs its certificate");
        }
        if (!chain.get(0).getPublicKey().getAlgorithm().equals(key.getAlgorithm())) {
            throw new IllegalArgumentException("the private key does not belong to the certificate");
        }
        previous = current;
        current = new Entry("k" + generation.incrementAndGet(), key, chain.toArray(X509Certificate[]::new));
    }

    /** Empties the slot. */
    public synchronized void clear() {
        previous = current;
        current = null;
    }

    /** The leaf certificate in the slot, or null. */
    public X509Certificate certificate() {
        Entry e = current;
        return e == null ? null : e.chain()[0];
    }

    private Entry find(String alias) {
        Entry c = current;
        if (c != null && c.alias().equals(alias)) {
            return c;
        }
        Entry p = previous;
        return p != null && p.alias().equals(alias) ? p : null;
    }

    private String aliasFor(String... keyTypes) {
        Entry e = current;
        if (e == null || keyTypes == null) {
            return null;
        }
        String alg = e.key().getAlgorithm();
        for (String t : keyTypes) {
            if (alg.equals(t)) {
                return e.alias();
            }
        }
        return null;
    }

    @Override
    public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
        return aliasFor(keyTypes);
    }

    @Override
    public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
        return aliasFor(keyTypes);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return aliasFor(keyType);
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return aliasFor(keyType);
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        String a = aliasFor(keyType);
        return a == null ? null : new String[] {a};
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return getClientAliases(keyType, issuers);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        Entry e = find(alias);
        return e == null ? null : e.chain().clone();
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        Entry e = find(alias);
        return e == null ? null : e.key();
    }
}

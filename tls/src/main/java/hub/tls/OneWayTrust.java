package hub.tls;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A trust manager for one direction only: the servers a client connects to, or the clients a
 * server accepts. The JDK calls one of three overloads (with a socket, an engine, or neither); all
 * of them reach {@link #check}, and the other direction's are refused.
 */
public abstract class OneWayTrust extends X509ExtendedTrustManager {
    private final boolean servers;

    /** @param servers whether this verifies servers (true) or clients (false) */
    protected OneWayTrust(boolean servers) {
        this.servers = servers;
    }

    /** Verifies {@code chain}; {@code socket} or {@code engine} (or neither) is the connection. */
    protected abstract void check(X509Certificate[] chain, String authType, Socket socket, SSLEngine engine)
            throws CertificateException;

    /** Calls the overload of {@code tm} that matches the connection given (for delegating). */
    protected final void delegate(X509ExtendedTrustManager tm, X509Certificate[] chain, String authType,
            Socket socket, SSLEngine engine) throws CertificateException {
        if (servers) {
            if (engine != null) {
                tm.checkServerTrusted(chain, authType, engine);
            } else if (socket != null) {
                tm.checkServerTrusted(chain, authType, socket);
            } else {
                tm.checkServerTrusted(chain, authType);
            }
        } else if (engine != null) {
            tm.checkClientTrusted(chain, authType, engine);
        } else if (socket != null) {
            tm.checkClientTrusted(chain, authType, socket);
        } else {
            tm.checkClientTrusted(chain, authType);
        }
    }

    private void server(X509Certificate[] chain, String authType, Socket socket, SSLEngine engine)
            throws CertificateException {
        if (!servers) {
            throw new CertificateException("this trust manager verifies clients only");
        }
        check(chain, authType, socket, engine);
    }

    private void client(X509Certificate[] chain, String authType, Socket socket, SSLEngine engine)
            throws CertificateException {
        if (servers) {
            throw new CertificateException("this trust manager verifies servers only");
        }
        check(chain, authType, socket, engine);
    }

    @Override
    public final void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        server(chain, authType, socket, null);
    }

    @Override
    public final void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        server(chain, authType, null, engine);
    }

    @Override
    public final void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        server(chain, authType, null, null);
    }

    @Override
    public final void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        client(chain, authType, socket, null);
    }

    @Override
    public final void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        client(chain, authType, null, engine);
    }

    @Override
    public final void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        client(chain, authType, null, null);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }
}

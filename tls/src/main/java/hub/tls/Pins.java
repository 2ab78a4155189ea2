package hub.tls;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Public-key pins. A CA pin is {@code sha256:} and the lowercase hex SHA-256 of the
 * certificate's DER SubjectPublicKeyInfo (what kubeadm's {@code --discovery-token-ca-cert-hash}
 * and RFC 7469 hash), so it survives re-issuing the certificate with the same key. curl's
 * {@code --pinnedpubkey} takes the same hash as {@code sha256//} and base64.
 */
public final class Pins {
    private static final Pattern FORM = Pattern.compile("sha256:[0-9a-f]{64}");

    private Pins() {
    }

    /** The pin of {@code cert}'s public key. */
    public static String of(X509Certificate cert) {
        return of(cert.getPublicKey());
    }

    /** The pin of {@code key}: its {@link PublicKey#getEncoded()} is the DER SubjectPublicKeyInfo. */
    public static String of(PublicKey key) {
        return "sha256:" + HexFormat.of().formatHex(sha256(key.getEncoded()));
    }

    /** The same hash in the form curl's {@code --pinnedpubkey} takes: {@code sha256//BASE64}. */
    public static String curl(X509Certificate cert) {
        return "sha256//" + Base64.getEncoder().encodeToString(sha256(cert.getPublicKey().getEncoded()));
    }

    /**
     * Checks and normalizes a pin a user gave (hex may be in upper case).
     *
     * @throws IllegalArgumentException with a message fit for the user
     */
    public static String parse(String pin) {
        String p = pin == null ? "" : pin.strip().toLowerCase(Locale.ROOT);
        if (!FORM.matcher(p).matches()) {
            throw new IllegalArgumentException("invalid CA pin '" + pin
                    + "': expected sha256: and 64 hex digits, as 'hubd ca show' prints it");
        }
        return p;
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}

package hub.hubd.core;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Random ids and secrets, and the hash that secrets are stored under.
 *
 * <p>Secrets (API tokens, join tokens, node credentials) carry 256 random bits, so a plain
 * SHA-256 is the right at-rest hash: there is nothing to brute-force that a slow KDF would
 * protect, and a fast hash lets an agent's reconnect be checked in memory in microseconds.
 */
public final class Ids {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final char[] ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz".toCharArray();

    private Ids() {
    }

    /** A short random id, 16 characters of Crockford-style base32 (80 bits), e.g. a node id. */
    public static String newId() {
        byte[] b = new byte[10];
        RANDOM.nextBytes(b);
        StringBuilder sb = new StringBuilder(16);
        long bits = 0;
        int nbits = 0;
        for (byte x : b) {
            bits = (bits << 8) | (x & 0xff);
            nbits += 8;
            while (nbits >= 5) {
                nbits -= 5;
                sb.append(ID_ALPHABET[(int) ((bits >>> nbits) & 31)]);
            }
        }
        return sb.toString();
    }

    /** A new secret: {@code prefix} then 43 characters of base64url (256 bits). */
    public static String newSecret(String prefix) {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** Hex SHA-256 of {@code secret}, the form secrets are stored and looked up in. */
    public static String hash(String secret) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(md.digest(secret.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}

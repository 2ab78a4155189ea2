package hub.hubd.tls;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * Private keys in the PEM forms operators have: PKCS#8 ({@code BEGIN PRIVATE KEY}, what hubd writes
 * and certbot makes), SEC1 ({@code BEGIN EC PRIVATE KEY}) and PKCS#1 ({@code BEGIN RSA PRIVATE KEY}).
 * Encrypted keys are refused: hubd starts unattended.
 */
final class PemKeys {
    private PemKeys() {
    }

    /**
     * The first private key in {@code pem}.
     *
     * @throws IllegalArgumentException naming {@code file} when there is none or it is encrypted
     */
    static PrivateKey read(String pem, Path file) {
        try (PEMParser p = new PEMParser(new StringReader(pem))) {
            JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
            Object o;
            while ((o = p.readObject()) != null) {
                if (o instanceof PEMKeyPair kp) {
                    return conv.getKeyPair(kp).getPrivate();
                }
                if (o instanceof PrivateKeyInfo info) {
                    return conv.getPrivateKey(info);
                }
                if (o instanceof org.bouncycastle.openssl.PEMEncryptedKeyPair
                        || o instanceof org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo) {
                    throw new IllegalArgumentException(file + " holds an encrypted private key; hubd needs it "
                            + "unencrypted (mode 0600, readable by hubd only)");
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(file + " is not a PEM private key: " + e.getMessage(), e);
        }
        throw new IllegalArgumentException(file + " holds no private key (BEGIN PRIVATE KEY)");
    }

    /** Whether {@code key} is the private half of {@code pub}: it signs something {@code pub} verifies. */
    static boolean matches(PrivateKey key, PublicKey pub) {
        if (!key.getAlgorithm().equals(pub.getAlgorithm())) {
            return false;
        }
        String alg = switch (key.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            default -> key.getAlgorithm();
        };
        try {
            byte[] probe = "mesh-hub key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            Signature s = Signature.getInstance(alg);
            s.initSign(key);
            s.update(probe);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(alg);
            v.initVerify(pub);
            v.update(probe);
            return v.verify(sig);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}

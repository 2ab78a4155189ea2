/**
 * How the parts of Mesh Hub verify each other over TLS, with the JDK alone: CA pins
 * ({@code sha256:} and the hex SHA-256 of a certificate's SubjectPublicKeyInfo, as kubeadm and
 * RFC 7469 compute them), PEM files, trust managers that verify a hub against a pin or a CA file,
 * and a key manager whose certificate can be replaced while connections stay up.
 *
 * <p>Issuing certificates (the hub CA, CSRs) needs BouncyCastle and lives in hubd; this package is
 * what hubctl, hub-agent and hubd share, and it keeps hubctl's start-up free of BouncyCastle.
 */
package hub.tls;

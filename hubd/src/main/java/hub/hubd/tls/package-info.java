/**
 * The hub's TLS: its CA (made on first start in {@code <data-dir>/tls}), the serving certificate
 * both listeners present (made and renewed from the CA, or the operator's files, reloaded when
 * they change), node certificates signed from the CSRs agents send (their keys never leave the
 * node), and the trust manager that accepts client certificates. X.509 work is BouncyCastle's;
 * nothing here writes ASN.1 by hand. How agents use it is in the agent protocol's comments
 * ({@code agent.proto}: Hello, Welcome, RenewCertificate).
 */
package hub.hubd.tls;

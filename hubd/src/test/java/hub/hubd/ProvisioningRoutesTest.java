package hub.hubd;

import static org.assertj.core.api.Assertions.assertThat;

import hub.hubd.config.HubConfig;
import hub.tls.Pem;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The provisioning routes on a real hub over HTTPS: a usable join token, sent as a bearer token
 * (never in the URL), gets a script pinned to the served artifact's checksum and to the hub's CA,
 * with addresses from --advertise whatever Host the request says; without an artifact both routes
 * answer 503 problem+json, never a script. (The script run end to end is
 * packaging/src/test/provision.sh.)
 */
class ProvisioningRoutesTest {
    @TempDir
    Path dir;
    TestHub hub;

    @AfterEach
    void stop() throws Exception {
        hub.close();
    }

    @Test
    void aUsableTokenGetsAScriptPinnedToTheArtifactAndTheCa() throws Exception {
        Path artifact = Files.write(dir.resolve("hub-agent.tar.gz"), new byte[] {1, 2, 3});
        hub = new TestHub(HubConfig.defaults(dir.resolve("data")).withAgentArtifact(artifact)
                .withAdvertise(List.of("hub.example", "127.0.0.1")));
        String token = hub.joinToken(1, "15m", Map.of("role", "web"));
        TestHub.Answer s = hub.call("GET", "/api/v1/provisioning/script?hub=h1.example:9090,h2:9091", null, token);
        assertThat(s.status()).as(s.body()).isEqualTo(200);
        assertThat(s.contentType()).startsWith("text/x-shellscript");
        // sha256 of 01 02 03
        String sha = "039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81";
        String pin = hub.daemon.tls().caPin();
        assertThat(s.body()).startsWith("#!/bin/sh").contains("AGENT_SHA256='" + sha + "'")
                .contains("HUB_ADDRESSES='h1.example:9090,h2:9091'").contains("NODE_LABELS='role=web'")
                .contains("AGENT_URL='https://hub.example:" + hub.daemon.httpPort() + "/api/v1/provisioning/agent'")
                .contains("HUB_CA_PIN='" + pin + "'")
                .contains("HUB_CA_PEM='" + Pem.certificate(hub.daemon.tls().caCertificate()) + "'");
        TestHub.Answer a = hub.call("GET", "/api/v1/provisioning/agent", null, null);
        assertThat(a.status()).isEqualTo(200);
        assertThat(a.contentType()).isEqualTo("application/gzip");
        TestHub.Answer defaultHub = hub.call("GET", "/api/v1/provisioning/script", null, token);
        assertThat(defaultHub.body()).contains("HUB_ADDRESSES='hub.example:" + hub.daemon.grpcPort() + "'");
        TestHub.Answer bad = hub.call("GET", "/api/v1/provisioning/script?hub=a%20b:1", null, token);
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.contentType()).startsWith("application/problem+json");
        assertThat(hub.call("GET", "/api/v1/provisioning/script", null, "hjt_nopenopenopenopenope").status())
                .isEqualTo(401);
        assertThat(hub.call("GET", "/api/v1/provisioning/script", null, null).status()).isEqualTo(401);
    }

    @Test
    void aTokenInTheUrlIsRefusedAndNeverEchoed() throws Exception {
        Path artifact = Files.write(dir.resolve("a.tar.gz"), new byte[] {1});
        hub = new TestHub(HubConfig.defaults(dir.resolve("data")).withAgentArtifact(artifact));
        String token = hub.joinToken(1, "15m", Map.of());
        TestHub.Answer s = hub.call("GET", "/api/v1/provisioning/script?token=" + token, null, null);
        assertThat(s.status()).isEqualTo(400);
        assertThat(s.contentType()).startsWith("application/problem+json");
        assertThat(s.body()).contains("Authorization: Bearer").doesNotContain(token);
    }

    @Test
    void theHostHeaderDoesNotChooseWhereAgentsGo() throws Exception {
        Path artifact = Files.write(dir.resolve("hub-agent.tar.gz"), new byte[] {1, 2, 3});
        hub = new TestHub(HubConfig.defaults(dir.resolve("data")).withAgentArtifact(artifact));
        String token = hub.joinToken(1, "15m", Map.of());
        // A raw request, since HTTP clients do not let a caller set Host.
        try (SSLSocket sock = (SSLSocket) TestTls.https(hub.daemon).getSocketFactory()
                .createSocket("127.0.0.1", hub.daemon.httpPort())) {
            OutputStream out = sock.getOutputStream();
            out.write(("GET /api/v1/provisioning/script HTTP/1.1\r\nHost: evil.example:443\r\n"
                    + "Authorization: Bearer " + token + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = sock.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            in.transferTo(got);
            String answer = got.toString(StandardCharsets.UTF_8);
            assertThat(answer).startsWith("HTTP/1.1 200").doesNotContain("evil.example")
                    .contains("HUB_ADDRESSES='127.0.0.1:" + hub.daemon.grpcPort() + "'")
                    .contains("AGENT_URL='https://127.0.0.1:" + hub.daemon.httpPort());
        }
    }

    @Test
    void withoutAnArtifactBothRoutesAre503() {
        hub = new TestHub(HubConfig.defaults(dir.resolve("data")));
        String token = hub.joinToken(1, "15m", Map.of());
        for (String path : new String[] {"/api/v1/provisioning/agent", "/api/v1/provisioning/script"}) {
            TestHub.Answer a = hub.call("GET", path, null, token);
            assertThat(a.status()).as(path).isEqualTo(503);
            assertThat(a.contentType()).startsWith("application/problem+json");
            assertThat(a.body()).contains("agent artifact").doesNotContain("#!/bin/sh");
        }
    }
}

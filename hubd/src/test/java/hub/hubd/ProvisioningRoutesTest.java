package hub.hubd;

import static org.assertj.core.api.Assertions.assertThat;

import hub.hubd.config.HubConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The provisioning routes on a real hub: a usable join token gets a script pinned to the served
 * artifact's checksum; without an artifact both routes answer 503 problem+json, never a script.
 * (The script run end to end is packaging/src/test/provision.sh.)
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
    void aUsableTokenGetsAScriptPinnedToTheArtifact() throws Exception {
        Path artifact = Files.write(dir.resolve("hub-agent.tar.gz"), new byte[] {1, 2, 3});
        hub = new TestHub(HubConfig.defaults(dir.resolve("data")).withAgentArtifact(artifact));
        String token = hub.joinToken(1, "15m", Map.of("role", "web"));
        TestHub.Answer s = hub.call("GET", "/api/v1/provisioning/script?token=" + token + "&hub=h1.example:9090,h2:9091",
                null, null);
        assertThat(s.status()).isEqualTo(200);
        assertThat(s.contentType()).startsWith("text/x-shellscript");
        // sha256 of 01 02 03
        String sha = "039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81";
        assertThat(s.body()).startsWith("#!/bin/sh").contains("AGENT_SHA256='" + sha + "'")
                .contains("HUB_ADDRESSES='h1.example:9090,h2:9091'").contains("NODE_LABELS='role=web'")
                .contains("AGENT_URL='http://127.0.0.1:" + hub.daemon.httpPort() + "/api/v1/provisioning/agent'");
        TestHub.Answer a = hub.call("GET", "/api/v1/provisioning/agent", null, null);
        assertThat(a.status()).isEqualTo(200);
        assertThat(a.contentType()).isEqualTo("application/gzip");
        TestHub.Answer defaultHub = hub.call("GET", "/api/v1/provisioning/script?token=" + token, null, null);
        assertThat(defaultHub.body()).contains("HUB_ADDRESSES='127.0.0.1:" + hub.daemon.grpcPort() + "'");
        TestHub.Answer bad = hub.call("GET", "/api/v1/provisioning/script?token=" + token + "&hub=a%20b:1", null, null);
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.contentType()).startsWith("application/problem+json");
        assertThat(hub.call("GET", "/api/v1/provisioning/script?token=hjt_nope", null, null).status()).isEqualTo(401);
    }

    @Test
    void withoutAnArtifactBothRoutesAre503() {
        hub = new TestHub(HubConfig.defaults(dir.resolve("data")));
        String token = hub.joinToken(1, "15m", Map.of());
        for (String path : new String[] {"/api/v1/provisioning/agent", "/api/v1/provisioning/script?token=" + token}) {
            TestHub.Answer a = hub.call("GET", path, null, null);
            assertThat(a.status()).as(path).isEqualTo(503);
            assertThat(a.contentType()).startsWith("application/problem+json");
            assertThat(a.body()).contains("agent artifact").doesNotContain("#!/bin/sh");
        }
    }
}

package hub.hubd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import hub.agent.AgentConnection;
import hub.hubd.config.HubConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every node route × every kind of caller × own, granted and foreign nodes, over the real API.
 * Callers: an admin; an operator who owns {@code op-1}; a viewer granted {@code team=web} as viewer
 * and one granted it as operator; an operator who owns nothing; no token. Nodes: {@code op-1}
 * (the operator's, team=db), {@code web-1} (the admin's, team=web), {@code adm-1} (the admin's,
 * team=ops). A node a caller may not see is 404 (it does not exist for it), one it sees without the
 * role needed is 403, and every answer is checked, not only the refusals.
 */
class AccessMatrixTest {
    static final String[] NODES = {"op-1", "web-1", "adm-1"};
    @TempDir
    Path dir;
    TestHub hub;
    final Map<String, String> tokens = new LinkedHashMap<>();
    final Map<String, String> nodeIds = new LinkedHashMap<>();
    final Map<String, String> tasks = new LinkedHashMap<>();
    final List<String> mismatches = new ArrayList<>();
    int cases;

    @BeforeEach
    void start() {
        hub = new TestHub(HubConfig.defaults(dir.resolve("data")));
        tokens.put("admin", hub.adminToken());
        tokens.put("op", user("op", "operator"));
        tokens.put("vera", user("vera", "viewer"));
        tokens.put("olga", user("olga", "viewer"));
        tokens.put("stranger", user("stranger", "operator"));
        tokens.put("anon", null);
        grant("vera", "team=web", "viewer");
        grant("olga", "team=web", "operator");
        String opJoin = hub.call("POST", "/api/v1/join-tokens", "{\"labels\":{\"team\":\"db\"}}", tokens.get("op"))
                .json().get("token").asText();
        List<AgentConnection> agents = List.of(hub.agent("op-1", opJoin),
                hub.agent("web-1", hub.joinToken(1, "1h", Map.of("team", "web"))),
                hub.agent("adm-1", hub.joinToken(1, "1h", Map.of("team", "ops"))));
        await().atMost(Duration.ofSeconds(10)).until(() -> agents.stream().allMatch(AgentConnection::connected));
        for (int i = 0; i < NODES.length; i++) {
            nodeIds.put(NODES[i], agents.get(i).nodeId());
            TestHub.Answer t = hub.call("POST", "/api/v1/nodes/" + NODES[i] + "/tasks", "{\"command\":\"sleep 600\"}",
                    hub.adminToken());
            tasks.put(NODES[i], t.json().get("id").asText());
        }
    }

    @AfterEach
    void stop() throws Exception {
        hub.close();
    }

    String user(String name, String role) {
        return hub.call("POST", "/api/v1/users", "{\"name\":\"" + name + "\",\"role\":\"" + role + "\"}",
                hub.adminToken()).json().get("token").asText();
    }

    void grant(String user, String selector, String role) {
        assertThat(hub.call("POST", "/api/v1/users/" + user + "/grants",
                "{\"selector\":\"" + selector + "\",\"role\":\"" + role + "\"}", hub.adminToken()).status()).isEqualTo(201);
    }

    /** What each caller sees of each node: "r" reads, "x" also runs commands, "" nothing. */
    static final Map<String, Map<String, String>> ACCESS = Map.of(
            "admin", Map.of("op-1", "x", "web-1", "x", "adm-1", "x"),
            "op", Map.of("op-1", "x", "web-1", "", "adm-1", ""),
            "vera", Map.of("op-1", "", "web-1", "r", "adm-1", ""),
            "olga", Map.of("op-1", "", "web-1", "x", "adm-1", ""),
            "stranger", Map.of("op-1", "", "web-1", "", "adm-1", ""),
            "anon", Map.of("op-1", "", "web-1", "", "adm-1", ""));

    void expect(String who, String method, String path, String body, int status) {
        cases++;
        TestHub.Answer a = hub.call(method, path, body, tokens.get(who));
        if (a.status() != status) {
            mismatches.add(who + " " + method + " " + path + ": expected " + status + ", got " + a.status() + " "
                    + a.body());
        } else if (status >= 400 && !a.contentType().startsWith("application/problem+json")) {
            mismatches.add(who + " " + method + " " + path + ": " + status + " without problem+json");
        }
    }

    /** {@code ok} when the access allows, 401 for no token, 404 when it cannot see, else 403. */
    static int status(String who, String access, String needed, int ok) {
        if (who.equals("anon")) {
            return 401;
        }
        if (access.isEmpty()) {
            return 404;
        }
        return needed.equals("r") || access.equals("x") ? ok : 403;
    }

    @Test
    void everyNodeRouteAnswersEachCallerByWhatItOwnsAndIsGranted() {
        for (String who : ACCESS.keySet()) {
            for (String node : NODES) {
                String a = ACCESS.get(who).get(node);
                String id = nodeIds.get(node);
                String task = tasks.get(node);
                for (String ref : List.of(node, id)) { // by name and by id alike
                    expect(who, "GET", "/api/v1/nodes/" + ref, null, status(who, a, "r", 200));
                    expect(who, "GET", "/api/v1/nodes/" + ref + "/history?tail=5", null, status(who, a, "r", 200));
                    expect(who, "GET", "/api/v1/nodes/" + ref + "/tasks", null, status(who, a, "r", 200));
                    expect(who, "GET", "/api/v1/nodes/" + ref + "/last-task", null, status(who, a, "r", 200));
                }
                expect(who, "GET", "/api/v1/tasks/" + task, null, status(who, a, "r", 200));
                expect(who, "GET", "/api/v1/tasks/" + task + "/output", null, status(who, a, "r", 200));
                expect(who, "POST", "/api/v1/nodes/" + node + "/tasks", "{\"command\":\"true\"}",
                        status(who, a, "x", 201));
                expect(who, "POST", "/api/v1/tasks/" + task + "/cancel", null, status(who, a, "x", 202));
                // assigning is for admins (an empty owner is the admin's 400, after the check)
                expect(who, "POST", "/api/v1/nodes/" + node + "/owner", "{\"owner\":\"\"}",
                        who.equals("anon") ? 401 : who.equals("admin") ? 400 : 403);
                // removing is for admins and owners: refusals here, the allowed ones below
                boolean owner = who.equals("admin") || (who.equals("op") && node.equals("op-1"));
                if (!owner) {
                    expect(who, "DELETE", "/api/v1/nodes/" + node, null,
                            who.equals("anon") ? 401 : a.isEmpty() ? 404 : 403);
                }
            }
        }
        // hub-wide routes
        for (String who : ACCESS.keySet()) {
            boolean admin = who.equals("admin");
            int adminOnly = who.equals("anon") ? 401 : admin ? 200 : 403;
            expect(who, "GET", "/api/v1/users", null, adminOnly);
            expect(who, "GET", "/api/v1/audit", null, adminOnly);
            expect(who, "POST", "/api/v1/users/vera/grants", "{\"selector\":\"a=b\",\"role\":\"viewer\"}",
                    who.equals("anon") ? 401 : admin ? 201 : 403);
            expect(who, "GET", "/api/v1/status", null, who.equals("anon") ? 401 : 200);
            expect(who, "POST", "/api/v1/join-tokens", "{}",
                    who.equals("anon") ? 401 : who.equals("vera") || who.equals("olga") ? 403 : 201);
        }
        // status counts only what each may see
        Map<String, Integer> seen = Map.of("admin", 3, "op", 1, "vera", 1, "olga", 1, "stranger", 0);
        seen.forEach((who, n) -> {
            cases++;
            int total = hub.call("GET", "/api/v1/status", null, tokens.get(who)).json().get("nodesTotal").asInt();
            if (total != n) {
                mismatches.add(who + " status nodesTotal: expected " + n + ", got " + total);
            }
            cases++;
            int listed = hub.call("GET", "/api/v1/nodes", null, tokens.get(who)).json().get("items").size();
            if (listed != n) {
                mismatches.add(who + " nodes listed: expected " + n + ", got " + listed);
            }
        });
        // the allowed removals, last
        expect("op", "DELETE", "/api/v1/nodes/op-1", null, 204);
        expect("admin", "DELETE", "/api/v1/nodes/web-1", null, 204);
        System.out.println("AccessMatrixTest: " + cases + " cases");
        assertThat(mismatches).as(cases + " cases").isEmpty();
    }
}

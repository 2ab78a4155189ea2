package hub.hubd.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import hub.hubd.auth.Grant;
import hub.hubd.auth.Principal;
import hub.hubd.auth.UserRepository;
import hub.hubd.auth.Users;
import hub.hubd.core.HubException;
import io.javalin.http.Context;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** {@code /api/v1/users}: admins manage users and their API tokens. */
final class UserRoutes {
    private final Users users;
    private final ObjectMapper mapper;

    UserRoutes(Users users, ObjectMapper mapper) {
        this.users = users;
        this.mapper = mapper;
    }

    /** Body of {@code POST /api/v1/users}. */
    record CreateUser(String name, String role) {
    }

    /** Body of {@code POST /api/v1/users/{name}/grants}. */
    record GrantRequest(String selector, String role) {
    }

    /** A grant in JSON. */
    record GrantJson(String id, String selector, String role, Instant createdAt) {
        static GrantJson of(Grant g) {
            return new GrantJson(g.id(), g.selector().toString(), g.role().wireName(), g.createdAt());
        }
    }

    /** User JSON; {@code token} only when just created or rotated (shown once). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record UserJson(String id, String name, String role, Instant createdAt, int activeTokens, List<GrantJson> grants,
            String token) {
        static UserJson of(UserRepository.User u, List<Grant> grants, String token) {
            return new UserJson(u.id(), u.name(), u.role().wireName(), u.createdAt(), u.activeTokens(),
                    grants.stream().map(GrantJson::of).toList(), token);
        }
    }

    private UserJson json(Principal by, UserRepository.User u, String token) {
        return UserJson.of(u, users.grants(by, u.name()), token);
    }

    void create(Context ctx) {
        CreateUser req = ApiJson.body(ctx, mapper, CreateUser.class);
        Users.WithToken w = users.create(HttpApi.principal(ctx), req.name(), req.role());
        ctx.status(201).json(json(HttpApi.principal(ctx), w.user(), w.token()));
    }

    void list(Context ctx) {
        Principal by = HttpApi.principal(ctx);
        ctx.json(Map.of("items", users.list(by).stream().map(u -> json(by, u, null)).toList()));
    }

    void get(Context ctx) {
        Principal by = HttpApi.principal(ctx);
        ctx.json(json(by, users.get(by, ctx.pathParam("name")), null));
    }

    void rotateToken(Context ctx) {
        Principal by = HttpApi.principal(ctx);
        Users.WithToken w = users.rotateToken(by, ctx.pathParam("name"));
        ctx.json(json(by, w.user(), w.token()));
    }

    /** {@code DELETE /api/v1/users/{name}[?reassignTo=USER]}: 409 when it owns nodes and none is given. */
    void remove(Context ctx) {
        String to = ctx.queryParam("reassignTo");
        if (to != null) {
            ctx.attribute(AuditRoutes.DETAIL, "nodes reassigned to " + to);
        }
        users.remove(HttpApi.principal(ctx), ctx.pathParam("name"), to);
        ctx.status(204);
    }

    /** {@code POST /api/v1/users/{name}/grants {"selector":"team=web","role":"viewer"}}: 201 with the grant. */
    void grant(Context ctx) {
        GrantRequest req = ApiJson.body(ctx, mapper, GrantRequest.class);
        if (req.selector() == null || req.role() == null) {
            throw HubException.invalid("give selector and role");
        }
        ctx.attribute(AuditRoutes.DETAIL, req.role() + " on " + req.selector());
        ctx.status(201).json(GrantJson.of(users.grant(HttpApi.principal(ctx), ctx.pathParam("name"),
                req.selector(), req.role())));
    }

    /** {@code DELETE /api/v1/users/{name}/grants?selector=team%3Dweb}: 204, or 404 when there is no such grant. */
    void revoke(Context ctx) {
        String selector = ctx.queryParam("selector");
        if (selector == null) {
            throw HubException.invalid("give ?selector= of the grant to revoke");
        }
        ctx.attribute(AuditRoutes.DETAIL, "on " + selector);
        users.revoke(HttpApi.principal(ctx), ctx.pathParam("name"), selector);
        ctx.status(204);
    }
}

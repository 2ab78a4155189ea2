package hub.hubd.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import hub.hubd.auth.UserRepository;
import hub.hubd.auth.Users;
import io.javalin.http.Context;
import java.time.Instant;
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

    /** User JSON; {@code token} only when just created or rotated (shown once). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record UserJson(String name, String role, Instant createdAt, int activeTokens, String token) {
        static UserJson of(UserRepository.User u, String token) {
            return new UserJson(u.name(), u.role().wireName(), u.createdAt(), u.activeTokens(), token);
        }
    }

    void create(Context ctx) {
        CreateUser req = ApiJson.body(ctx, mapper, CreateUser.class);
        Users.WithToken w = users.create(HttpApi.principal(ctx), req.name(), req.role());
        ctx.status(201).json(UserJson.of(w.user(), w.token()));
    }

    void list(Context ctx) {
        ctx.json(Map.of("items", users.list(HttpApi.principal(ctx)).stream().map(u -> UserJson.of(u, null)).toList()));
    }

    void rotateToken(Context ctx) {
        Users.WithToken w = users.rotateToken(HttpApi.principal(ctx), ctx.pathParam("name"));
        ctx.json(UserJson.of(w.user(), w.token()));
    }

    void remove(Context ctx) {
        users.remove(HttpApi.principal(ctx), ctx.pathParam("name"));
        ctx.status(204);
    }
}

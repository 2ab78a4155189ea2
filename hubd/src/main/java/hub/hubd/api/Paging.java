package hub.hubd.api;

import hub.hubd.core.HubException;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/**
 * {@code ?limit=N&cursor=C} over an already sorted list. The cursor is opaque to clients (it
 * encodes the position of the next item).
 */
final class Paging {
    static final int MAX_LIMIT = 10_000;

    private Paging() {
    }

    static <T> ApiJson.Items<T> page(Context ctx, List<T> all) {
        String limitParam = ctx.queryParam("limit");
        String cursorParam = ctx.queryParam("cursor");
        int from = cursorParam == null ? 0 : decode(cursorParam);
        if (limitParam == null) {
            return new ApiJson.Items<>(from == 0 ? all : all.subList(Math.min(from, all.size()), all.size()),
                    null);
        }
        int limit;
        try {
            limit = Integer.parseInt(limitParam);
        } catch (NumberFormatException e) {
            throw HubException.invalid("limit must be a number, not '" + limitParam + "'");
        }
        if (limit < 1 || limit > MAX_LIMIT) {
            throw HubException.invalid("limit must be between 1 and " + MAX_LIMIT);
        }
        int start = Math.min(from, all.size());
        int end = Math.min(start + limit, all.size());
        String next = end < all.size() ? encode(end) : null;
        return new ApiJson.Items<>(all.subList(start, end), next);
    }

    private static String encode(int position) {
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString(("p:" + position).getBytes(StandardCharsets.US_ASCII));
    }

    private static int decode(String cursor) {
        try {
            String s = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.US_ASCII);
            if (s.startsWith("p:")) {
                int p = Integer.parseInt(s.substring(2));
                if (p >= 0) {
                    return p;
                }
            }
        } catch (IllegalArgumentException e) {
            // fall through to the error below
        }
        throw HubException.invalid("invalid cursor");
    }
}

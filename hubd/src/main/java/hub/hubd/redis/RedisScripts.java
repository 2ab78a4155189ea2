package hub.hubd.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** The Lua scripts hubd runs in Redis, from {@code /redis/*.lua} on the classpath. */
public final class RedisScripts {
    private RedisScripts() {
    }

    /** The script {@code resource}, e.g. {@code /redis/presence-refresh.lua}. */
    public static String load(String resource) {
        try (InputStream in = RedisScripts.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(resource + " is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package hub.agent;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/** Parses {@code HOST:PORT[,HOST:PORT…]} and opens a channel to each. */
public final class HubAddresses {
    private static final Pattern ADDRESS = Pattern.compile("(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9.-]+):(\\d{1,5})");

    private HubAddresses() {
    }

    /**
     * Parses the list.
     *
     * @throws IllegalArgumentException naming the first bad address
     */
    public static List<String> parse(String list) {
        if (list == null || list.isBlank()) {
            throw new IllegalArgumentException("no hub address: give --hub HOST:PORT (or HUB_AGENT_HUB)");
        }
        List<String> out = new ArrayList<>();
        for (String a : list.split(",")) {
            String s = a.strip();
            var m = ADDRESS.matcher(s);
            if (!m.matches() || Integer.parseInt(m.group(2)) < 1 || Integer.parseInt(m.group(2)) > 65535) {
                throw new IllegalArgumentException("invalid hub address '" + s + "': expected HOST:PORT");
            }
            out.add(s);
        }
        return out;
    }

    /** A plaintext channel to one hub, with keepalive pings to find a dead hub quickly. */
    public static ManagedChannel channel(String address) {
        return builder(address).build();
    }

    /** The same, with callbacks on {@code executor} (the simulator shares one small pool). */
    public static ManagedChannel channel(String address, java.util.concurrent.Executor executor) {
        return builder(address).executor(executor).build();
    }

    private static NettyChannelBuilder builder(String address) {
        return NettyChannelBuilder.forTarget(address)
                .usePlaintext()
                .keepAliveTime(30, TimeUnit.SECONDS)
                .keepAliveTimeout(10, TimeUnit.SECONDS)
                .keepAliveWithoutCalls(false);
    }
}

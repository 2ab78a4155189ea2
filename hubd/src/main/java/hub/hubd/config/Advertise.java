package hub.hubd.config;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The names a hub is reached by ({@code --advertise}, {@code HUB_ADVERTISE}): what its serving
 * certificate certifies, and where provisioning scripts send agents (the first one).
 */
public final class Advertise {
    private Advertise() {
    }

    /** {@code a,b,c} as a list; blank means the machine's defaults. */
    public static List<String> parse(String list) {
        if (list == null || list.isBlank()) {
            return machineDefaults();
        }
        Set<String> out = new LinkedHashSet<>();
        for (String s : list.split(",")) {
            String v = s.strip();
            if (!v.isEmpty()) {
                out.add(v.startsWith("[") && v.endsWith("]") ? v.substring(1, v.length() - 1) : v);
            }
        }
        return List.copyOf(out);
    }

    /**
     * The machine's host name, then its non-loopback addresses (IPv6 link-local ones left out:
     * they need a zone), then {@code localhost}, {@code 127.0.0.1} and {@code ::1}.
     */
    public static List<String> machineDefaults() {
        Set<String> out = new LinkedHashSet<>();
        try {
            String host = InetAddress.getLocalHost().getHostName();
            if (host != null && !host.isBlank() && !host.equals("localhost")) {
                out.add(host);
            }
        } catch (UnknownHostException e) {
            // no resolvable host name: the addresses below still name the machine
        }
        List<String> v4 = new ArrayList<>();
        List<String> v6 = new ArrayList<>();
        try {
            for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!ni.isUp() || ni.isLoopback()) {
                    continue;
                }
                for (InetAddress a : Collections.list(ni.getInetAddresses())) {
                    if (a.isLoopbackAddress() || a.isLinkLocalAddress() || a.isAnyLocalAddress()) {
                        continue;
                    }
                    String text = a.getHostAddress();
                    int zone = text.indexOf('%');
                    (a instanceof Inet6Address ? v6 : v4).add(zone > 0 ? text.substring(0, zone) : text);
                }
            }
        } catch (SocketException e) {
            // no interfaces to list: loopback names only
        }
        out.addAll(v4);
        out.addAll(v6);
        out.add("localhost");
        out.add("127.0.0.1");
        out.add("::1");
        return List.copyOf(out);
    }
}

package dev.switchboard.transport;

import dev.switchboard.server.TrustedProxies;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * Who the client is when a request came through reverse proxies: its address, and the scheme and
 * host it used (which the Origin check compares with). Only a peer in the trusted proxies is
 * believed; it is asked through {@code Forwarded} (RFC 7239) or else {@code X-Forwarded-For},
 * {@code X-Forwarded-Proto} and {@code X-Forwarded-Host}. The client is the right-most hop that is
 * not itself a trusted proxy: what lies to its left was written by the client or its own proxies,
 * and anyone can write anything there.
 *
 * <pre>{@code
 * Forwarding.Client client = Forwarding.resolve(request.getRemoteAddr(), request.isSecure(),
 *         request.getHeader("Host"), name -> Collections.list(request.getHeaders(name)), proxies);
 * client.address();   // "203.0.113.7" rather than the proxy's 10.0.0.2
 * }</pre>
 */
public final class Forwarding {
    /**
     * The client as the server should see it.
     *
     * @param address its IP address, without a port; {@code null} if unknown
     * @param secure  whether it connected over TLS ({@code https}/{@code wss})
     * @param host    the Host it sent the request to, or {@code null}
     */
    public record Client(String address, boolean secure, String host) {
    }

    private record Hop(String address, String proto, String host) {
    }

    private Forwarding() {
    }

    /**
     * @param peer    the address of the TCP peer, as the container reports it
     * @param secure  whether the connection to this server is TLS
     * @param host    the request's Host header
     * @param headers all values of a request header, an empty list when absent
     */
    public static Client resolve(String peer, boolean secure, String host, Function<String, List<String>> headers,
                                 TrustedProxies proxies) {
        Client direct = new Client(peer, secure, host);
        if (!proxies.trusts(peer)) {
            return direct;
        }
        List<Hop> hops = forwarded(headers.apply("Forwarded"));
        if (hops.isEmpty()) {
            hops = xForwarded(headers);
        }
        if (hops.isEmpty()) {
            return direct;
        }
        int client = hops.size() - 1;
        while (client > 0 && proxies.trusts(hops.get(client).address())) {
            client--;
        }
        Hop hop = hops.get(client);
        return new Client(hop.address() != null ? hop.address() : peer,
                hop.proto() != null ? secure(hop.proto()) : secure,
                hop.host() != null ? hop.host() : host);
    }

    /**
     * Whether a forwarded scheme is a TLS one. Some proxies name a WebSocket upgrade's scheme as
     * the WebSocket's ({@code wss}, Traefik's {@code X-Forwarded-Proto}), not as the page's.
     */
    private static boolean secure(String proto) {
        return "https".equalsIgnoreCase(proto) || "wss".equalsIgnoreCase(proto);
    }

    /** The elements of {@code Forwarded}, each proxy's account of the hop before it, left to right. */
    private static List<Hop> forwarded(List<String> values) {
        List<Hop> hops = new ArrayList<>();
        for (String value : values) {
            for (String element : split(value, ',')) {
                String address = null;
                String proto = null;
                String host = null;
                for (String pair : split(element, ';')) {
                    int equals = pair.indexOf('=');
                    if (equals < 0) {
                        continue;
                    }
                    String name = pair.substring(0, equals).trim().toLowerCase(Locale.ROOT);
                    String text = unquote(pair.substring(equals + 1).trim());
                    switch (name) {
                        case "for" -> address = node(text);
                        case "proto" -> proto = text;
                        case "host" -> host = text;
                        default -> { }
                    }
                }
                hops.add(new Hop(address, proto, host));
            }
        }
        return hops;
    }

    /**
     * The hops of {@code X-Forwarded-For}; {@code X-Forwarded-Proto} and {@code -Host} go with
     * them when they list as many values, else their last value (the nearest proxy's) goes with the client.
     * Without {@code X-Forwarded-For} they make one hop with no address, as {@code Forwarded:
     * proto=https} does: a proxy that ends TLS may say how the client came in and not who it is.
     */
    private static List<Hop> xForwarded(Function<String, List<String>> headers) {
        List<String> addresses = values(headers.apply("X-Forwarded-For"));
        List<String> protos = values(headers.apply("X-Forwarded-Proto"));
        List<String> hosts = values(headers.apply("X-Forwarded-Host"));
        if (addresses.isEmpty() && !(protos.isEmpty() && hosts.isEmpty())) {
            return List.of(new Hop(null, matching(protos, 0, 1), matching(hosts, 0, 1)));
        }
        List<Hop> hops = new ArrayList<>();
        for (int i = 0; i < addresses.size(); i++) {
            hops.add(new Hop(node(addresses.get(i)), matching(protos, i, addresses.size()), matching(hosts, i, addresses.size())));
        }
        return hops;
    }

    private static String matching(List<String> values, int index, int hops) {
        if (values.isEmpty()) {
            return null;
        }
        return values.size() == hops ? values.get(index) : values.get(values.size() - 1);
    }

    private static List<String> values(List<String> headers) {
        List<String> values = new ArrayList<>();
        for (String header : headers) {
            for (String value : header.split(",")) {
                if (!value.isBlank()) {
                    values.add(value.trim());
                }
            }
        }
        return values;
    }

    /** The address of a node without its port: {@code [2001:db8::1]:4711}, {@code 192.0.2.1:80}, {@code 2001:db8::1}. */
    private static String node(String node) {
        if (node.startsWith("[")) {
            int end = node.indexOf(']');
            return end < 0 ? node : node.substring(1, end);
        }
        int colon = node.indexOf(':');
        return colon >= 0 && colon == node.lastIndexOf(':') ? node.substring(0, colon) : node;
    }

    private static String unquote(String text) {
        return text.length() >= 2 && text.startsWith("\"") && text.endsWith("\"") ? text.substring(1, text.length() - 1) : text;
    }

    /** Splits on {@code separator} outside double quotes. */
    private static List<String> split(String text, char separator) {
        List<String> parts = new ArrayList<>();
        boolean quoted = false;
        int start = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (c == separator && !quoted) {
                parts.add(text.substring(start, i).trim());
                start = i + 1;
            }
        }
        parts.add(text.substring(start).trim());
        return parts;
    }
}

package dev.switchboard.transport;

import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which browser origins may open a connection: the server's own origin (the {@code Host} the
 * request was sent to) and a configured list; {@code "*"} allows any. A request without an
 * {@code Origin} header comes from a non-browser client and is allowed, as browsers always send
 * one on WebSocket upgrades.
 *
 * <pre>{@code
 * OriginPolicy policy = new OriginPolicy(List.of("https://app.example.com"));
 * policy.allows("https://evil.example", "localhost:8080"); // false
 * }</pre>
 */
public final class OriginPolicy {
    private final Set<String> allowed;
    private final boolean any;

    public OriginPolicy(List<String> allowedOrigins) {
        this.allowed = allowedOrigins.stream().map(OriginPolicy::normalize).collect(Collectors.toUnmodifiableSet());
        this.any = allowed.contains("*");
    }

    /**
     * @param origin the Origin header, or {@code null}
     * @param host   the Host header, or {@code null}
     */
    public boolean allows(String origin, String host) {
        if (origin == null || any) {
            return true;
        }
        String normalized = normalize(origin);
        if (allowed.contains(normalized)) {
            return true;
        }
        return host != null && authority(normalized).equals(withDefaultPort(host.toLowerCase(Locale.ROOT), normalized));
    }

    private static String normalize(String origin) {
        String trimmed = origin.trim().toLowerCase(Locale.ROOT);
        return trimmed.endsWith("/") ? trimmed.substring(0, trimmed.length() - 1) : trimmed;
    }

    /** host:port of an origin, with the scheme's default port made explicit. */
    private static String authority(String origin) {
        try {
            URI uri = URI.create(origin);
            if (uri.getHost() == null) {
                return "";
            }
            int port = uri.getPort() != -1 ? uri.getPort() : "https".equals(uri.getScheme()) ? 443 : 80;
            return uri.getHost() + ":" + port;
        } catch (IllegalArgumentException e) {
            return "";
        }
    }

    private static String withDefaultPort(String host, String origin) {
        boolean hasPort = host.lastIndexOf(':') > host.lastIndexOf(']');
        if (hasPort) {
            return host;
        }
        return host + (origin.startsWith("https:") ? ":443" : ":80");
    }
}

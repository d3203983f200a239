package dev.switchboard.server;

import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which browser origins may open a connection: the server's own origin (the {@code Host} the
 * request was sent to, with the request's scheme: {@code http} for {@code ws}, {@code https} for
 * {@code wss}) and a configured list; {@code "*"} allows any. A request without an
 * {@code Origin} header comes from a non-browser client and is allowed, as browsers always send
 * one on WebSocket upgrades.
 *
 * <pre>{@code
 * OriginPolicy policy = new OriginPolicy(List.of("https://app.example.com"));
 * policy.allows("https://evil.example", "localhost:8080", false);   // false
 * policy.allows("https://localhost:8080", "localhost:8080", false); // false: the page was not served over TLS
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
     * @param secure whether the request came over TLS ({@code wss})
     */
    public boolean allows(String origin, String host, boolean secure) {
        if (origin == null || any) {
            return true;
        }
        String normalized = normalize(origin);
        if (allowed.contains(normalized)) {
            return true;
        }
        String scheme = secure ? "https" : "http";
        return host != null && ownOrigin(normalized, scheme)
                && authority(normalized).equals(withDefaultPort(host.toLowerCase(Locale.ROOT), scheme));
    }

    private static String normalize(String origin) {
        String trimmed = origin.trim().toLowerCase(Locale.ROOT);
        return trimmed.endsWith("/") ? trimmed.substring(0, trimmed.length() - 1) : trimmed;
    }

    /**
     * Whether the origin has the request's scheme and nothing but a host and port besides: user
     * info ({@code http://evil.example@host}) would let a foreign page look like ours to a reader.
     */
    private static boolean ownOrigin(String origin, String scheme) {
        try {
            URI uri = URI.create(origin);
            return scheme.equals(uri.getScheme()) && uri.getRawUserInfo() == null && uri.getHost() != null
                    && uri.getRawPath().isEmpty() && uri.getRawQuery() == null && uri.getRawFragment() == null;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** host:port of an own-scheme origin, with the scheme's default port made explicit. */
    private static String authority(String origin) {
        URI uri = URI.create(origin);
        int port = uri.getPort() != -1 ? uri.getPort() : defaultPort(uri.getScheme());
        return uri.getHost() + ":" + port;
    }

    private static String withDefaultPort(String host, String scheme) {
        boolean hasPort = host.lastIndexOf(':') > host.lastIndexOf(']');
        return hasPort ? host : host + ":" + defaultPort(scheme);
    }

    private static int defaultPort(String scheme) {
        return "https".equals(scheme) ? 443 : 80;
    }
}

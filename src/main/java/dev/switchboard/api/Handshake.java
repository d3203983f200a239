package dev.switchboard.api;

import dev.switchboard.protocol.RawJson;
import java.net.URI;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What the client sent when it connected: the upgrade request's headers and query, its address,
 * and the auth payload of its namespace {@code connect}.
 *
 * <pre>{@code
 * namespace.use(socket -> {
 *     String token = socket.handshake().auth(Credentials.class).token();
 *     String room = socket.handshake().query("room");
 * });
 * }</pre>
 *
 * @param uri           the request URI (path and query)
 * @param headers       request headers; names compare case-insensitively
 * @param query         query parameters
 * @param remoteAddress the client's address: the TCP peer's, or behind a trusted proxy the one the proxy names
 *                      ({@code SwitchboardOptions.trustedProxies}); {@code null} if unknown
 * @param time          when the connection opened
 * @param auth          the {@code auth} value of the namespace connect, JSON {@code null} if none
 */
public record Handshake(URI uri, Map<String, List<String>> headers, Map<String, List<String>> query,
                        String remoteAddress, Instant time, RawJson auth) {

    private static final Class<?> UNMODIFIABLE_SORTED_MAP = Collections.unmodifiableSortedMap(new TreeMap<>()).getClass();

    public Handshake {
        headers = caseless(headers);
        query = Map.copyOf(query);
        auth = auth == null ? RawJson.NULL : auth;
    }

    /**
     * The headers as an unmodifiable case-insensitive map; one made here already is kept as it is,
     * so that every socket of a connection shares its connection's copy.
     */
    private static Map<String, List<String>> caseless(Map<String, List<String>> headers) {
        if (headers instanceof SortedMap<String, List<String>> sorted
                && sorted.getClass() == UNMODIFIABLE_SORTED_MAP && sorted.comparator() == String.CASE_INSENSITIVE_ORDER) {
            return headers;
        }
        SortedMap<String, List<String>> copy = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        headers.forEach((name, values) -> copy.put(name, List.copyOf(values)));
        return Collections.unmodifiableSortedMap(copy);
    }

    /** The first value of a header, or {@code null}. */
    public String header(String name) {
        List<String> values = headers.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    /** The first value of a query parameter, or {@code null}. */
    public String query(String name) {
        List<String> values = query.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    /** The auth payload mapped to a Java type with JSON-B. */
    public <T> T auth(Class<T> type) {
        return auth.as(type);
    }

    /** The Origin header, lower-cased, or {@code null}. */
    public String origin() {
        String origin = header("Origin");
        return origin == null ? null : origin.toLowerCase(Locale.ROOT);
    }

    /** A copy of this handshake with a namespace connect's auth payload (each namespace socket has its own). */
    public Handshake withAuth(RawJson newAuth) {
        return new Handshake(uri, headers, query, remoteAddress, time, newAuth);
    }
}

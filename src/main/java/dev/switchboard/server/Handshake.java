package dev.switchboard.server;

import dev.switchboard.protocol.RawJson;
import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
 * @param remoteAddress the client's address as the container reports it, or {@code null}
 * @param time          when the connection opened
 * @param auth          the {@code auth} value of the namespace connect, JSON {@code null} if none
 */
public record Handshake(URI uri, Map<String, List<String>> headers, Map<String, List<String>> query,
                        String remoteAddress, Instant time, RawJson auth) {

    public Handshake {
        Map<String, List<String>> caseless = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        headers.forEach((name, values) -> caseless.put(name, List.copyOf(values)));
        headers = java.util.Collections.unmodifiableMap(caseless);
        query = Map.copyOf(query);
        auth = auth == null ? RawJson.NULL : auth;
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

    /** This handshake with a namespace connect's auth payload. */
    Handshake withAuth(RawJson newAuth) {
        return new Handshake(uri, headers, query, remoteAddress, time, newAuth);
    }
}

package dev.switchboard.transport;

import dev.switchboard.server.OriginPolicy;
import dev.switchboard.server.Switchboard;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Base64;
import java.util.Locale;
import java.util.function.UnaryOperator;

/**
 * What a request to the WebSocket endpoint is answered before a container upgrades it, so that
 * every deployment refuses the same requests the same way: the standalone server's and the WAR's
 * upgrade guards both ask here.
 *
 * <pre>{@code
 * Forwarding.Client client = Forwarding.resolve(peer, secure, host, headers, server.options().trustedProxies());
 * UpgradeCheck.Refusal refusal = UpgradeCheck.check(request::getHeader, request.getQueryString(), client, server);
 * if (refusal != null) answer(refusal.status(), refusal.header(), refusal.value());
 * }</pre>
 */
public final class UpgradeCheck {
    /** The WebSocket protocol version served (RFC 6455). */
    public static final String VERSION = "13";
    private static final int KEY_BYTES = 16;
    private static final int KEY_LENGTH = 24;

    /**
     * An answer instead of the upgrade.
     *
     * @param status the HTTP status
     * @param phrase its reason phrase, where the server sets one
     * @param header a header the answer must carry, or {@code null}
     * @param value  its value
     */
    public record Refusal(int status, String phrase, String header, String value) {
    }

    private UpgradeCheck() {
    }

    /**
     * Checks, in this order: not a WebSocket upgrade at all (426, naming {@code websocket}), an
     * upgrade without {@code Connection: Upgrade} or without a key that is 16 bytes in base64, as
     * RFC 6455 (4.2.1) has it, or whose query holds an escape that is none or what {@link URI}
     * refuses (400), another
     * version (426, naming 13), an {@code Origin} that is neither allowed nor the one the client
     * sent the request to (403), a server draining for a restart (503).
     *
     * @param header   the request's header of that name, {@code null} when absent
     * @param query    the request's query as it came, undecoded, {@code null} when it has none
     * @param client   the scheme and host the client used, which make the server's own origin
     * @return {@code null} when the container may upgrade the request
     */
    public static Refusal check(UnaryOperator<String> header, String query, Forwarding.Client client,
            Switchboard server) {
        OriginPolicy origins = server.originPolicy();
        if (!"websocket".equalsIgnoreCase(header.apply("Upgrade"))) {
            return new Refusal(426, "Upgrade Required", "Upgrade", "websocket");
        }
        if (!hasToken(header.apply("Connection"), "upgrade") || !isKey(header.apply("Sec-WebSocket-Key"))
                || !isEscapedQuery(query) || !isUriQuery(query)) {
            return new Refusal(400, "Bad Request", null, null);
        }
        if (!VERSION.equals(header.apply("Sec-WebSocket-Version"))) {
            return new Refusal(426, "Upgrade Required", "Sec-WebSocket-Version", VERSION);
        }
        if (!origins.allows(header.apply("Origin"), client.host(), client.secure())) {
            return new Refusal(403, "Forbidden", null, null);
        }
        if (server.draining()) {
            // A proxy in front tries another node for a 503.
            return new Refusal(503, "Service Unavailable", "Retry-After", "1");
        }
        return null;
    }

    /**
     * Whether every {@code %} in {@code query} starts an escape, two hex digits. Tomcat and Jetty
     * build the handshake's URI from the request and throw out of the upgrade for one that does
     * not ({@code %ZZ}, a lone {@code %}): an answer of 500 with a stack trace in the log.
     * Long-polling answers the same query 400 ({@code EngineIo#handshake}). Characters RFC 3986
     * does not allow in a query but that browsers send as they are ({@code [ ] | ^ { }}, the
     * backtick: the WHATWG URL parser leaves them unescaped) are refused only where no container
     * can upgrade them ({@link #isUriQuery}): brackets pass.
     */
    private static boolean isEscapedQuery(String query) {
        if (query == null) {
            return true;
        }
        for (int at = query.indexOf('%'); at >= 0; at = query.indexOf('%', at + 1)) {
            if (at + 2 >= query.length() || Character.digit(query.charAt(at + 1), 16) < 0
                    || Character.digit(query.charAt(at + 2), 16) < 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether {@link URI} takes {@code query}: it refuses {@code { } | ^}, the backtick and a few
     * more that browsers leave unescaped. Tomcat, Jetty and Tyrus build the handshake's URI with
     * it and cannot upgrade such a request: thrown out of the upgrade, it would be a 500 with a
     * stack trace in the log (Tyrus: after its 101, a connection that never opens).
     */
    private static boolean isUriQuery(String query) {
        if (query == null) {
            return true;
        }
        try {
            new URI("?" + query);
            return true;
        } catch (URISyntaxException e) {
            return false;
        }
    }

    /** Whether {@code key} is 16 bytes in base64, which is 24 characters with its padding. */
    private static boolean isKey(String key) {
        if (key == null || key.trim().length() != KEY_LENGTH) {
            return false;
        }
        try {
            return Base64.getDecoder().decode(key.trim()).length == KEY_BYTES;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Whether a comma-separated header such as {@code Connection: keep-alive, Upgrade} holds the token. */
    private static boolean hasToken(String header, String token) {
        if (header == null) {
            return false;
        }
        for (String part : header.split(",")) {
            if (part.trim().toLowerCase(Locale.ROOT).equals(token)) {
                return true;
            }
        }
        return false;
    }
}

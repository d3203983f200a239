package dev.switchboard.http;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * What the container glue writes back.
 *
 * @param status      the HTTP status
 * @param contentType the body's content type
 * @param body        the body (UTF-8)
 * @param headers     further headers ({@code Allow}, {@code Retry-After}, {@code WWW-Authenticate})
 */
public record ApiResponse(int status, String contentType, String body, Map<String, String> headers) {
    static final String JSON = "application/json; charset=utf-8";

    static ApiResponse json(int status, String body) {
        return new ApiResponse(status, JSON, body, Map.of());
    }

    /** Every header to send: {@code Content-Type}, {@code Content-Length}, {@code Cache-Control} and {@link #headers()}. */
    public Map<String, String> allHeaders() {
        Map<String, String> all = new HashMap<>(headers);
        all.put("Content-Type", contentType);
        all.put("Content-Length", Integer.toString(bodyBytes().length));
        all.put("Cache-Control", "no-store");
        return all;
    }

    /** The body in UTF-8. */
    public byte[] bodyBytes() {
        return body.getBytes(StandardCharsets.UTF_8);
    }

    ApiResponse withHeader(String name, String value) {
        Map<String, String> more = new HashMap<>(headers);
        more.put(name, value);
        return new ApiResponse(status, contentType, body, Map.copyOf(more));
    }
}

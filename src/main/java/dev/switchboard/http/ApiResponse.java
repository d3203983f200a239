package dev.switchboard.http;

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

    ApiResponse withHeader(String name, String value) {
        Map<String, String> more = new java.util.HashMap<>(headers);
        more.put(name, value);
        return new ApiResponse(status, contentType, body, Map.copyOf(more));
    }
}

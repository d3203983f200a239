package dev.switchboard.http;

import java.io.InputStream;

/**
 * One HTTP request, as the container glue hands it to {@link HttpApi}: the API reads the body
 * itself, up to its limit.
 *
 * @param method        {@code GET}, {@code POST}, ...
 * @param path          the path inside the application, e.g. {@code /api/emit} (without a servlet context path)
 * @param query         the raw query string, or null
 * @param authorization the {@code Authorization} header, or null
 * @param body          the request body
 */
public record ApiRequest(String method, String path, String query, String authorization, InputStream body) {
}

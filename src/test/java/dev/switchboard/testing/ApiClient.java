package dev.switchboard.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A caller of the server's HTTP API over real HTTP (the JDK's client, HTTP/1.1), as a backend or
 * {@code curl} would call it.
 *
 * <pre>{@code
 * ApiClient api = new ApiClient(URI.create("http://127.0.0.1:8080"));
 * JsonObject answer = api.emit("key", "{\"namespace\":\"/chat\",\"event\":\"announcement\",\"args\":[\"hi\"]}");
 * }</pre>
 */
public final class ApiClient {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final URI base;

    /** Calls the server at {@code base}: scheme, host, port and context path, without a trailing slash. */
    public ApiClient(URI base) {
        this.base = base;
    }

    public HttpResponse<String> post(String path, String key, String body) {
        return send(authorized(HttpRequest.newBuilder(uri(path)), key).POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    public HttpResponse<String> get(String path, String key) {
        return send(authorized(HttpRequest.newBuilder(uri(path)), key).GET());
    }

    /** Sends a request built on {@link #uri}. */
    public HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return HTTP.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** {@code POST /api/emit}, which must succeed; its answer. */
    public JsonObject emit(String key, String body) {
        HttpResponse<String> response = post("/api/emit", key, body);
        assertEquals(200, response.statusCode(), response.body());
        return json(response);
    }

    public URI uri(String path) {
        return URI.create(base + path);
    }

    public static JsonObject json(HttpResponse<String> response) {
        return Json.createReader(new StringReader(response.body())).readObject();
    }

    /** Asserts a refusal: the status, a JSON error, and the field it names (or none). */
    public static void assertRefused(int status, String field, HttpResponse<String> response) {
        assertEquals(status, response.statusCode(), response.body());
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("application/json"),
                response.headers().toString());
        JsonObject error = json(response);
        assertFalse(error.getString("error").isBlank());
        if (field == null) {
            assertNull(error.get("field"), response.body());
        } else {
            assertEquals(field, error.getString("field"), response.body());
        }
    }

    private static HttpRequest.Builder authorized(HttpRequest.Builder request, String key) {
        return key == null ? request : request.header("Authorization", "apikey " + key);
    }
}

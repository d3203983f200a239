package dev.switchboard.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;

/** Engine.IO long-polling spoken by hand, request by request, as the Socket.IO tests need it. */
public final class EnginePolling {
    // HTTP/1.1 as browsers speak it to a plain-HTTP server: no h2c upgrade offer on each request.
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private EnginePolling() {
    }

    /** The Engine.IO path on {@code port} with {@code query}, e.g. {@code EIO=4&transport=polling}. */
    public static URI uri(int port, String query) {
        return URI.create("http://127.0.0.1:" + port + "/socket.io/?" + query);
    }

    /** The polling URI of the session {@code sid}. */
    public static URI session(int port, String sid) {
        return uri(port, "EIO=4&transport=polling&sid=" + sid);
    }

    /** Opens a polling session (the open packet, with WebSocket offered as an upgrade); returns its sid. */
    public static String open(int port, String extraQuery) throws Exception {
        HttpResponse<String> open = get(uri(port, "EIO=4&transport=polling" + extraQuery));
        assertEquals(200, open.statusCode(), open.body());
        String body = open.body();
        assertTrue(body.startsWith("0{\"sid\":\""), body);
        assertTrue(body.contains("\"upgrades\":[\"websocket\"]"), body);
        return body.substring(9, body.indexOf('"', 9));
    }

    public static HttpResponse<String> get(URI uri) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
    }

    public static CompletableFuture<HttpResponse<String>> getAsync(URI uri) {
        return HTTP.sendAsync(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
    }

    public static HttpResponse<String> post(URI uri, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    public static CompletableFuture<HttpResponse<String>> postAsync(URI uri, String body) {
        return HTTP.sendAsync(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}

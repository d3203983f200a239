package dev.switchboard.http;

import dev.switchboard.adapter.AdapterUnavailableException;
import dev.switchboard.api.RemoteSocket;
import dev.switchboard.metrics.PrometheusMetrics;
import dev.switchboard.protocol.Arguments;
import dev.switchboard.protocol.JsonMapper;
import dev.switchboard.protocol.JsonWireCodec;
import dev.switchboard.protocol.ProtocolException;
import dev.switchboard.protocol.RawJson;
import dev.switchboard.protocol.ReservedEvents;
import dev.switchboard.server.AckTimeoutException;
import dev.switchboard.server.BroadcastOperator;
import dev.switchboard.server.Namespace;
import dev.switchboard.server.Switchboard;
import jakarta.json.JsonArray;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The server's HTTP API, so that any backend can push: JSON over HTTP under a path of its own
 * ({@code /api} by default), and {@code GET /metrics} in the Prometheus text format. It goes
 * through the same public operators as application code ({@link Namespace}, {@link
 * BroadcastOperator}), so an emit reaches what the same chain of calls would. The containers'
 * glue (a Grizzly handler, a servlet) hands it an {@link ApiRequest} and writes the {@link
 * ApiResponse} back.
 *
 * <pre>{@code
 * HttpApi api = HttpApi.create(server, HttpApiSettings.off().withKeys(List.of(key)));
 * api.handle(new ApiRequest("POST", "/api/emit", null, "apikey " + key, body))
 *    .thenAccept(response -> write(response));
 * }</pre>
 *
 * <p>Endpoints (docs/DEPLOY.md): {@code POST emit}, {@code POST sockets/join}, {@code
 * sockets/leave}, {@code sockets/disconnect}, {@code GET sockets}, {@code GET rooms}, {@code GET
 * namespaces}. Every request carries {@code Authorization: apikey <key>}; each key has a rate limit.
 *
 * <p>Threads: any request thread may call {@link #handle}; it reads the body on that thread and
 * the answer of an emit with acks completes on the server's timer or reading threads.
 */
public final class HttpApi implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(HttpApi.class.getName());
    private static final String METRICS_PATH = "/metrics";
    private static final Set<String> TARGET = Set.of("namespace", "rooms", "except", "user", "socket");
    private static final Set<String> EMIT = union(TARGET, "event", "args", "volatile", "ack");
    private static final Set<String> ACK = Set.of("timeoutMs");

    /** One endpoint's work. */
    private interface Endpoint {
        CompletableFuture<ApiResponse> answer(ApiRequest request) throws ApiError, IOException;
    }

    private final Switchboard server;
    private final HttpApiSettings settings;
    private final ApiKeys keys;
    /** Null unless {@code /metrics} is served. */
    private final PrometheusMetrics metrics;
    /** By path, then method; set up in the constructor, read-only after. */
    private final Map<String, Map<String, Endpoint>> routes = new HashMap<>();

    private HttpApi(Switchboard server, HttpApiSettings settings) {
        this.server = server;
        this.settings = settings;
        this.keys = new ApiKeys(settings);
        this.metrics = settings.metrics() ? PrometheusMetrics.of(server) : null;
        String base = settings.path();
        route("POST", base + "/emit", this::emit);
        route("POST", base + "/sockets/join", request -> {
            JsonFields body = readBody(request, union(TARGET, "join"));
            return socketsJoin(target(body), required(body.strings("join"), "join"));
        });
        route("POST", base + "/sockets/leave", request -> {
            JsonFields body = readBody(request, union(TARGET, "leave"));
            return socketsLeave(target(body), required(body.strings("leave"), "leave"));
        });
        route("POST", base + "/sockets/disconnect", request -> {
            JsonFields body = readBody(request, union(TARGET, "close"));
            return disconnectSockets(target(body), body.flag("close"));
        });
        route("GET", base + "/sockets", request -> {
            Map<String, String> query = query(request, Set.of("namespace", "room"));
            Namespace namespace = namespace(query.get("namespace"));
            String room = query.get("room");
            return fetchSockets(room == null ? namespace.operator() : namespace.in(room));
        });
        route("GET", base + "/rooms", request -> rooms(namespace(query(request, Set.of("namespace")).get("namespace"))));
        route("GET", base + "/namespaces", request -> {
            query(request, Set.of());
            return ok(Map.of("namespaces", new TreeSet<>(server.namespaces().keySet())));
        });
        if (metrics != null) {
            route("GET", METRICS_PATH, request -> CompletableFuture.completedFuture(
                    new ApiResponse(200, PrometheusMetrics.CONTENT_TYPE, metrics.scrape(), Map.of())));
        }
    }

    /** The API of {@code server} with these settings; close it when the server stops. */
    public static HttpApi create(Switchboard server, HttpApiSettings settings) {
        return new HttpApi(server, settings);
    }

    /** The settings it serves with. */
    public HttpApiSettings settings() {
        return settings;
    }

    /**
     * Answers a request: 401 without a valid key, 429 past its key's rate, 404 for an unknown
     * endpoint or namespace, 405 for a method the endpoint does not take, 413 for a body over the
     * limit, 400 naming the field at fault for any other bad input.
     */
    public CompletableFuture<ApiResponse> handle(ApiRequest request) {
        ApiResponse refused = refusal(request);
        return refused != null ? CompletableFuture.completedFuture(refused) : answer(request);
    }

    /**
     * What a request is answered before its body is read: 401 without a valid key, 429 past its
     * key's rate (an admitted request counts against it), 404 for an unknown endpoint, 405 for a
     * method the endpoint does not take; {@code null} when it is admitted, for {@link #answer}.
     * For glue that reads a body before handing the request over, so that it buffers no body the
     * sender may not send.
     *
     * <pre>{@code
     * ApiResponse refused = api.refusal(new ApiRequest(method, path, query, authorization, InputStream.nullInputStream()));
     * if (refused == null) { readBody(body -> api.answer(new ApiRequest(method, path, query, authorization, body))); }
     * }</pre>
     */
    public ApiResponse refusal(ApiRequest request) {
        try {
            int key = keys.match(request.authorization());
            if (key < 0) {
                throw new ApiError(401, null, "unauthorized");
            }
            if (!keys.tryAcquire(key)) {
                throw new ApiError(429, null, "too many requests for this key; slow down");
            }
            Map<String, Endpoint> methods = routes.get(request.path());
            if (methods == null) {
                throw new ApiError(404, null, "no endpoint " + request.path());
            }
            if (!methods.containsKey(request.method())) {
                return new ApiError(405, null, request.method() + " is not allowed here").response()
                        .withHeader("Allow", String.join(", ", new TreeSet<>(methods.keySet())));
            }
            return null;
        } catch (ApiError error) {
            return refused(error);
        }
    }

    /** Answers a request that {@link #refusal} admitted. */
    public CompletableFuture<ApiResponse> answer(ApiRequest request) {
        try {
            return routes.get(request.path()).get(request.method()).answer(request).exceptionally(this::internalError);
        } catch (ApiError error) {
            return CompletableFuture.completedFuture(refused(error));
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.completedFuture(internalError(e));
        }
    }

    private static ApiResponse refused(ApiError error) {
        ApiResponse response = error.response();
        if (response.status() == 401) {
            return response.withHeader("WWW-Authenticate", "apikey");
        }
        if (response.status() == 429) {
            return response.withHeader("Retry-After", "1");
        }
        return response;
    }

    @Override
    public void close() {
        if (metrics != null) {
            metrics.close();
        }
    }

    private void route(String method, String path, Endpoint endpoint) {
        routes.computeIfAbsent(path, any -> new HashMap<>()).put(method, endpoint);
    }

    private ApiResponse internalError(Throwable failure) {
        if (failure instanceof UncheckedIOException || failure instanceof IOException) {
            // The caller went away while sending its body.
            return new ApiError(400, null, "the body could not be read").response();
        }
        LOG.log(System.Logger.Level.WARNING, "HTTP API request failed", failure);
        return new ApiError(500, null, "internal error").response();
    }

    // ---- emit ----

    private CompletableFuture<ApiResponse> emit(ApiRequest request) throws ApiError, IOException {
        JsonFields body = readBody(request, EMIT);
        String event = body.string("event");
        if (event == null || event.isEmpty() || event.length() > JsonWireCodec.MAX_EVENT_NAME_LENGTH) {
            throw ApiError.badField("event", "must be a name of 1 to " + JsonWireCodec.MAX_EVENT_NAME_LENGTH + " characters");
        }
        if (ReservedEvents.contains(event)) {
            throw ApiError.badField("event", "is a reserved event name");
        }
        JsonArray argsJson = body.array("args");
        try {
            JsonWireCodec.checkArgs(argsJson.toString());
        } catch (ProtocolException e) {
            throw ApiError.badField("args", e.getMessage() + ": no client could read the event");
        }
        Object[] args = argsJson.toArray();
        JsonFields ack = body.object("ack", ACK);
        BroadcastOperator target = target(body);
        if (ack == null) {
            Map<String, Object> answer = new HashMap<>();
            try {
                answer.put("offset", target.emit(event, args));
            } catch (AdapterUnavailableException e) {
                return CompletableFuture.completedFuture(unavailable(e));
            }
            return ok(answer);
        }
        long timeout = ack.number("timeoutMs", "ack.timeoutMs", 1, settings.maxAckWaitMillis());
        return target.timeout(Duration.ofMillis(timeout)).emitWithAck(event, args).handle((answers, failure) -> {
            Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
            if (cause instanceof AckTimeoutException timedOut) {
                return answers(timedOut.partialReplies(), false);
            }
            if (cause instanceof AdapterUnavailableException unavailable) {
                return unavailable(unavailable);
            }
            if (cause != null) {
                throw new CompletionException(cause);
            }
            return answers(answers, true);
        });
    }

    /** {@code {"answers": [[...], ...], "complete": true}}, each answer's arguments as the client sent them. */
    private static ApiResponse answers(List<Arguments> answers, boolean complete) {
        StringBuilder json = new StringBuilder("{\"answers\":[");
        for (int i = 0; i < answers.size(); i++) {
            json.append(i == 0 ? "[" : ",[");
            List<RawJson> args = answers.get(i).list();
            for (int j = 0; j < args.size(); j++) {
                json.append(j == 0 ? "" : ",").append(args.get(j).text());
            }
            json.append(']');
        }
        return ApiResponse.json(200, json.append("],\"complete\":").append(complete).append('}').toString());
    }

    // ---- what a request targets: the same chain an application would build ----

    private BroadcastOperator target(JsonFields body) throws ApiError {
        BroadcastOperator target = namespace(body.string("namespace")).operator();
        List<String> rooms = body.strings("rooms");
        if (!rooms.isEmpty()) {
            target = target.to(rooms.toArray(String[]::new));
        }
        String user = body.string("user");
        if (user != null) {
            target = target.toUser(user);
        }
        String socket = body.string("socket");
        if (socket != null) {
            target = target.to(socket);
        }
        List<String> except = body.strings("except");
        if (!except.isEmpty()) {
            target = target.except(except.toArray(String[]::new));
        }
        return body.flag("volatile") ? target.asVolatile() : target;
    }

    /** An existing namespace ({@code /} when not named): the API creates none. */
    private Namespace namespace(String name) throws ApiError {
        String wanted = name == null ? "/" : name;
        Namespace namespace = server.namespaces().get(wanted);
        if (namespace == null) {
            throw new ApiError(404, "namespace", "no namespace '" + wanted + "'");
        }
        return namespace;
    }

    // ---- the queries and room changes, the calls that go through the adapter ----

    private static CompletableFuture<ApiResponse> fetchSockets(BroadcastOperator target) {
        return answer(target.fetchSockets().thenApply(found -> {
            List<Map<String, Object>> sockets = new ArrayList<>();
            for (RemoteSocket socket : found) {
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("id", socket.id());
                entry.put("user", socket.userId());
                entry.put("rooms", new TreeSet<>(socket.rooms()));
                entry.put("data", socket.data());
                sockets.add(entry);
            }
            return Map.of("sockets", sockets);
        }));
    }

    private static CompletableFuture<ApiResponse> rooms(Namespace namespace) {
        return answer(namespace.rooms().thenApply(rooms -> Map.of("rooms", new TreeSet<>(rooms))));
    }

    private static CompletableFuture<ApiResponse> socketsJoin(BroadcastOperator target, List<String> rooms) {
        return answer(target.socketsJoin(rooms.toArray(String[]::new)).thenApply(done -> Map.of("ok", true)));
    }

    private static CompletableFuture<ApiResponse> socketsLeave(BroadcastOperator target, List<String> rooms) {
        return answer(target.socketsLeave(rooms.toArray(String[]::new)).thenApply(done -> Map.of("ok", true)));
    }

    private static CompletableFuture<ApiResponse> disconnectSockets(BroadcastOperator target, boolean close) {
        return answer(target.disconnectSockets(close).thenApply(done -> Map.of("ok", true)));
    }

    /**
     * A query's body as JSON, or 503 when the adapter could not answer (on a cluster: Redis
     * unreachable or a node silent past the query timeout), which a caller may retry; any other
     * failure is the 500 of {@link #handle}.
     */
    private static CompletableFuture<ApiResponse> answer(CompletableFuture<Map<String, ?>> query) {
        return query.handle((body, failure) -> {
            if (failure == null) {
                return ApiResponse.json(200, JsonMapper.toRaw(body).text());
            }
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
            if (cause instanceof AdapterUnavailableException unavailable) {
                return unavailable(unavailable);
            }
            throw new CompletionException(cause);
        });
    }

    /** 503, which a caller may retry: the adapter (on a cluster, Redis or other nodes) could not carry the call. */
    private static ApiResponse unavailable(AdapterUnavailableException e) {
        LOG.log(System.Logger.Level.DEBUG, "HTTP API call refused, adapter unavailable: {0}", e.getMessage());
        return new ApiError(503, null, "unavailable: " + e.getMessage()).response().withHeader("Retry-After", "1");
    }

    // ---- reading requests ----

    private JsonFields readBody(ApiRequest request, Set<String> allowed) throws ApiError, IOException {
        return JsonFields.read(request.body(), settings.maxBodyBytes(), allowed);
    }

    private static List<String> required(List<String> values, String field) throws ApiError {
        if (values.isEmpty()) {
            throw ApiError.badField(field, "must name at least one room");
        }
        return values;
    }

    /** The query's parameters, each among {@code allowed} and given once. */
    private static Map<String, String> query(ApiRequest request, Set<String> allowed) throws ApiError {
        Map<String, String> parameters = new HashMap<>();
        if (request.query() == null || request.query().isEmpty()) {
            return parameters;
        }
        for (String pair : request.query().split("&")) {
            int equals = pair.indexOf('=');
            String name = decode(equals < 0 ? pair : pair.substring(0, equals), "query");
            String value = decode(equals < 0 ? "" : pair.substring(equals + 1), name);
            if (!allowed.contains(name)) {
                throw ApiError.badField(name, "is not a parameter of this request; expected one of " + allowed);
            }
            if (parameters.put(name, value) != null) {
                throw ApiError.badField(name, "is given twice");
            }
        }
        return parameters;
    }

    private static String decode(String text, String field) throws ApiError {
        try {
            return URLDecoder.decode(text, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw ApiError.badField(field, "is not URL-encoded properly");
        }
    }

    private static CompletableFuture<ApiResponse> ok(Map<String, ?> body) {
        return CompletableFuture.completedFuture(ApiResponse.json(200, JsonMapper.toRaw(body).text()));
    }

    private static Set<String> union(Set<String> set, String... more) {
        Set<String> union = new TreeSet<>(set);
        union.addAll(List.of(more));
        return Collections.unmodifiableSet(union);
    }
}

package dev.switchboard.transport.engineio;

import dev.switchboard.api.Handshake;
import dev.switchboard.transport.Forwarding;

/**
 * One HTTP request to the Engine.IO path as a container hands it over: what {@link EngineIo}
 * reads from it, and the one way to answer it, at once or later from another thread (a
 * long-polling GET waits for packets). The Grizzly handler and the servlet make them.
 */
public abstract class PollRequest {
    private final String method;
    private final Handshake handshake;
    private final Forwarding.Client client;
    private final String body;

    /**
     * @param method    {@code GET}, {@code POST}, or another method
     * @param handshake the request as a {@link Handshake}: URI, headers, query, client address;
     *                  {@code null} when its URI does not parse ({@link EngineIo#handshake})
     * @param client    the client as {@link Forwarding} resolved it: its scheme and host, for the origin check
     * @param body      the body of a POST, read whole as it arrives before the request is handed
     *                  on, {@code null} when it was longer than {@code maxPayload} (counted in chars)
     */
    protected PollRequest(String method, Handshake handshake, Forwarding.Client client, String body) {
        this.method = method;
        this.handshake = handshake;
        this.client = client;
        this.body = body;
    }

    String method() {
        return method;
    }

    Handshake handshake() {
        return handshake;
    }

    Forwarding.Client client() {
        return client;
    }

    String body() {
        return body;
    }

    /**
     * The request belongs to an open session (its sid is known) and may be held long: a GET waits
     * up to {@code pingInterval} for packets, a POST is answered once its packets' listeners have
     * run. A session has one GET and one POST at a time (another ends it), so the connections held
     * this way are bounded by {@code maxConnections}: the standalone server stops counting such a
     * connection as pending until the request is answered. Called before the request is handled.
     */
    protected void held() {
    }

    /** Answers the request, once, from any thread; {@code contentType} is {@code text/plain} or JSON. */
    protected abstract void answer(int status, String contentType, String text);
}

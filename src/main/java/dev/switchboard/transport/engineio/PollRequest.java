package dev.switchboard.transport.engineio;

import dev.switchboard.api.Handshake;

/**
 * One HTTP request to the Engine.IO path as a container hands it over: what {@link EngineIo}
 * needs to read from it and the one way to answer it, at once or later from another thread (a
 * long-polling GET waits for packets). The Grizzly handler and the servlet implement it.
 */
public interface PollRequest {
    /** {@code GET}, {@code POST}, or another method. */
    String method();

    /** The request as a {@link Handshake}: URI, headers, query, client address. */
    Handshake handshake();

    /** Whether it came over TLS, for the origin check. */
    boolean secure();

    /**
     * The body of a POST as text, read by the glue before the request is suspended (containers
     * read a suspended request's body only asynchronously).
     *
     * @return the body, or {@code null} when it is longer than the server's {@code maxPayload}
     */
    String body();

    /** Answers the request, once, from any thread; {@code contentType} is {@code text/plain} or JSON. */
    void answer(int status, String contentType, String body);
}

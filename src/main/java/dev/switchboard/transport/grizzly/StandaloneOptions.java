package dev.switchboard.transport.grizzly;

import dev.switchboard.http.HttpApiSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How the standalone server meets the network: where it listens, what it serves besides the
 * endpoint, and how long it waits for clients that have not upgraded yet.
 *
 * <pre>{@code
 * StandaloneServer.start(server, StandaloneOptions.builder()
 *         .host("0.0.0.0").port(8443).webRoot(Path.of("webapp"))
 *         .headerTimeout(Duration.ofSeconds(5))
 *         .tls(TlsIdentity.pem(Path.of("fullchain.pem"), Path.of("privkey.pem")))
 *         .build());
 * }</pre>
 *
 * @param host                  the address to bind, e.g. {@code "127.0.0.1"} or {@code "0.0.0.0"}
 * @param port                  the port, 0 for any free one
 * @param webRoot               a folder of static files served at {@code /}, or {@code null} for none
 * @param headerTimeout         how long a new connection has to complete its TLS handshake and
 *                              its first request head (5 s); then it is dropped
 * @param idleTimeout           how long a plain HTTP connection may sit idle between requests, or
 *                              wait on a response it does not read (30 s); WebSockets are not timed here,
 *                              nor is a connection while a long-polling GET of an open session waits on it,
 *                              so it need not exceed {@code pingInterval}, which such a GET may take
 * @param maxPending            connections not yet upgraded to WebSocket, in total (1 000): past it the
 *                              oldest one still sending its request head is dropped for the newcomer
 * @param maxPendingPerAddress  such connections from one peer address (256); more are dropped at once.
 *                              Trusted proxies ({@code SwitchboardOptions.trustedProxies}) are exempt; a
 *                              client a PROXY header names is held to its own share
 * @param proxyProtocol         whether trusted proxies ({@code SwitchboardOptions.trustedProxies}) speak the PROXY
 *                              protocol (version 1 or 2) on every connection, as TCP load balancers do (false)
 * @param tls                   the certificate to serve {@code https://} and {@code wss://} with, TLS 1.2
 *                              and 1.3 only; {@code null} for plain HTTP
 * @param api                   the HTTP API's keys and path, and whether {@code /metrics} answers
 *                              ({@link HttpApiSettings#off()}, the default: neither)
 */
public record StandaloneOptions(String host, int port, Path webRoot, Duration headerTimeout, Duration idleTimeout,
                                int maxPending, int maxPendingPerAddress, boolean proxyProtocol, TlsIdentity tls,
                                HttpApiSettings api) {

    public StandaloneOptions {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(api, "api");
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port must be 0..65535: " + port);
        }
        requirePositive(headerTimeout, "headerTimeout");
        requirePositive(idleTimeout, "idleTimeout");
        if (maxPending < 1 || maxPendingPerAddress < 1) {
            throw new IllegalArgumentException("maxPending and maxPendingPerAddress must be at least 1");
        }
    }

    private static void requirePositive(Duration duration, String name) {
        if (duration == null || duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException(name + " must be positive: " + duration);
        }
    }

    /** Defaults: {@code 127.0.0.1}, a free port, no static files, plain HTTP. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from these options. */
    public Builder toBuilder() {
        Builder builder = new Builder();
        builder.host = host;
        builder.port = port;
        builder.webRoot = webRoot;
        builder.headerTimeout = headerTimeout;
        builder.idleTimeout = idleTimeout;
        builder.maxPending = maxPending;
        builder.maxPendingPerAddress = maxPendingPerAddress;
        builder.proxyProtocol = proxyProtocol;
        builder.tls = tls;
        builder.api = api;
        return builder;
    }

    /**
     * Builds {@link StandaloneOptions}; every setter checks nothing until {@link #build()}. A setter
     * named after an option sets that option, as listed on {@link StandaloneOptions}.
     */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port;
        private Path webRoot;
        private Duration headerTimeout = Duration.ofSeconds(5);
        private Duration idleTimeout = Duration.ofSeconds(30);
        private int maxPending = 1_000;
        private int maxPendingPerAddress = 256;
        private boolean proxyProtocol;
        private TlsIdentity tls;
        private HttpApiSettings api = HttpApiSettings.off();

        private Builder() {
        }

        /** The address to bind ({@code "0.0.0.0"} for every interface). */
        public Builder host(String host) {
            this.host = host;
            return this;
        }

        /** The port; 0 for any free one. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** A folder of static files served at {@code /}; {@code null} for none. */
        public Builder webRoot(Path webRoot) {
            this.webRoot = webRoot;
            return this;
        }

        /** How long a new connection has to finish its TLS handshake and first request head (5 s). */
        public Builder headerTimeout(Duration headerTimeout) {
            this.headerTimeout = headerTimeout;
            return this;
        }

        /** How long a plain HTTP connection may sit idle between requests (30 s). */
        public Builder idleTimeout(Duration idleTimeout) {
            this.idleTimeout = idleTimeout;
            return this;
        }

        /** Caps on connections that have not upgraded yet, in all and from one peer address. */
        public Builder maxPending(int total, int perAddress) {
            this.maxPending = total;
            this.maxPendingPerAddress = perAddress;
            return this;
        }

        /** Reads a PROXY protocol header on every connection from a trusted proxy. */
        public Builder proxyProtocol(boolean enabled) {
            this.proxyProtocol = enabled;
            return this;
        }

        /** Serves TLS with this certificate; {@code null} for plain HTTP. */
        public Builder tls(TlsIdentity tls) {
            this.tls = tls;
            return this;
        }

        /** The HTTP API's keys and path, and whether {@code /metrics} answers (off by default). */
        public Builder api(HttpApiSettings api) {
            this.api = api;
            return this;
        }

        public StandaloneOptions build() {
            return new StandaloneOptions(host, port, webRoot, headerTimeout, idleTimeout, maxPending, maxPendingPerAddress, proxyProtocol, tls, api);
        }
    }
}

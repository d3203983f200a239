package dev.switchboard.client;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import javax.net.ssl.SSLContext;

/**
 * Settings of a {@link SwitchboardClient}; immutable, built with {@link #builder()}.
 *
 * <pre>{@code
 * ClientOptions options = ClientOptions.builder()
 *         .reconnectionDelay(Duration.ofMillis(50))
 *         .reconnectionDelayMax(Duration.ofMillis(200))
 *         .ackTimeout(Duration.ofSeconds(2))
 *         .header("Origin", "http://localhost:8080")
 *         .build();
 * SwitchboardClient client = SwitchboardClient.connect(URI.create("ws://localhost:8080/switchboard"), options);
 * }</pre>
 */
public final class ClientOptions {
    /**
     * Headers the JDK's WebSocket client sets itself and refuses from the application (its
     * handshake would fail asynchronously, so the builder refuses them at once instead).
     */
    private static final Set<String> FORBIDDEN_HEADERS = Set.of(
            "host", "connection", "upgrade", "content-length", "expect");

    private static final ClientOptions DEFAULTS = builder().build();

    private final boolean autoConnect;
    private final boolean reconnection;
    private final Duration reconnectionDelay;
    private final Duration reconnectionDelayMax;
    private final double randomizationFactor;
    private final int reconnectionAttempts;
    private final Duration ackTimeout;
    private final int retries;
    private final int maxBufferedEmits;
    private final long sendQueueBytes;
    private final Map<String, String> headers;
    private final Duration connectTimeout;
    private final ScheduledExecutorService scheduler;
    private final SSLContext sslContext;

    private ClientOptions(Builder builder) {
        this.autoConnect = builder.autoConnect;
        this.reconnection = builder.reconnection;
        this.reconnectionDelay = builder.reconnectionDelay;
        this.reconnectionDelayMax = builder.reconnectionDelayMax;
        this.randomizationFactor = builder.randomizationFactor;
        this.reconnectionAttempts = builder.reconnectionAttempts;
        this.ackTimeout = builder.ackTimeout;
        this.retries = builder.retries;
        this.maxBufferedEmits = builder.maxBufferedEmits;
        this.sendQueueBytes = builder.sendQueueBytes;
        this.headers = Collections.unmodifiableMap(new LinkedHashMap<>(builder.headers));
        this.connectTimeout = builder.connectTimeout;
        this.scheduler = builder.scheduler;
        this.sslContext = builder.sslContext;
    }

    /** The defaults: reconnect forever with 1 to 5 s of backoff, 10 s ack timeout, no retries. */
    public static ClientOptions defaults() {
        return DEFAULTS;
    }

    /** A builder holding the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding these options, to change a few. */
    public Builder toBuilder() {
        Builder builder = new Builder();
        builder.autoConnect = autoConnect;
        builder.reconnection = reconnection;
        builder.reconnectionDelay = reconnectionDelay;
        builder.reconnectionDelayMax = reconnectionDelayMax;
        builder.randomizationFactor = randomizationFactor;
        builder.reconnectionAttempts = reconnectionAttempts;
        builder.ackTimeout = ackTimeout;
        builder.retries = retries;
        builder.maxBufferedEmits = maxBufferedEmits;
        builder.sendQueueBytes = sendQueueBytes;
        builder.headers.putAll(headers);
        builder.connectTimeout = connectTimeout;
        builder.scheduler = scheduler;
        builder.sslContext = sslContext;
        return builder;
    }

    /** Whether {@link SwitchboardClient#socket(String)} connects a new socket at once. */
    public boolean autoConnect() {
        return autoConnect;
    }

    /** Whether the client reconnects after losing the connection. */
    public boolean reconnection() {
        return reconnection;
    }

    /** The delay before the first reconnection attempt; it doubles with every attempt. */
    public Duration reconnectionDelay() {
        return reconnectionDelay;
    }

    /** The longest delay between reconnection attempts, before jitter. */
    public Duration reconnectionDelayMax() {
        return reconnectionDelayMax;
    }

    /** How much a delay may randomly vary: 0.5 means by up to 50 % either way. */
    public double randomizationFactor() {
        return randomizationFactor;
    }

    /** How many reconnection attempts are made before giving up; {@link Integer#MAX_VALUE} means forever. */
    public int reconnectionAttempts() {
        return reconnectionAttempts;
    }

    /** How long {@code emitWithAck} waits for an answer (per send, with retries). */
    public Duration ackTimeout() {
        return ackTimeout;
    }

    /** How often an unacknowledged emit is resent; more than 0 makes emits at-least-once. */
    public int retries() {
        return retries;
    }

    /**
     * How many emits a socket holds at most while they wait to be sent (offline, or paced to the
     * server's rate limit) or, with retries, to be acknowledged; see
     * {@link Builder#maxBufferedEmits(int)}.
     */
    public int maxBufferedEmits() {
        return maxBufferedEmits;
    }

    /** The bytes the WebSocket may have queued for writing; see {@link Builder#sendQueueBytes(long)}. */
    public long sendQueueBytes() {
        return sendQueueBytes;
    }

    /** Extra headers of the WebSocket handshake, such as {@code Origin}. */
    public Map<String, String> headers() {
        return headers;
    }

    /** How long opening the WebSocket (TCP, TLS, upgrade) may take, and a token provider's answer. */
    public Duration connectTimeout() {
        return connectTimeout;
    }

    /** The executor for timers, or {@code null} for the default (one daemon thread per client). */
    public ScheduledExecutorService scheduler() {
        return scheduler;
    }

    /** The TLS context for {@code wss://}, or {@code null} for the JDK's default (its trusted CAs). */
    public SSLContext sslContext() {
        return sslContext;
    }

    /**
     * Builds {@link ClientOptions}. Not thread-safe.
     *
     * <pre>{@code
     * ClientOptions options = ClientOptions.builder().retries(3).build();
     * }</pre>
     */
    public static final class Builder {
        private boolean autoConnect = true;
        private boolean reconnection = true;
        private Duration reconnectionDelay = Duration.ofSeconds(1);
        private Duration reconnectionDelayMax = Duration.ofSeconds(5);
        private double randomizationFactor = 0.5;
        private int reconnectionAttempts = Integer.MAX_VALUE;
        private Duration ackTimeout = Duration.ofSeconds(10);
        private int retries;
        private int maxBufferedEmits = 1000;
        private long sendQueueBytes = 4L << 20;
        private final Map<String, String> headers = new LinkedHashMap<>();
        private Duration connectTimeout = Duration.ofSeconds(20);
        private ScheduledExecutorService scheduler;
        private SSLContext sslContext;

        private Builder() {
        }

        /**
         * Whether a new socket connects at once (default {@code true}). With {@code false},
         * {@link SwitchboardClient#socket(String)} returns a socket that connects on
         * {@link ClientSocket#connect()}: add listeners first, so that none misses the first
         * connect or an event the server sends right after it.
         */
        public Builder autoConnect(boolean enabled) {
            this.autoConnect = enabled;
            return this;
        }

        /** Whether to reconnect after losing the connection (default {@code true}). */
        public Builder reconnection(boolean enabled) {
            this.reconnection = enabled;
            return this;
        }

        /** The delay before the first reconnection attempt (default 1 s). */
        public Builder reconnectionDelay(Duration delay) {
            this.reconnectionDelay = nonNegative(delay, "reconnectionDelay");
            return this;
        }

        /** The longest delay between attempts, before jitter (default 5 s). */
        public Builder reconnectionDelayMax(Duration delay) {
            this.reconnectionDelayMax = nonNegative(delay, "reconnectionDelayMax");
            return this;
        }

        /** The jitter, from 0 (none) to 1 (default 0.5). */
        public Builder randomizationFactor(double factor) {
            if (!(factor >= 0 && factor <= 1)) {
                throw new IllegalArgumentException("randomizationFactor must be between 0 and 1: " + factor);
            }
            this.randomizationFactor = factor;
            return this;
        }

        /** How many attempts before giving up (default {@link Integer#MAX_VALUE}: never give up). */
        public Builder reconnectionAttempts(int attempts) {
            if (attempts < 0) {
                throw new IllegalArgumentException("reconnectionAttempts must not be negative: " + attempts);
            }
            this.reconnectionAttempts = attempts;
            return this;
        }

        /** How long to wait for an acknowledgement (default 10 s). */
        public Builder ackTimeout(Duration timeout) {
            this.ackTimeout = positive(timeout, "ackTimeout");
            return this;
        }

        /**
         * How often to resend an unacknowledged emit (default 0). More than 0 makes every emit
         * at-least-once: each carries an ack id and a {@code msgId}, one at a time per socket in
         * order; it is resent when {@link #ackTimeout} passes and after a reconnection if it was
         * in flight, and fails with {@link AckTimeoutException} once sent {@code 1 + retries}
         * times. While offline it waits without a timeout. When the socket comes back with
         * {@code recovered: false}, an emit already sent is not resent (the new session would
         * handle it again) but fails with {@link SessionLostException}.
         */
        public Builder retries(int retries) {
            if (retries < 0) {
                throw new IllegalArgumentException("retries must not be negative: " + retries);
            }
            this.retries = retries;
            return this;
        }

        /**
         * How many emits a socket holds at most (default 1000): emits made offline, emits waiting
         * for the server's rate limit (announced in its {@code hello}; the client paces every
         * event it sends to it), and, with retries, emits waiting for their acknowledgement. When
         * it is full, a new emit is refused with {@link SendBufferFullException} ({@code emit}
         * throws it, the future of {@code emitWithAck} fails with it) and the buffered ones are
         * kept. Volatile emits are never buffered.
         */
        public Builder maxBufferedEmits(int emits) {
            if (emits < 1) {
                throw new IllegalArgumentException("maxBufferedEmits must be at least 1: " + emits);
            }
            this.maxBufferedEmits = emits;
            return this;
        }

        /**
         * How many bytes of frames the WebSocket may hold queued for writing (default 4 MiB, as
         * the server's {@code sendQueueBytes}). When the server stops reading, events stop
         * leaving the socket's buffer once this is reached, so the buffer fills and new emits are
         * refused with {@link SendBufferFullException}: memory stays bounded. An event larger
         * than this is refused at once with {@link IllegalArgumentException}.
         */
        public Builder sendQueueBytes(long bytes) {
            if (bytes < 1) {
                throw new IllegalArgumentException("sendQueueBytes must be positive: " + bytes);
            }
            this.sendQueueBytes = bytes;
            return this;
        }

        /**
         * Adds a handshake header, e.g. {@code Origin}. The JDK sets {@code Host},
         * {@code Connection}, {@code Upgrade}, {@code Content-Length}, {@code Expect} and the
         * {@code Sec-WebSocket-*} headers itself and refuses them; so does this method.
         *
         * @throws IllegalArgumentException for those headers or an invalid header name
         */
        public Builder header(String name, String value) {
            Objects.requireNonNull(value, "value");
            String lower = Objects.requireNonNull(name, "name").toLowerCase(Locale.ROOT);
            if (FORBIDDEN_HEADERS.contains(lower) || lower.startsWith("sec-websocket-")) {
                throw new IllegalArgumentException("the JDK's WebSocket client does not allow setting '" + name + "'");
            }
            if (name.isEmpty() || !name.chars().allMatch(Builder::isTokenChar)) {
                throw new IllegalArgumentException("invalid header name: '" + name + "'");
            }
            headers.put(name, value);
            return this;
        }

        /** Adds several handshake headers; see {@link #header(String, String)}. */
        public Builder headers(Map<String, String> extra) {
            extra.forEach(this::header);
            return this;
        }

        /**
         * How long opening the WebSocket may take (default 20 s); also how long a socket waits for
         * its token provider ({@link ClientSocket#tokenProvider}).
         */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive(timeout, "connectTimeout");
            return this;
        }

        /**
         * The executor that runs the client's timers (heartbeat watchdog, ack timeouts,
         * reconnection); also the thread of the callbacks they trigger. The client never shuts
         * an injected executor down. Default: one daemon thread per client.
         */
        public Builder scheduler(ScheduledExecutorService executor) {
            this.scheduler = executor;
            return this;
        }

        /**
         * The TLS context {@code wss://} connections use, e.g. one that trusts a private CA;
         * default: the JDK's, which trusts its CA certificates.
         */
        public Builder sslContext(SSLContext context) {
            this.sslContext = context;
            return this;
        }

        /** The options. */
        public ClientOptions build() {
            if (reconnectionDelayMax.compareTo(reconnectionDelay) < 0) {
                throw new IllegalArgumentException("reconnectionDelayMax (" + reconnectionDelayMax
                        + ") is shorter than reconnectionDelay (" + reconnectionDelay + ")");
            }
            return new ClientOptions(this);
        }

        private static Duration nonNegative(Duration value, String name) {
            if (Objects.requireNonNull(value, name).isNegative()) {
                throw new IllegalArgumentException(name + " must not be negative: " + value);
            }
            return value;
        }

        private static Duration positive(Duration value, String name) {
            if (Objects.requireNonNull(value, name).isNegative() || value.isZero()) {
                throw new IllegalArgumentException(name + " must be positive: " + value);
            }
            return value;
        }

        // RFC 7230 token characters.
        private static boolean isTokenChar(int c) {
            return c > 0x20 && c < 0x7f && "\"(),/:;<=>?@[\\]{}".indexOf(c) < 0;
        }
    }
}

package dev.switchboard.server;

import dev.switchboard.adapter.AdapterFactory;
import dev.switchboard.adapter.InMemoryAdapter;
import dev.switchboard.protocol.Codec;
import dev.switchboard.protocol.JsonWireCodec;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The settings of a {@link Switchboard}, with safe defaults. Build with {@link #builder()}.
 *
 * <pre>{@code
 * Switchboard server = Switchboard.create(SwitchboardOptions.builder()
 *         .pingInterval(Duration.ofSeconds(25))
 *         .allowedOrigins(List.of("https://app.example.com"))
 *         .build());
 * }</pre>
 *
 * @param pingInterval           how often the server pings each connection (25 s)
 * @param pingTimeout            how long it waits for the pong (20 s)
 * @param maxPayloadBytes        the largest incoming message; larger ones close with 1009 (1 MiB)
 * @param sendQueueBytes         per-connection send queue; a client behind by more is evicted as a slow consumer (4 MiB)
 * @param sendBudgetBytes        bytes queued for sending across all connections; past it the connections with the
 *                               largest queues are evicted as slow consumers first (a quarter of the maximum heap;
 *                               see {@link Builder#sendBudgetBytes})
 * @param allowedOrigins         browser origins allowed besides the server's own; {@code "*"} allows any
 * @param eventsPerSecond        the sustained incoming event rate allowed per connection (100)
 * @param eventBurst             the burst of events allowed above that rate (200)
 * @param maxConnections         open connections the server accepts; more are refused with 1013 (50 000)
 * @param maxConnectionsPerAddress open connections from one client address; more are refused with 1013 (10 000)
 * @param maxWaitingSessions     sessions waiting for their dropped clients on this node, all namespaces together
 *                               (100 000: a full server's clients on two namespaces each, dropped at once); a
 *                               session whose client dropped past it ends at once (its client starts afresh, the
 *                               application hears {@code onSessionExpired}), as if its window were over. Drops
 *                               of the server's making (a drain, a shutdown) are not held to it
 * @param maxWaitingSessionsPerAddress such sessions of one client address (20 000): a client that connects and drops
 *                               again and again, which costs it nothing, cannot make the server keep its sessions
 *                               without bound (see {@link Builder#maxWaitingSessions})
 * @param ipv6PrefixLength       the network an IPv6 client is counted by, for the caps above per client address (64):
 *                               it usually holds a whole /64, a new address of it for each connection; IPv4
 *                               addresses, IPv4-mapped ones too, count one by one (see {@link #addressKey})
 * @param maxNamespaces          namespaces one connection may open (16)
 * @param maxAttachments         binary attachments one incoming event or ack may carry (10); more close the
 *                               connection with 1008, and a packet's attachments count toward {@code maxPayloadBytes}
 * @param maxProtocolErrors      bad frames tolerated before the connection is closed with 1008 (10)
 * @param maxPendingAcks         server-to-client acks one socket may have outstanding (1000)
 * @param ackTimeout             the timeout of {@code emitWithAck} unless {@code timeout()} sets one (10 s)
 * @param handlerTimeout         how long the listeners of one incoming event may run; past it the event fails:
 *                               its ack is answered with an error and a warning is logged (30 s)
 * @param shutdownGrace          how long shutdown waits for queues to flush (5 s)
 * @param recoveryWindow         how long a dropped client's session waits for it (2 min); zero turns recovery off
 * @param recoveryMaxEvents      events kept per session for replay (1000)
 * @param recoveryMaxBytes       bytes of events kept per session for replay (1 MiB)
 * @param recoveryRunsMiddleware whether middleware checks a recovering client again (true)
 * @param sessionStore           keeps the records of sessions waiting during the window and hands each to one claimant (in memory by default)
 * @param codec                  the wire format
 * @param adapter                makes each namespace's adapter (in memory by default)
 * @param clock                  time source, injectable for tests
 * @param scheduler              timers (heartbeats, ack timeouts); {@code null} makes a private one
 * @param callbackExecutor       runs what timers set off that reaches application code (disconnect listeners
 *                               after a ping timeout, session expiry, ack timeouts, slow-consumer eviction),
 *                               so that the timer thread stays on time; {@code null} makes a private pool of
 *                               as many threads as cores. Listeners there must not block on an ack future
 *                               (chain on it): the timeout that would release them needs a callback thread too
 * @param socketIoPath           where Socket.IO clients connect under the context path, starting and ending with
 *                               {@code /} ({@code /socket.io/}, the clients' default; they set {@code path} for another)
 * @param trustedProxies         reverse proxies whose {@code Forwarded}/{@code X-Forwarded-*} headers name the
 *                               client's address, scheme and host (none): the per-address cap, the handshake's
 *                               {@code remoteAddress} and the Origin check then see the client, not the proxy
 */
public record SwitchboardOptions(Duration pingInterval, Duration pingTimeout, int maxPayloadBytes, long sendQueueBytes, long sendBudgetBytes,
                                 List<String> allowedOrigins, double eventsPerSecond, int eventBurst,
                                 int maxConnections, int maxConnectionsPerAddress, int maxWaitingSessions,
                                 int maxWaitingSessionsPerAddress, int ipv6PrefixLength, int maxNamespaces, int maxAttachments,
                                 int maxProtocolErrors, int maxPendingAcks, Duration ackTimeout, Duration handlerTimeout,
                                 Duration shutdownGrace, Duration recoveryWindow, int recoveryMaxEvents, long recoveryMaxBytes,
                                 boolean recoveryRunsMiddleware, SessionStore sessionStore, Codec codec, AdapterFactory adapter, Clock clock, ScheduledExecutorService scheduler,
                                 Executor callbackExecutor, String socketIoPath, TrustedProxies trustedProxies) {

    public SwitchboardOptions {
        Objects.requireNonNull(pingInterval, "pingInterval");
        Objects.requireNonNull(pingTimeout, "pingTimeout");
        allowedOrigins = List.copyOf(allowedOrigins);
        Objects.requireNonNull(recoveryWindow, "recoveryWindow");
        if (Objects.requireNonNull(handlerTimeout, "handlerTimeout").isZero() || handlerTimeout.isNegative()) {
            throw new IllegalArgumentException("handlerTimeout must be positive");
        }
        Objects.requireNonNull(sessionStore, "sessionStore");
        Objects.requireNonNull(codec, "codec");
        Objects.requireNonNull(adapter, "adapter");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(trustedProxies, "trustedProxies");
        if (socketIoPath == null || socketIoPath.length() < 3 || !socketIoPath.startsWith("/") || !socketIoPath.endsWith("/")
                || socketIoPath.contains("//") || socketIoPath.contains("*") || socketIoPath.contains("{")) {
            throw new IllegalArgumentException("socketIoPath is a path such as /socket.io/ or /rt/sio/, not '" + socketIoPath + "'");
        }
        if (socketIoPath.equals("/switchboard/")) {
            throw new IllegalArgumentException("socketIoPath must differ from the native endpoint's /switchboard");
        }
        if (maxPayloadBytes < 1 || sendQueueBytes < 1 || sendBudgetBytes < 1 || eventsPerSecond <= 0 || eventBurst < 1 || maxNamespaces < 1
                || maxConnections < 1 || maxConnectionsPerAddress < 1 || maxWaitingSessions < 1
                || maxWaitingSessionsPerAddress < 1 || maxAttachments < 0
                || maxProtocolErrors < 1 || maxPendingAcks < 1 || recoveryMaxEvents < 1 || recoveryMaxBytes < 1) {
            throw new IllegalArgumentException("limits must be positive");
        }
        if (ipv6PrefixLength < 0 || ipv6PrefixLength > 128) {
            throw new IllegalArgumentException("ipv6PrefixLength is 0 to 128, not " + ipv6PrefixLength);
        }
    }

    /**
     * What the caps per client address count a client at {@code address} by, and what the
     * warnings of a refusal and the demo's dashboard name: an IPv6 address's network of
     * {@code ipv6PrefixLength} bits, an IPv4 address (also written IPv4-mapped) as itself,
     * anything else as written, {@code ""} for {@code null}.
     *
     * <pre>{@code
     * options.addressKey("2001:db8:1:2::7");       // "2001:db8:1:2::/64"
     * options.addressKey("::ffff:198.51.100.7");   // "198.51.100.7"
     * }</pre>
     */
    public String addressKey(String address) {
        return AddressKey.of(address, ipv6PrefixLength);
    }

    /** Whether dropped clients can come back to their session. */
    public boolean recoveryEnabled() {
        return !recoveryWindow.isZero() && !recoveryWindow.isNegative();
    }

    /** The defaults. */
    public static SwitchboardOptions defaults() {
        return builder().build();
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from these options. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * Builds {@link SwitchboardOptions}; every setter returns the builder. A setter named after an
     * option sets that option: its meaning and default are listed on {@link SwitchboardOptions}.
     */
    public static final class Builder {
        private Duration pingInterval = Duration.ofSeconds(25);
        private Duration pingTimeout = Duration.ofSeconds(20);
        private int maxPayloadBytes = 1 << 20;
        private long sendQueueBytes = 4L << 20;
        private long sendBudgetBytes = Runtime.getRuntime().maxMemory() / 4;
        private List<String> allowedOrigins = List.of();
        private double eventsPerSecond = 100;
        private int eventBurst = 200;
        private int maxConnections = 50_000;
        private int maxConnectionsPerAddress = 10_000;
        private int maxWaitingSessions = 100_000;
        private int maxWaitingSessionsPerAddress = 20_000;
        private int ipv6PrefixLength = 64;
        private TrustedProxies trustedProxies = TrustedProxies.NONE;
        private int maxNamespaces = 16;
        private int maxAttachments = 10;
        private int maxProtocolErrors = 10;
        private int maxPendingAcks = 1000;
        private Duration ackTimeout = Duration.ofSeconds(10);
        private Duration handlerTimeout = Duration.ofSeconds(30);
        private Duration shutdownGrace = Duration.ofSeconds(5);
        private Duration recoveryWindow = Duration.ofMinutes(2);
        private int recoveryMaxEvents = 1000;
        private long recoveryMaxBytes = 1L << 20;
        private boolean recoveryRunsMiddleware = true;
        private SessionStore sessionStore = new InMemorySessionStore();
        private Codec codec = new JsonWireCodec();
        private AdapterFactory adapter = InMemoryAdapter::new;
        private Clock clock = Clock.systemUTC();
        private ScheduledExecutorService scheduler;
        private Executor callbackExecutor;
        private String socketIoPath = "/socket.io/";

        private Builder() {
        }

        private Builder(SwitchboardOptions o) {
            pingInterval = o.pingInterval;
            pingTimeout = o.pingTimeout;
            maxPayloadBytes = o.maxPayloadBytes;
            sendQueueBytes = o.sendQueueBytes;
            sendBudgetBytes = o.sendBudgetBytes;
            allowedOrigins = o.allowedOrigins;
            eventsPerSecond = o.eventsPerSecond;
            eventBurst = o.eventBurst;
            maxConnections = o.maxConnections;
            maxConnectionsPerAddress = o.maxConnectionsPerAddress;
            maxWaitingSessions = o.maxWaitingSessions;
            maxWaitingSessionsPerAddress = o.maxWaitingSessionsPerAddress;
            ipv6PrefixLength = o.ipv6PrefixLength;
            trustedProxies = o.trustedProxies;
            maxNamespaces = o.maxNamespaces;
            maxAttachments = o.maxAttachments;
            maxProtocolErrors = o.maxProtocolErrors;
            maxPendingAcks = o.maxPendingAcks;
            ackTimeout = o.ackTimeout;
            handlerTimeout = o.handlerTimeout;
            shutdownGrace = o.shutdownGrace;
            recoveryWindow = o.recoveryWindow;
            recoveryMaxEvents = o.recoveryMaxEvents;
            recoveryMaxBytes = o.recoveryMaxBytes;
            recoveryRunsMiddleware = o.recoveryRunsMiddleware;
            sessionStore = o.sessionStore;
            codec = o.codec;
            adapter = o.adapter;
            clock = o.clock;
            scheduler = o.scheduler;
            callbackExecutor = o.callbackExecutor;
            socketIoPath = o.socketIoPath;
        }

        /** How often the server pings each connection (25 s). */
        public Builder pingInterval(Duration value) {
            pingInterval = value;
            return this;
        }

        /** How long the server waits for a pong before it ends the connection with 4000 (20 s). */
        public Builder pingTimeout(Duration value) {
            pingTimeout = value;
            return this;
        }

        /** The largest incoming message; a larger one closes the connection with 1009 (1 MiB). */
        public Builder maxPayloadBytes(int value) {
            maxPayloadBytes = value;
            return this;
        }

        /** The send queue of one connection; a client behind by more is evicted as a slow consumer, 4001 (4 MiB). */
        public Builder sendQueueBytes(long value) {
            sendQueueBytes = value;
            return this;
        }

        /**
         * The bound on bytes queued for sending across all connections. The default, a quarter of
         * the JVM's maximum heap, leaves the rest to the application and the sessions kept for
         * recovery while allowing hundreds of full 4 MiB queues on a 2 GiB heap: without it, 10 000
         * clients that stop reading could queue 40 GiB. A frame counts once per queue it waits in,
         * so a broadcast held once in memory counts for each recipient; the bound errs on the safe side.
         */
        public Builder sendBudgetBytes(long value) {
            sendBudgetBytes = value;
            return this;
        }

        /** Browser origins allowed besides the server's own; {@code "*"} allows any. */
        public Builder allowedOrigins(List<String> value) {
            allowedOrigins = value;
            return this;
        }

        /** The sustained rate and the burst of incoming events per connection. */
        public Builder eventRate(double perSecond, int burst) {
            eventsPerSecond = perSecond;
            eventBurst = burst;
            return this;
        }

        /** Caps on open connections, in all and from one client address. */
        public Builder maxConnections(int total, int perAddress) {
            maxConnections = total;
            maxConnectionsPerAddress = perAddress;
            return this;
        }

        /** Namespaces one connection may open (16). */
        public Builder maxNamespaces(int value) {
            maxNamespaces = value;
            return this;
        }

        /**
         * Where Socket.IO clients connect, {@code /socket.io/} by default; the clients then pass
         * the same {@code path} ({@code io(url, { path: "/rt/" })}). The standalone server and
         * {@code SwitchboardServletListener} serve WebSocket and long-polling there.
         */
        public Builder socketIoPath(String value) {
            socketIoPath = value;
            return this;
        }

        /**
         * Caps on the sessions that wait on this node for their dropped clients, in all and of one
         * client address. Dropping a connection costs a client nothing, and each socket's session
         * waits for the recovery window: without them, a client that connects its namespaces and
         * drops, again and again, would make the server keep ever more sessions while it holds no
         * connection. A session whose client dropped past a cap ends at once, as if its window were
         * over; drops of the server's making (a drain, a shutdown) are not held to them. Sessions
         * count per namespace: the defaults, twice the connection caps, let a full server's clients
         * on two namespaces each drop at once and all come back.
         */
        public Builder maxWaitingSessions(int total, int perAddress) {
            maxWaitingSessions = total;
            maxWaitingSessionsPerAddress = perAddress;
            return this;
        }

        /**
         * The network an IPv6 client is counted by, for every cap per client address (64). A client
         * on IPv6 usually holds a whole /64 and may take a new address of it for each connection,
         * so counting each address would hold it to nothing; a provider that gives its customers
         * a /56 or a /48 calls for that prefix, 128 counts each address. IPv4 addresses count one by one.
         *
         * <pre>{@code
         * SwitchboardOptions.builder().maxConnections(50_000, 100).ipv6PrefixLength(56)
         * }</pre>
         */
        public Builder ipv6PrefixLength(int value) {
            ipv6PrefixLength = value;
            return this;
        }

        /** Binary attachments one incoming event or ack may carry; 0 refuses binary from clients. */
        public Builder maxAttachments(int value) {
            maxAttachments = value;
            return this;
        }

        /** Bad frames tolerated before the connection is closed with 1008 (10). */
        public Builder maxProtocolErrors(int value) {
            maxProtocolErrors = value;
            return this;
        }

        /** Server-to-client acks one socket may have outstanding (1000). */
        public Builder maxPendingAcks(int value) {
            maxPendingAcks = value;
            return this;
        }

        /** The timeout of {@code emitWithAck} unless {@code timeout()} sets one (10 s). */
        public Builder ackTimeout(Duration value) {
            ackTimeout = value;
            return this;
        }

        /**
         * How long the listeners of one incoming event may run. Listeners run on the connection's
         * reading thread, which cannot be interrupted safely, so one that overruns keeps running;
         * but its event fails at once (the client's ack gets {@code {"message":"handler timed out"}},
         * a later answer is dropped) and a warning names it. Checked every tenth of the timeout.
         */
        public Builder handlerTimeout(Duration value) {
            handlerTimeout = value;
            return this;
        }

        /** How long a shutdown waits for send queues to flush (5 s). */
        public Builder shutdownGrace(Duration value) {
            shutdownGrace = value;
            return this;
        }

        /** Zero turns connection-state recovery off. */
        public Builder recoveryWindow(Duration value) {
            recoveryWindow = value;
            return this;
        }

        /** The bounds of what one session keeps for replay. */
        public Builder recoveryLimits(int maxEvents, long maxBytes) {
            recoveryMaxEvents = maxEvents;
            recoveryMaxBytes = maxBytes;
            return this;
        }

        /** Whether middleware checks a recovering client again (true). */
        public Builder recoveryRunsMiddleware(boolean value) {
            recoveryRunsMiddleware = value;
            return this;
        }

        /** Keeps the records of sessions waiting for their client (in memory by default; Redis on a cluster). */
        public Builder sessionStore(SessionStore value) {
            sessionStore = value;
            return this;
        }

        /** The native wire format's codec. */
        public Builder codec(Codec value) {
            codec = value;
            return this;
        }

        /** Makes each namespace's adapter, which alone knows rooms (in memory by default; Redis on a cluster). */
        public Builder adapter(AdapterFactory value) {
            adapter = value;
            return this;
        }

        /** The time source of heartbeats, recovery windows and timeouts; a test injects its own. */
        public Builder clock(Clock value) {
            clock = value;
            return this;
        }

        /**
         * The reverse proxies in front of the server, as IP addresses and CIDR ranges, e.g.
         * {@code List.of("10.0.0.0/8", "127.0.0.1")}; only their forwarding headers are believed.
         *
         * @throws IllegalArgumentException naming an entry that is not an address or range
         */
        public Builder trustedProxies(List<String> addressesAndRanges) {
            trustedProxies = TrustedProxies.of(addressesAndRanges);
            return this;
        }

        /** Timers run here; the caller owns (and shuts down) a scheduler it passes in. */
        public Builder scheduler(ScheduledExecutorService value) {
            scheduler = value;
            return this;
        }

        /**
         * Where what timers set off runs when it can reach application code; the caller owns (and
         * shuts down) an executor it passes in. It must not run tasks on the calling thread in
         * production: that would be the timer thread, and an application listener would delay every
         * connection's heartbeat ({@code Runnable::run} suits tests on virtual time).
         */
        public Builder callbackExecutor(Executor value) {
            callbackExecutor = value;
            return this;
        }

        public SwitchboardOptions build() {
            return new SwitchboardOptions(pingInterval, pingTimeout, maxPayloadBytes, sendQueueBytes, sendBudgetBytes, allowedOrigins,
                    eventsPerSecond, eventBurst, maxConnections, maxConnectionsPerAddress, maxWaitingSessions,
                    maxWaitingSessionsPerAddress, ipv6PrefixLength, maxNamespaces, maxAttachments, maxProtocolErrors, maxPendingAcks, ackTimeout,
                    handlerTimeout, shutdownGrace, recoveryWindow, recoveryMaxEvents, recoveryMaxBytes, recoveryRunsMiddleware,
                    sessionStore, codec, adapter, clock, scheduler, callbackExecutor, socketIoPath, trustedProxies);
        }
    }
}

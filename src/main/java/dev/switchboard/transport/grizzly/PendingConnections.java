package dev.switchboard.transport.grizzly;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.glassfish.grizzly.Connection;
import org.glassfish.grizzly.GenericCloseListener;
import org.glassfish.grizzly.Grizzly;
import org.glassfish.grizzly.attributes.Attribute;
import org.glassfish.grizzly.filterchain.BaseFilter;
import org.glassfish.grizzly.filterchain.FilterChainBuilder;
import org.glassfish.grizzly.filterchain.FilterChainContext;
import org.glassfish.grizzly.filterchain.NextAction;
import org.glassfish.grizzly.filterchain.TransportFilter;
import org.glassfish.grizzly.http.HttpContent;
import org.glassfish.grizzly.http.HttpRequestPacket;
import org.glassfish.grizzly.http.server.AddOn;
import org.glassfish.grizzly.http.server.HttpServerFilter;
import org.glassfish.grizzly.http.server.NetworkListener;

/**
 * Bounds the connections that are not WebSockets yet, which cost a file descriptor each and
 * nothing to an attacker: a connection must finish its TLS handshake and request head within the
 * header timeout however slowly it trickles bytes; a plain HTTP connection (static files) is
 * dropped after the idle timeout between requests; there are at most so many such connections
 * from one client address, an IPv6 one counted by its network (more are dropped on accept, or
 * once a PROXY header names the client behind a balancer) and in total (past it the oldest one still
 * sending its head goes, so a flood of half-open requests cannot lock out a client that upgrades
 * at once). Once {@link #upgraded} tells it so, a connection is the heartbeat's to time; so is
 * one while a long-polling GET of an open session waits on it ({@link #settled} until {@link #rejoin}).
 *
 * <p>Two filters: one right after the transport, which sees every connection before TLS and HTTP,
 * and one after the HTTP codec, which sees request heads and the end of responses.
 *
 * <p>Threads: Grizzly's threads accept, read, write and close; a scheduler's thread sweeps.
 * All state is guarded by {@code this}.
 */
final class PendingConnections implements AddOn {
    private final StandaloneOptions options;
    private final Predicate<String> exempt;
    private final UnaryOperator<String> addressKey;
    private final Runnable refused;
    private final LongSupplier nanoClock;
    /** Marks a connection counted here, so that the filters skip WebSockets without taking the lock. */
    private final Attribute<Pending> state =
            Grizzly.DEFAULT_ATTRIBUTE_BUILDER.createAttribute(PendingConnections.class.getName() + ".pending");
    private final Map<Connection<?>, Pending> pending = new HashMap<>();
    private final Map<String, Integer> perAddress = new HashMap<>();

    /** What one connection that has not upgraded is doing, and by when it must have done it. */
    private static final class Pending {
        /** What it counts against: the key of the peer's address, or of the one its balancer's PROXY header named. */
        String countedAs;
        final long acceptedAt;
        /** Whether it is reading a request head (timed hard) rather than being answered (timed by progress). */
        boolean readingHead = true;
        long deadline;

        Pending(String countedAs, long acceptedAt, long deadline) {
            this.countedAs = countedAs;
            this.acceptedAt = acceptedAt;
            this.deadline = deadline;
        }
    }

    /**
     * @param exempt    addresses not held to the per-address cap (trusted proxies: all their clients share their address)
     * @param addressKey what a client's address counts by ({@link dev.switchboard.server.SwitchboardOptions#addressKey})
     * @param refused   counts a connection dropped at a cap (the metrics' refused connections)
     * @param scheduler runs the sweep that drops connections past their deadline
     * @param nanoClock the time, as {@link System#nanoTime()}
     */
    PendingConnections(StandaloneOptions options, Predicate<String> exempt, UnaryOperator<String> addressKey, Runnable refused,
                       ScheduledExecutorService scheduler, LongSupplier nanoClock) {
        this.options = options;
        this.exempt = exempt;
        this.addressKey = addressKey;
        this.refused = refused;
        this.nanoClock = nanoClock;
        long period = Math.max(20, Math.min(1_000, Math.min(options.headerTimeout().toMillis(), options.idleTimeout().toMillis()) / 4));
        scheduler.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.MILLISECONDS);
    }

    @Override
    public void setup(NetworkListener listener, FilterChainBuilder builder) {
        builder.add(builder.indexOfType(TransportFilter.class) + 1, new AcceptFilter());
        builder.add(builder.indexOfType(HttpServerFilter.class), new HttpFilter());
    }

    /** Connections not upgraded yet, for tests and figures. */
    synchronized int count() {
        return pending.size();
    }

    /** The connection became a WebSocket: it is no longer timed or counted here. */
    void upgraded(Connection<?> connection) {
        release(connection);
    }

    /**
     * The connection carries a long-polling GET of an open Engine.IO session, which waits up to
     * pingInterval and cannot be evicted: while it waits, the connection is bounded by {@code
     * maxConnections} (one such GET per session) and not counted or timed here.
     */
    void settled(Connection<?> connection) {
        release(connection);
    }

    /**
     * The long-polling GET was answered: the connection, idle until the client's next request, is
     * counted and timed again like any keep-alive connection (and may make room for a newcomer).
     * A connection that closed meanwhile is swept after the idle timeout.
     */
    synchronized void rejoin(Connection<?> connection) {
        if (pending.containsKey(connection) || !connection.isOpen()) {
            return;
        }
        long now = nanoClock.getAsLong();
        track(connection, new Pending(key(clientAddress(connection)), now, now + options.idleTimeout().toNanos()));
    }

    /**
     * A trusted balancer's PROXY header named the client behind it: the connection counts against
     * that client's share from now on, as if it had come from the client itself.
     *
     * @return false when the client already holds its share: the caller drops the connection
     */
    synchronized boolean named(Connection<?> connection, String client) {
        Pending tracked = pending.get(connection);
        if (tracked == null) {
            // Evicted or swept meanwhile: it is being dropped anyway.
            return true;
        }
        if (overShare(client)) {
            forget(connection);
            refused.run();
            return false;
        }
        uncount(tracked.countedAs);
        tracked.countedAs = key(client);
        perAddress.merge(tracked.countedAs, 1, Integer::sum);
        return true;
    }

    private boolean overShare(String address) {
        return !exempt.test(address) && perAddress.getOrDefault(key(address), 0) >= options.maxPendingPerAddress();
    }

    /**
     * What a connection from {@code address} counts against: a client's address key, so that an
     * IPv6 client's share is its network's; a trusted proxy's own address, so that its
     * connections, exempt from the share, do not use up the share of clients in its network.
     */
    private String key(String address) {
        return exempt.test(address) ? address : addressKey.apply(address);
    }

    private void track(Connection<?> connection, Pending tracked) {
        pending.put(connection, tracked);
        state.set(connection, tracked);
        perAddress.merge(tracked.countedAs, 1, Integer::sum);
    }

    private synchronized boolean admit(Connection<?> connection) {
        String address = clientAddress(connection);
        if (overShare(address)) {
            refused.run();
            return false;
        }
        if (pending.size() >= options.maxPending()) {
            Connection<?> oldest = oldestReadingHead();
            refused.run();
            if (oldest == null) {
                return false;
            }
            forget(oldest);
            oldest.terminateSilently();
        }
        long now = nanoClock.getAsLong();
        track(connection, new Pending(key(address), now, now + options.headerTimeout().toNanos()));
        return true;
    }

    private Connection<?> oldestReadingHead() {
        Connection<?> oldest = null;
        long oldestAt = Long.MAX_VALUE;
        for (Map.Entry<Connection<?>, Pending> entry : pending.entrySet()) {
            if (entry.getValue().readingHead && entry.getValue().acceptedAt < oldestAt) {
                oldest = entry.getKey();
                oldestAt = entry.getValue().acceptedAt;
            }
        }
        return oldest;
    }

    private synchronized void release(Connection<?> connection) {
        forget(connection);
    }

    private void forget(Connection<?> connection) {
        Pending gone = pending.remove(connection);
        if (gone != null) {
            state.remove(connection);
            uncount(gone.countedAs);
        }
    }

    private void uncount(String address) {
        perAddress.computeIfPresent(address, (key, count) -> count > 1 ? count - 1 : null);
    }

    /** A request head arrived: it is being answered, and must keep making progress. */
    private synchronized void answering(Pending pending) {
        pending.readingHead = false;
        pending.deadline = nanoClock.getAsLong() + options.idleTimeout().toNanos();
    }

    /** The answer is out: the next request head must come, complete, within the idle timeout. */
    private synchronized void answered(Pending pending, boolean last) {
        pending.readingHead = last;
        pending.deadline = nanoClock.getAsLong() + options.idleTimeout().toNanos();
    }

    private void sweep() {
        List<Connection<?>> expired = new ArrayList<>();
        synchronized (this) {
            long now = nanoClock.getAsLong();
            pending.forEach((connection, state) -> {
                if (now - state.deadline >= 0) {
                    expired.add(connection);
                }
            });
            expired.forEach(this::forget);
        }
        expired.forEach(Connection::terminateSilently);
    }

    /** The client's address as far as it is known: the one a PROXY header named, else the peer's ("" if none). */
    private static String clientAddress(Connection<?> connection) {
        String proxied = ProxyProtocol.clientAddress(connection);
        if (proxied != null) {
            return proxied;
        }
        return connection.getPeerAddress() instanceof InetSocketAddress address ? address.getAddress().getHostAddress() : "";
    }

    private final class AcceptFilter extends BaseFilter {
        @Override
        public NextAction handleAccept(FilterChainContext ctx) throws IOException {
            Connection<?> connection = ctx.getConnection();
            if (!admit(connection)) {
                connection.terminateSilently();
                return ctx.getStopAction();
            }
            connection.addCloseListener((GenericCloseListener) (closed, type) -> release(connection));
            return ctx.getInvokeAction();
        }
    }

    private final class HttpFilter extends BaseFilter {
        @Override
        public NextAction handleRead(FilterChainContext ctx) throws IOException {
            Pending pending = state.get(ctx.getConnection());
            if (pending != null && ctx.getMessage() instanceof HttpContent content
                    && content.getHttpHeader() instanceof HttpRequestPacket) {
                answering(pending);
            }
            return ctx.getInvokeAction();
        }

        @Override
        public NextAction handleWrite(FilterChainContext ctx) throws IOException {
            Pending pending = state.get(ctx.getConnection());
            if (pending != null && ctx.getMessage() instanceof HttpContent content) {
                answered(pending, content.isLast());
            }
            return ctx.getInvokeAction();
        }
    }
}

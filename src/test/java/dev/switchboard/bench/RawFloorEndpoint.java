package dev.switchboard.bench;

import dev.switchboard.transport.grizzly.TyrusContainer;
import jakarta.websocket.CloseReason;
import jakarta.websocket.DeploymentException;
import jakarta.websocket.OnClose;
import jakarta.websocket.OnError;
import jakarta.websocket.OnMessage;
import jakarta.websocket.OnOpen;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerEndpoint;
import java.io.IOException;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.glassfish.grizzly.http.server.HttpServer;
import org.glassfish.grizzly.http.server.NetworkListener;
import org.glassfish.grizzly.strategies.WorkerThreadIOStrategy;
import org.glassfish.tyrus.server.TyrusServerContainer;

/**
 * The floor: a bare JSR 356 endpoint doing the benchmark's work with no framework. It speaks just
 * enough of Switchboard's wire format for the same load generator (hello, connect, events with
 * acks), reads frames by position, keeps rooms as sets of endpoints and fans out by sending the
 * same string to each member with {@code getAsyncRemote().sendText}. No heartbeat, no recovery, no
 * send queue of its own, no limits: what is left is the container's own cost.
 */
@ServerEndpoint("/switchboard")
public class RawFloorEndpoint {
    private static final Map<String, Set<RawFloorEndpoint>> ROOMS = new ConcurrentHashMap<>();
    private static final Set<RawFloorEndpoint> OPEN = ConcurrentHashMap.newKeySet();

    private Session session;
    /** Bytes handed to the container and not yet reported sent: what a stalled peer costs. */
    private final AtomicLong queued = new AtomicLong();
    /** The container calls one connection's methods one at a time. */
    private final Set<String> joined = new HashSet<>();

    @OnOpen
    public void open(Session session) {
        this.session = session;
        session.setMaxIdleTimeout(0);
        OPEN.add(this);
        send("{\"type\":\"hello\",\"v\":1}");
    }

    @OnMessage
    public void text(String frame) {
        if (frame.startsWith("{\"type\":\"event\"")) {
            String event = Wire.string(frame, "\"event\":\"");
            int ackAt = frame.lastIndexOf(",\"ack\":");
            long ack = ackAt < 0 ? 0 : Wire.number(frame, ackAt + 7);
            String args = frame.substring(frame.indexOf("\"args\":[") + 8, (ackAt < 0 ? frame.length() - 1 : ackAt) - 1);
            onEvent(event, args, ack);
        } else if (frame.startsWith("{\"type\":\"connect\"")) {
            send("{\"type\":\"connect\",\"id\":\"" + session.getId() + "\",\"pid\":\"" + session.getId() + "\",\"recovered\":false}");
        }
    }

    private void onEvent(String event, String args, long ack) {
        switch (event) {
            case "join" -> {
                String room = args.substring(1, args.length() - 1);
                joined.add(room);
                ROOMS.computeIfAbsent(room, r -> ConcurrentHashMap.newKeySet()).add(this);
                ack(ack, "");
            }
            case "echo" -> ack(ack, args);
            case "publish" -> {
                int comma = args.indexOf(',');
                Set<RawFloorEndpoint> members = ROOMS.get(args.substring(1, comma - 1));
                if (members != null) {
                    String out = "{\"type\":\"event\",\"event\":\"msg\",\"args\":[" + args.substring(comma + 1) + "]}";
                    for (RawFloorEndpoint member : members) {
                        member.send(out);
                    }
                }
            }
            case "stats" -> {
                long maxQueued = OPEN.stream().mapToLong(e -> e.queued.get()).max().orElse(0);
                ack(ack, "{\"heap\":" + BenchServer.heapUsed(args.equals("true")) + ",\"queue\":" + maxQueued
                        + ",\"conns\":" + OPEN.size() + "}");
            }
            default -> ack(ack, "");
        }
    }

    private void ack(long ack, String args) {
        if (ack > 0) {
            send("{\"type\":\"ack\",\"ack\":" + ack + ",\"args\":[" + args + "]}");
        }
    }

    private void send(String text) {
        int bytes = text.length();
        queued.addAndGet(bytes);
        session.getAsyncRemote().sendText(text, result -> queued.addAndGet(-bytes));
    }

    @OnClose
    public void close(CloseReason reason) {
        OPEN.remove(this);
        for (String room : joined) {
            ROOMS.computeIfPresent(room, (name, members) -> {
                members.remove(this);
                return members.isEmpty() ? null : members;
            });
        }
    }

    @OnError
    public void error(Throwable error) {
        // the container closes the session; close() cleans up
    }

    /**
     * Serves the endpoint on a Grizzly listener set up as {@code StandaloneServer} sets up its own
     * (worker-thread I/O strategy, no HTTP idle timeout, Tyrus mounted as an add-on), so that the
     * floor and Switchboard differ by the framework only.
     */
    static Host start(String hostName, int port) throws IOException, DeploymentException {
        HttpServer http = new HttpServer();
        NetworkListener listener = new NetworkListener("raw-floor", hostName, port);
        listener.getTransport().setIOStrategy(WorkerThreadIOStrategy.getInstance());
        listener.getKeepAlive().setIdleTimeoutInSeconds(-1);
        http.addListener(listener);
        TyrusContainer container = new TyrusContainer(Set.of(RawFloorEndpoint.class), (1 << 20) + 1024);
        listener.registerAddOn(container.addOn());
        http.start();
        container.start("", listener.getPort());
        return new Host(http, container, listener.getPort());
    }

    /** The running floor server. */
    record Host(HttpServer http, TyrusServerContainer container, int port) implements AutoCloseable {
        @Override
        public void close() {
            container.stop();
            http.shutdownNow();
        }
    }
}

package dev.switchboard.bench;

import jakarta.websocket.CloseReason;
import jakarta.websocket.OnClose;
import jakarta.websocket.OnError;
import jakarta.websocket.OnMessage;
import jakarta.websocket.OnOpen;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerEndpoint;
import java.util.HashSet;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The floor: a bare JSR 356 endpoint doing the benchmark's work with no framework, the same class
 * on every container (Grizzly/Tyrus, Tomcat, Jetty). It speaks just enough of Switchboard's wire
 * format for the same load generator (hello, connect, events with acks), reads frames by position,
 * keeps rooms as sets of endpoints and fans out by sending the same string to each member with
 * {@code getAsyncRemote().sendText}. No heartbeat, no recovery, no limits, and no more than JSR
 * 356 itself demands: one send in flight per session, the others waiting in a queue, because
 * Tomcat refuses a second {@code sendText} while one is in flight; and messages taken in parts,
 * because Tomcat hands whole messages only up to its 8 KiB text buffer. What is left is the
 * container's own cost.
 */
@ServerEndpoint("/switchboard")
public class RawFloorEndpoint {
    private static final Map<String, Set<RawFloorEndpoint>> ROOMS = new ConcurrentHashMap<>();
    private static final Set<RawFloorEndpoint> OPEN = ConcurrentHashMap.newKeySet();
    /**
     * The async send timeout Switchboard's endpoint sets (its ping interval plus ping timeout, 25 s
     * + 20 s), set here too so that both pay the same per-send bookkeeping on every container.
     */
    static final long SEND_TIMEOUT_MILLIS = 45_000;

    private Session session;
    /** Bytes waiting or handed to the container and not yet reported sent: what a stalled peer costs. */
    private final AtomicLong queued = new AtomicLong();
    private final Queue<String> waiting = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean sending = new AtomicBoolean();
    /** The container calls one connection's methods one at a time. */
    private final Set<String> joined = new HashSet<>();
    private StringBuilder parts;

    @OnOpen
    public void open(Session session) {
        this.session = session;
        // As Switchboard's endpoint: the standalone server's default never falls due, and keeping it
        // spares Tyrus a timer task per message (TyrusContainer); elsewhere no idle timeout.
        if (session.getMaxIdleTimeout() != Long.MAX_VALUE) {
            session.setMaxIdleTimeout(0);
        }
        session.getAsyncRemote().setSendTimeout(SEND_TIMEOUT_MILLIS);
        OPEN.add(this);
        send("{\"type\":\"hello\",\"v\":1}");
    }

    @OnMessage
    public void text(String part, boolean last) {
        if (!last) {
            if (parts == null) {
                parts = new StringBuilder();
            }
            parts.append(part);
            return;
        }
        String frame = part;
        if (parts != null) {
            frame = parts.append(part).toString();
            parts = null;
        }
        Frames.Event event = Frames.Event.of(frame);
        if (event != null) {
            onEvent(event.name(), event.args(), event.ack());
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
                ack(ack, "{\"heap\":" + Heap.used(args.equals("true")) + ",\"queue\":" + maxQueued
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
        queued.addAndGet(text.length());
        waiting.add(text);
        sendNext();
    }

    /** Whoever sets {@code sending} sends one frame; its completion sends the next. */
    private void sendNext() {
        while (!waiting.isEmpty() && sending.compareAndSet(false, true)) {
            String text = waiting.poll();
            if (text != null) {
                session.getAsyncRemote().sendText(text, result -> {
                    queued.addAndGet(-text.length());
                    if (result.isOK()) {
                        sending.set(false);
                        sendNext();
                    } else {
                        // The session is failing: nothing more goes out (sending stays set).
                        waiting.clear();
                    }
                });
                return;
            }
            sending.set(false);
        }
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
}

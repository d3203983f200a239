package dev.switchboard.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One simulated client: a WebSocket speaking one {@link Wire}, its namespace session (id, pid,
 * last offset, so that it can ask to recover after a drop) and its delivery tally.
 *
 * <p>Threads: callbacks run on the generator's selector thread, which alone writes the tally;
 * sends come from the scenario's threads.
 */
final class Client implements WsLoop.Handler {
    private final Fleet fleet;
    final int room;
    private final int receiveBuffer;
    /** The node it connects to; {@link #moveTo} changes it for the next {@link #open}. */
    private volatile InetSocketAddress address;
    private volatile WsLoop.Conn conn;
    private volatile CompletableFuture<Client> connected = new CompletableFuture<>();
    private final Map<Long, CompletableFuture<String>> calls = new ConcurrentHashMap<>();
    private final AtomicLong ackIds = new AtomicLong();

    private volatile String id;
    private volatile String pid;
    private volatile String offset;
    private volatile boolean recovered;

    // The tally, written on the selector thread.
    long lastSeq = -1;
    long duplicates;
    /** Which sequence numbers of the counting window ({@code seenFrom} on) arrived: a late one is no duplicate. */
    final java.util.BitSet seen = new java.util.BitSet();
    long seenFrom = Long.MIN_VALUE;
    /** Events sent while this client was away and received after it came back. */
    long recoveredEvents;
    volatile long droppedAt;
    /** When the new connection after a drop was upgraded: anything sent before it was replayed. */
    volatile long reopenedAt;
    volatile long backAt;

    /**
     * @param room          the room it joins, or -1 for none
     * @param receiveBuffer its socket's receive buffer, 0 for the system's
     */
    Client(Fleet fleet, int room, int receiveBuffer) {
        this.fleet = fleet;
        this.room = room;
        this.receiveBuffer = receiveBuffer;
        this.address = fleet.place(room);
    }

    InetSocketAddress address() {
        return address;
    }

    /** Connects to another node from now on, as a load balancer sends a client whose node died. */
    void moveTo(InetSocketAddress node) {
        address = node;
    }

    /** Connects; with {@code resume}, asks the server to recover the previous session. */
    CompletableFuture<Client> open(boolean resume) {
        if (!resume) {
            pid = null;
            offset = null;
        }
        connected = new CompletableFuture<>();
        conn = fleet.loop().newConnection(address, fleet.wire().path(), this);
        conn.open(receiveBuffer);
        return connected;
    }

    CompletableFuture<Client> whenConnected() {
        return connected;
    }

    boolean recovered() {
        return recovered;
    }

    boolean isOpen() {
        return conn != null && !conn.isClosed() && connected.isDone() && !connected.isCompletedExceptionally();
    }

    /** Sends an event that asks for an ack; completes with the ack frame. */
    CompletableFuture<String> call(String event, String args) {
        long ackId = ackIds.incrementAndGet();
        CompletableFuture<String> answer = new CompletableFuture<>();
        calls.put(ackId, answer);
        conn.sendText(fleet.wire().emit(event, ackId, args));
        return answer;
    }

    /** Sends an event whose ack the fleet measures as a round trip. */
    void echo(String payload) {
        conn.sendText(fleet.wire().emit("echo", ackIds.incrementAndGet(), payload));
    }

    /** Sends an event without an ack. */
    void send(String event, String args) {
        conn.sendText(fleet.wire().emit(event, 0, args));
    }

    /** Leaves on purpose: namespace disconnect, then a close frame. */
    void leave() {
        WsLoop.Conn c = conn;
        if (c != null && !c.isClosed()) {
            c.sendText(fleet.wire().disconnect());
            c.close();
        }
    }

    /** Drops the connection as a network failure would; the server may keep the session. */
    void drop() {
        droppedAt = System.nanoTime();
        conn.abort();
    }

    void stopReading() {
        conn.stopReading();
    }

    // ---- callbacks from the selector thread ----

    @Override
    public void onOpen(WsLoop.Conn c) {
        // Both protocols greet first (hello, Engine.IO open); the namespace connect follows it.
        reopenedAt = System.nanoTime();
    }

    void onHello() {
        conn.sendText(fleet.wire().connect(pid, offset));
    }

    /** @param recoveredFlag what the server said, or null where recovery shows as an unchanged id */
    void onConnected(String newId, String newPid, Boolean recoveredFlag) {
        recovered = recoveredFlag != null ? recoveredFlag : pid != null && newId.equals(id);
        id = newId;
        pid = newPid;
        if (!recovered && room >= 0) {
            call("join", "\"r" + room + "\"").whenComplete((ack, error) -> back(error));
        } else {
            back(null);
        }
    }

    private void back(Throwable error) {
        backAt = System.nanoTime();
        if (error == null) {
            connected.complete(this);
        } else {
            connected.completeExceptionally(error);
        }
    }

    void onEvent(String frame, String newOffset) {
        if (newOffset != null) {
            offset = newOffset;
        }
        int at = Payload.find(frame);
        if (at >= 0) {
            fleet.onMessage(this, Payload.seq(frame, at), Payload.sentAt(frame, at));
            return;
        }
        // Counted by room members only: a fleet's control client and its publishers get notices too.
        long departure = room >= 0 ? fleet.wire().notice(frame) : -1;
        if (departure >= 0) {
            fleet.onNotice(departure);
        }
    }

    void onAck(long ackId, String frame) {
        CompletableFuture<String> answer = calls.remove(ackId);
        if (answer != null) {
            answer.complete(frame);
        } else {
            int at = Payload.find(frame);
            if (at >= 0) {
                fleet.onEchoAck(Payload.sentAt(frame, at));
            }
        }
    }

    void onPing() {
        conn.sendText(fleet.wire().pong(offset));
    }

    void onRefused(String frame) {
        fleet.onError(frame);
    }

    @Override
    public void onText(WsLoop.Conn c, String text) {
        if (c == conn) {
            fleet.wire().dispatch(text, this);
        }
    }

    @Override
    public void onClosed(WsLoop.Conn c, String why) {
        if (c != conn) {
            return;
        }
        connected.completeExceptionally(new IOException(why));
        calls.values().forEach(call -> call.completeExceptionally(new IOException(why)));
        calls.clear();
    }
}

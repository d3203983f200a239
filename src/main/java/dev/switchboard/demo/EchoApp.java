package dev.switchboard.demo;

import dev.switchboard.server.BroadcastOperator;
import dev.switchboard.server.Event;
import dev.switchboard.server.Namespace;
import dev.switchboard.server.Socket;
import dev.switchboard.server.Switchboard;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;

/**
 * The {@code /echo} namespace: small, stable handlers for each server feature, which the
 * deployment tests (and anyone checking a deployment by hand) drive the same way on every
 * container, whatever the demo page's own events are.
 *
 * <ul>
 * <li>{@code connect} with auth {@code {"user": "ann"}}: the socket belongs to user {@code ann}</li>
 * <li>{@code echo(args...)}: acks with the same arguments, binary ones as binary</li>
 * <li>{@code whoami()}: acks {@code {"id", "user", "address"}}, the address as the container reports it</li>
 * <li>{@code join(room)}: joins the room, acks with the room</li>
 * <li>{@code to-room(room, text)}: {@code room-message(room, text)} to the room's other sockets; acks</li>
 * <li>{@code to-user(user, text)}: {@code private(fromUser, text)} to every socket of that user; acks</li>
 * <li>{@code ask(text)}: asks this client {@code question(text)} with an ack, acks with its answer; when the
 *     question fails (the client answers with an error, or not within the server's ack timeout), acks
 *     with an error</li>
 * <li>{@code burst(room, count, threads)}: {@code burst(i)} for i = 0..count-1 to every socket in the
 *     room, broadcast concurrently from several threads (thread t sends t, t + threads, ...); acks
 *     with count afterwards, so the caller gets the ack after every burst event</li>
 * <li>{@code flood(room, count, size)}: {@code flood(i, text)} with a text of {@code size} characters,
 *     for i = 0..count-1, to every socket in the room, in rounds of 64; before
 *     each round it asks the caller {@code flood-sync()} with an ack and waits for the answer. So
 *     the caller is never far behind, while a member that stops reading falls behind by the whole
 *     flood and is cut off as a slow consumer. Acks with count, or with an error when the caller
 *     does not answer a {@code flood-sync} in time</li>
 * <li>when a socket disconnects: {@code gone(user, reason)} to the whole namespace</li>
 * </ul>
 *
 * <pre>{@code
 * Switchboard server = Switchboard.create();
 * EchoApp.install(server);   // besides the application's own handlers
 * }</pre>
 */
public final class EchoApp {
    /** The namespace the handlers are on. */
    public static final String NAMESPACE = "/echo";
    /** Bounds of {@code burst}, so that a client cannot make the server do much work. */
    static final int MAX_BURST = 2000;
    static final int MAX_BURST_THREADS = 8;
    /** Bound of {@code flood}: count times size, in characters. */
    static final long MAX_FLOOD_CHARS = 32L << 20;
    static final int FLOOD_ROUND = 64;
    private static final Duration FLOOD_SYNC_TIMEOUT = Duration.ofSeconds(30);

    private EchoApp() {
    }

    /** The auth payload of a connect. */
    public record Auth(String user) {
    }

    /** The answer to {@code whoami}. */
    public record Identity(String id, String user, String address) {
    }

    /** Installs the handlers on {@code server}'s {@code /echo} namespace. */
    public static void install(Switchboard server) {
        Namespace echo = server.of(NAMESPACE);
        echo.use(socket -> {
            Auth auth = socket.handshake().auth(Auth.class);
            if (auth != null && auth.user() != null) {
                socket.userId(auth.user());
            }
        });
        echo.onConnection(socket -> {
            socket.on("echo", event -> event.ack(event.args().payload()));
            socket.on("whoami", event -> event.ack(
                    new Identity(socket.id(), socket.userId(), socket.handshake().remoteAddress())));
            socket.on("join", String.class, (room, event) -> {
                socket.join(room);
                event.ack(room);
            });
            socket.on("to-room", event -> {
                socket.to(event.arg(0, String.class)).emit("room-message", event.arg(0, String.class),
                        event.arg(1, String.class));
                event.ack();
            });
            socket.on("to-user", event -> {
                echo.toUser(event.arg(0, String.class)).emit("private", socket.userId(), event.arg(1, String.class));
                event.ack();
            });
            socket.on("ask", event -> ackWhenDone(event, socket.emitWithAck("question", event.arg(0, String.class)),
                    answer -> new Object[] {answer.raw(0)}));
            socket.on("burst", event -> {
                int count = event.arg(1, Integer.class);
                ackWhenDone(event, burst(echo.to(event.arg(0, String.class)), count, event.arg(2, Integer.class)),
                        done -> new Object[] {count});
            });
            socket.on("flood", event -> {
                int count = event.arg(1, Integer.class);
                ackWhenDone(event, flood(echo.to(event.arg(0, String.class)), socket, count, event.arg(2, Integer.class)),
                        done -> new Object[] {count});
            });
            socket.onDisconnect(reason -> echo.emit("gone", socket.userId(), reason.text()));
        });
    }

    /**
     * Answers the client's ack once {@code work} is done: with {@code answer} of its result, or
     * with an error when it failed (a question the client answered with an error, late or never),
     * so that the client is never left waiting for its own timeout.
     */
    private static <T> void ackWhenDone(Event event, CompletableFuture<T> work, Function<T, Object[]> answer) {
        work.whenComplete((result, failure) -> {
            if (failure == null) {
                event.ack(answer.apply(result));
            } else {
                Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                        ? failure.getCause() : failure;
                event.fail(event.name() + " failed: " + cause.getMessage());
            }
        });
    }

    private static CompletableFuture<Void> flood(BroadcastOperator room, Socket caller, int count, int size) {
        if (count < 0 || size < 0 || (long) count * size > MAX_FLOOD_CHARS) {
            throw new IllegalArgumentException("flood takes at most " + MAX_FLOOD_CHARS + " characters in all");
        }
        return floodFrom(0, room, caller, count, "f".repeat(size));
    }

    /** One round, then the next once the caller has answered: it has read everything before. */
    private static CompletableFuture<Void> floodFrom(int first, BroadcastOperator room, Socket caller, int count,
            String text) {
        int end = Math.min(count, first + FLOOD_ROUND);
        for (int i = first; i < end; i++) {
            room.emit("flood", i, text);
        }
        if (end == count) {
            return CompletableFuture.completedFuture(null);
        }
        return caller.timeout(FLOOD_SYNC_TIMEOUT).emitWithAck("flood-sync")
                .thenCompose(answer -> floodFrom(end, room, caller, count, text));
    }

    /** Broadcasts concurrently from {@code threads} threads, released together; completes once all are queued. */
    private static CompletableFuture<Void> burst(BroadcastOperator room, int count, int threads) {
        if (count < 0 || count > MAX_BURST || threads < 1 || threads > MAX_BURST_THREADS) {
            throw new IllegalArgumentException("burst takes 0.." + MAX_BURST + " events from 1.."
                    + MAX_BURST_THREADS + " threads");
        }
        CountDownLatch start = new CountDownLatch(1);
        CompletableFuture<?>[] done = new CompletableFuture<?>[threads];
        for (int t = 0; t < threads; t++) {
            int first = t;
            done[t] = CompletableFuture.runAsync(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int i = first; i < count; i += threads) {
                    room.emit("burst", i);
                }
            }, task -> new Thread(task, "echo-burst").start());
        }
        start.countDown();
        return CompletableFuture.allOf(done);
    }
}

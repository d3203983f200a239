package dev.switchboard.demo;

import dev.switchboard.server.Namespace;
import dev.switchboard.server.Socket;
import dev.switchboard.server.Switchboard;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

/**
 * The {@code /echo} namespace: small, stable handlers for each server feature, which the
 * deployment tests (and anyone checking a deployment by hand) drive the same way on every
 * container, whatever the demo page's own events are.
 *
 * <ul>
 * <li>{@code connect} with auth {@code {"user": "ann"}}: the socket belongs to user {@code ann}</li>
 * <li>{@code echo(args...)}: acks with the same arguments</li>
 * <li>{@code whoami()}: acks {@code {"id", "user", "address"}}, the address as the container reports it</li>
 * <li>{@code join(room)}: joins the room, acks with the room</li>
 * <li>{@code to-room(room, text)}: {@code room-message(room, text)} to the room's other sockets; acks</li>
 * <li>{@code to-user(user, text)}: {@code private(fromUser, text)} to every socket of that user; acks</li>
 * <li>{@code ask(text)}: asks this client {@code question(text)} with an ack, acks with its answer</li>
 * <li>{@code burst(count, threads)}: {@code burst(i)} for i = 0..count-1 to this socket, emitted
 *     concurrently from several threads (thread t sends t, t + threads, ...); acks with count
 *     afterwards, so the ack follows every burst event</li>
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
            socket.on("echo", event -> event.ack(event.args().list().toArray()));
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
            socket.on("ask", event -> socket.emitWithAck("question", event.arg(0, String.class))
                    .thenAccept(answer -> event.ack(answer.raw(0))));
            socket.on("burst", event -> burst(socket, event.arg(0, Integer.class), event.arg(1, Integer.class))
                    .thenRun(() -> event.ack(event.arg(0, Integer.class))));
        });
    }

    /** Emits concurrently from {@code threads} threads, released together; completes once all are queued. */
    private static CompletableFuture<Void> burst(Socket socket, int count, int threads) {
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
                    socket.emit("burst", i);
                }
            }, task -> new Thread(task, "echo-burst").start());
        }
        start.countDown();
        return CompletableFuture.allOf(done);
    }
}

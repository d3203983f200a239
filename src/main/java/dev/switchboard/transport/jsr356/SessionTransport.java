package dev.switchboard.transport.jsr356;

import dev.switchboard.outbound.FrameWriter;
import dev.switchboard.outbound.Transport;
import dev.switchboard.transport.Inbox;
import dev.switchboard.transport.jetty.JettyCoreSend;
import dev.switchboard.transport.tomcat.TomcatSocketWrite;
import jakarta.websocket.CloseReason;
import jakarta.websocket.Session;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * A {@link Transport} over a JSR 356 session, sending with the async remote, or on Jetty 12 with
 * its WebSocket connection ({@link JettyCoreSend}), which takes a broadcast's UTF-8 payload as it is, or
 * framed once per broadcast where the HTTP layer or the container can write frames
 * ({@link #frameWriter()}: the standalone server, Tomcat).
 *
 * <p>Threads: the endpoint's reading thread writes {@code lastInputNanos}; the thread that closes reads it.
 */
final class SessionTransport implements Transport {
    private static final System.Logger LOG = System.getLogger(SessionTransport.class.getName());
    /**
     * Closing may block on a peer that does not read (Tomcat waits for the close frame to be
     * written), so it runs on threads of its own. They end a second after their last close, so that
     * a web application stopping can wait for them ({@link #awaitClosers}) instead of leaking them.
     */
    private static final ThreadPoolExecutor CLOSER = new ThreadPoolExecutor(0, Integer.MAX_VALUE,
            1, TimeUnit.SECONDS, new SynchronousQueue<>(), runnable -> {
                Thread thread = new Thread(runnable, "switchboard-closer");
                thread.setDaemon(true);
                return thread;
            });
    private static final int MAX_REASON_BYTES = 123;
    /** How long a close may take before an abortable connection is dropped outright. */
    private static final Duration CLOSE_DEADLINE = Duration.ofSeconds(5);
    /** How long the client must have sent nothing before our close frame goes; see {@link #awaitQuietInput}. */
    private static final Duration QUIET_INPUT = Duration.ofMillis(200);
    /** The longest a close waits for that, for a client that never stops sending. */
    private static final Duration MAX_QUIET_WAIT = Duration.ofSeconds(2);

    private final Session session;
    /** Drops the connection outright; null where neither the HTTP layer nor the container can (Tomcat). */
    private final Runnable abort;
    /** Writes frames past the container's send path; null where neither the HTTP layer nor the container can (Jetty). */
    private final FrameWriter frameWriter;
    /** Jetty's direct send; null on other containers. */
    private final JettyCoreSend direct;
    /** Where the endpoint handles the client's input: {@link Inbox#INLINE} unless the HTTP layer gave one. */
    private final Inbox inbox;
    /** Set by our close or by the container's report of one, whichever comes first; that one sets the close deadline. */
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile long lastInputNanos = System.nanoTime();

    /**
     * @param access          what the HTTP layer in front of the container can do, or null
     * @param direct          Jetty's direct send, or null
     * @param containerWriter the container's own frame writer (Tomcat's), or null
     */
    SessionTransport(Session session, SwitchboardConfigurator.ConnectionAccess access, JettyCoreSend direct,
                     FrameWriter containerWriter) {
        this.session = session;
        this.abort = access != null ? access.abort() : direct != null ? direct::abort : null;
        this.frameWriter = access != null ? access.frameWriter() : containerWriter;
        this.direct = direct;
        this.inbox = access != null && access.inbox() != null ? access.inbox() : Inbox.INLINE;
    }

    /**
     * One timer thread for the close deadlines, started only where some connection can be
     * aborted (not on Tomcat). Like the closers it ends a second after its last deadline ran: a web application stopping
     * waits for it ({@link #awaitClosers}), and a thread left running would hold the
     * application's class loader after it was undeployed.
     */
    private static final class Deadlines {
        static final ScheduledThreadPoolExecutor TIMER = endingWhenIdle();

        private static ScheduledThreadPoolExecutor endingWhenIdle() {
            ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, runnable -> {
                Thread thread = new Thread(runnable, "switchboard-close-deadline");
                thread.setDaemon(true);
                return thread;
            });
            // The thread waits while a deadline is queued, due or not, and ends once none is.
            timer.setKeepAliveTime(1, TimeUnit.SECONDS);
            timer.allowCoreThreadTimeOut(true);
            return timer;
        }
    }

    /**
     * Waits up to {@code timeout} for every close to finish, every close deadline to have run and
     * their threads to end; true if none is left.
     */
    static boolean awaitClosers(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (threadsLeft() && System.nanoTime() < deadline) {
                TimeUnit.MILLISECONDS.sleep(20);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !threadsLeft();
    }

    private static boolean threadsLeft() {
        return CLOSER.getPoolSize() > 0 || Deadlines.TIMER.getPoolSize() > 0;
    }

    /**
     * The container reports the connection closed. A client's close frame is answered behind what
     * is being written to it; a client that stopped reading never takes that answer, and the
     * standalone server and Jetty would hold its connection, and the bytes in its socket, for as
     * long as it stays. So unless our own close already set the deadline, the connection is dropped
     * after {@link #CLOSE_DEADLINE} if it is still there (Tomcat drops it itself, see
     * SwitchboardEndpoint).
     */
    void closed() {
        boolean mayBeHeld = direct == null || direct.closed();
        if (abort != null && mayBeHeld && closed.compareAndSet(false, true)) {
            Deadlines.TIMER.schedule(abort, CLOSE_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /**
     * After the connection heard of the close: a write to Tomcat's socket wrapper still in flight
     * fails, since Tomcat drops it when it closes the socket (see {@link TomcatSocketWrite#closed}).
     */
    void writesEnded() {
        if (frameWriter instanceof TomcatSocketWrite tomcat) {
            tomcat.closed();
        }
    }

    /** Where the endpoint hands the client's input, and the failures of sends after it. */
    Inbox inbox() {
        return inbox;
    }

    @Override
    public void afterInputRead(Runnable report) {
        inbox.submit(0, report);
    }

    /** The client sent something: a message or a part of one. */
    void inputArrived() {
        lastInputNanos = System.nanoTime();
    }

    @Override
    public boolean isOpen() {
        // Tomcat's session says open while it answers a client's close frame: past its close frame
        // our frames must not go (its own send refuses them; its socket wrapper would not).
        return session.isOpen() && !(frameWriter instanceof TomcatSocketWrite tomcat && tomcat.closing());
    }

    @Override
    public void send(String text, Consumer<Throwable> done) {
        session.getAsyncRemote().sendText(text, result -> done.accept(result.isOK() ? null : result.getException()));
    }

    @Override
    public FrameWriter frameWriter() {
        return frameWriter;
    }

    @Override
    public void sendBinary(ByteBuffer data, Consumer<Throwable> done) {
        session.getAsyncRemote().sendBinary(data, result -> done.accept(result.isOK() ? null : result.getException()));
    }

    @Override
    public boolean supportsUtf8Payload() {
        return direct != null;
    }

    @Override
    public void sendUtf8(ByteBuffer payload, Consumer<Throwable> done) {
        direct.send(payload, done);
    }

    @Override
    public void close(int code, String reason) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (abort != null) {
            // A peer that stopped reading never takes the close frame queued behind what it left
            // unread; without this, its connection and buffers would stay for as long as it does.
            // (Containers report the close to the endpoint before the connection is gone, so the
            // deadline cannot be called off then; the abort lets go of a connection once it closes.)
            Deadlines.TIMER.schedule(abort, CLOSE_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
        }
        if (!session.isOpen()) {
            return;
        }
        CLOSER.execute(() -> {
            awaitQuietInput();
            try {
                if (session.isOpen()) {
                    session.close(new CloseReason(CloseReason.CloseCodes.getCloseCode(code), truncate(reason)));
                }
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "close failed", e);
            }
        });
    }

    /**
     * Waits until the client has sent nothing for {@link #QUIET_INPUT}, at most {@link #MAX_QUIET_WAIT}.
     * Jetty and Tyrus drop the TCP connection as soon as a close frame of ours is sent; with input
     * still unread (a client that floods), the kernel resets it instead and throws away what it
     * had not sent yet: the errors and the close frame that said why.
     */
    private void awaitQuietInput() {
        long giveUp = System.nanoTime() + MAX_QUIET_WAIT.toNanos();
        try {
            long quietFor;
            while ((quietFor = System.nanoTime() - lastInputNanos) < QUIET_INPUT.toNanos() && System.nanoTime() < giveUp) {
                TimeUnit.NANOSECONDS.sleep(QUIET_INPUT.toNanos() - quietFor);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String truncate(String reason) {
        byte[] bytes = reason.getBytes(StandardCharsets.UTF_8);
        return bytes.length <= MAX_REASON_BYTES ? reason : new String(bytes, 0, MAX_REASON_BYTES, StandardCharsets.UTF_8);
    }
}

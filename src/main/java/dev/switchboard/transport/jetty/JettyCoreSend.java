package dev.switchboard.transport.jetty;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.MutableCallSite;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Sends a text frame whose payload is already in UTF-8 straight to Jetty 12's WebSocket
 * connection, for one connection: what {@code sendText} does after encoding the string, without
 * encoding it again for every recipient of a broadcast. The JSR 356 API has no way to hand over
 * bytes as text.
 *
 * <p>A web application does not see Jetty's classes (its class loader hides them), and the WAR must
 * deploy on any container, so Jetty's API is reached by reflection on the session's runtime class:
 * {@code JakartaWebSocketSession.getCoreSession()}, its {@code getConnection()}, then
 * {@code WebSocketConnection.enqueueFrame(OutgoingEntry)} with a {@code Frame(OpCode.TEXT, payload)}.
 * It is looked up once per session class; on any other container, or a Jetty whose API differs
 * (before 12.1), {@link #of} says none and the caller sends text as before.
 *
 * <p>The frame goes to the connection's frame flusher, the last queue before the socket, and not
 * through the core session's {@code sendFrame}, which first checks the frame, takes the session
 * state's lock, and passes it through a queue of its own (for fragmenting and extensions), each
 * again when the write completes: per recipient of a broadcast, that was Jetty's larger half of
 * the send. What those layers would add does not apply: the frames are whole, valid text frames,
 * no extension is negotiated ({@code SwitchboardConfigurator} turns permessage-deflate down), and
 * the caller keeps one send in flight, so a message of its own never interleaves with another.
 * Jetty's own frames (pongs, the close) still take the session's path and meet these in the
 * flusher: a frame enqueued after the close fails there, as one sent through the session would.
 *
 * <p>Frames go without a write timeout: Jetty would otherwise put a timer entry for each frame
 * into its scheduler (and wake the scheduler's thread) whenever the connection's queue was empty,
 * which is at almost every send of a broadcast. The backstop for a peer that stops reading is
 * {@link #abort()}, after a deadline, once the connection is closed.
 *
 * <pre>{@code
 * JettyCoreSend direct = JettyCoreSend.of(session);                 // null: not Jetty 12.1
 * if (direct != null) direct.send(frame.utf8(codec), error -> ...); // completes once written
 * }</pre>
 *
 * <p>Thread-safe as Jetty's frame flusher is; the caller keeps one send in flight (the completion
 * of one send is kept in a field until Jetty reports it).
 */
public final class JettyCoreSend {
    private static final System.Logger LOG = System.getLogger(JettyCoreSend.class.getName());
    private static final byte TEXT = 1;
    /** {@code (Object connection, ByteBuffer payload, Object callback) -> void}. */
    private static final MethodType SEND = MethodType.methodType(void.class, Object.class, ByteBuffer.class, Object.class);

    /**
     * Jetty's send, bound once Jetty's classes are known (at the first upgrade). Reached through a
     * constant, so that the compiler inlines it as if it were an ordinary call; a handle read from
     * a field would be invoked through a generic path on every send. Until bound it throws, and
     * nothing calls it: {@link #of} hands out no instance before binding.
     */
    private static final MutableCallSite SEND_SITE = new MutableCallSite(SEND);
    private static final MethodHandle SEND_FRAME = SEND_SITE.dynamicInvoker();

    /**
     * The handles for the last session class seen (without any where it is not Jetty's). Written by whichever
     * upgrade thread looks first; a race looks twice. Kept here, in the web application's class,
     * and not on Jetty's classes, so that a redeployed application leaves nothing of it behind.
     */
    private static volatile Handles cached;
    /** Whether a session that could not use the direct send was reported at INFO. */
    private static final AtomicBoolean FALLBACK_REPORTED = new AtomicBoolean();

    private final Handles handles;
    /** Jetty's {@code WebSocketConnection}, which frames and writes. */
    private final Object connection;
    /** One Jetty callback for all sends of this connection, reporting to {@link #pending}. */
    private final Object callback;
    /** The completion of the send in flight; set by the sender before each send, taken by Jetty's report. */
    private volatile Consumer<Throwable> pending;
    /** The core session until the connection closed, for {@link #abort}; null after, so that a deadline still pending aborts nothing. */
    private volatile Object abortable;

    private JettyCoreSend(Handles handles, Object coreSession) throws Throwable {
        this.handles = handles;
        this.connection = (Object) handles.connection.invokeExact(coreSession);
        this.abortable = coreSession;
        this.callback = (Object) handles.newCallback.invokeExact((Runnable) () -> complete(null), (Consumer<Throwable>) this::complete);
    }

    /** The direct send for {@code session}, or null where it is not a Jetty 12.1 session. */
    public static JettyCoreSend of(Object session) {
        Handles handles = cached;
        if (handles == null || handles.sessionClass != session.getClass()) {
            handles = Handles.find(session.getClass());
            cached = handles;
        }
        if (handles.coreSession == null) {
            return null;
        }
        try {
            return new JettyCoreSend(handles, handles.coreSession.invoke(session));
        } catch (Throwable e) {
            // Said once at INFO, beside the line that says the path was found: an operator checks that one.
            LOG.log(FALLBACK_REPORTED.compareAndSet(false, true) ? System.Logger.Level.INFO : System.Logger.Level.DEBUG,
                    "Jetty connection not reachable for a session, its text frames go out through sendText: " + e);
            return null;
        }
    }

    /**
     * Starts sending {@code payload} as one text frame; {@code done} gets null once it is written,
     * or the error. The buffer itself is not read, only a duplicate, so that it can be shared.
     */
    public void send(ByteBuffer payload, Consumer<Throwable> done) {
        pending = done;
        try {
            SEND_FRAME.invokeExact(connection, payload.duplicate(), callback);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    private void complete(Throwable error) {
        Consumer<Throwable> done = pending;
        pending = null;
        if (done != null) {
            done.accept(error);
        }
    }

    /** Drops the connection at once, without a close handshake, unless it already closed. */
    public void abort() {
        Object open = abortable;
        if (open != null) {
            try {
                handles.abort.invokeExact(open);
            } catch (Throwable e) {
                LOG.log(System.Logger.Level.DEBUG, "abort failed", e);
            }
        }
    }

    /**
     * The session closed. Jetty may still hold the connection: its answer to a client's close frame
     * waits behind a frame the client never reads. Then this returns true and {@link #abort} still
     * drops it, for a deadline of the caller's; otherwise nothing is left to abort, and a pending
     * deadline holds none of it.
     */
    public boolean closed() {
        Object open = abortable;
        if (open != null && endPointOpen()) {
            return true;
        }
        abortable = null;
        return false;
    }

    /** Whether Jetty's connection still holds its socket; true where that cannot be told. */
    private boolean endPointOpen() {
        try {
            return (boolean) handles.endPointOpen.invokeExact(connection);
        } catch (Throwable e) {
            LOG.log(System.Logger.Level.DEBUG, "end point state unknown", e);
            return true;
        }
    }

    /** Jetty's methods, bound for one session class. */
    private static final class Handles {
        final Class<?> sessionClass;
        /** {@code (Object session) -> Object coreSession}, null where this is not Jetty 12.1. */
        final MethodHandle coreSession;
        /** {@code (Runnable succeeded, Consumer failed) -> Object callback}. */
        final MethodHandle newCallback;
        /** {@code (Object coreSession) -> Object connection}. */
        final MethodHandle connection;
        /** {@code (Object coreSession) -> void}. */
        final MethodHandle abort;
        /** {@code (Object connection) -> boolean}: {@code getEndPoint().isOpen()}. */
        final MethodHandle endPointOpen;

        private Handles(Class<?> sessionClass, MethodHandle coreSession, MethodHandle newCallback,
                        MethodHandle connection, MethodHandle abort, MethodHandle endPointOpen) {
            this.sessionClass = sessionClass;
            this.coreSession = coreSession;
            this.newCallback = newCallback;
            this.connection = connection;
            this.abort = abort;
            this.endPointOpen = endPointOpen;
        }

        /** For a session class that is not Jetty 12.1's. */
        private static Handles none(Class<?> sessionClass) {
            return new Handles(sessionClass, null, null, null, null, null);
        }

        static Handles find(Class<?> sessionClass) {
            if (!sessionClass.getName().startsWith("org.eclipse.jetty.")) {
                return none(sessionClass);
            }
            try {
                Handles found = bind(sessionClass);
                LOG.log(System.Logger.Level.INFO, "Jetty core session found: text frames go out as UTF-8 encoded once per broadcast");
                return found;
            } catch (ReflectiveOperationException | RuntimeException e) {
                LOG.log(System.Logger.Level.INFO, "Jetty core session not usable, text frames go out through sendText: " + e);
                return none(sessionClass);
            }
        }

        private static Handles bind(Class<?> sessionClass) throws ReflectiveOperationException {
            MethodHandles.Lookup lookup = MethodHandles.publicLookup();
            Method getCoreSession = sessionClass.getMethod("getCoreSession");
            Class<?> coreSessionType = getCoreSession.getReturnType();
            ClassLoader jetty = coreSessionType.getClassLoader();
            Class<?> frame = Class.forName("org.eclipse.jetty.websocket.core.Frame", false, jetty);
            Class<?> callback = Class.forName("org.eclipse.jetty.util.Callback", false, jetty);
            Class<?> entry = Class.forName("org.eclipse.jetty.websocket.core.OutgoingEntry", false, jetty);
            Class<?> builder = Class.forName("org.eclipse.jetty.websocket.core.OutgoingEntry$Builder", false, jetty);
            Class<?> webSocketCoreSession = Class.forName("org.eclipse.jetty.websocket.core.WebSocketCoreSession", false, jetty);
            Method getConnection = webSocketCoreSession.getMethod("getConnection");
            Class<?> connectionType = getConnection.getReturnType();
            Method getEndPoint = connectionType.getMethod("getEndPoint");

            MethodHandle coreSession = lookup.unreflect(getCoreSession).asType(MethodType.methodType(Object.class, Object.class));
            MethodHandle newCallback = lookup.findStatic(callback, "from",
                    MethodType.methodType(callback, Runnable.class, Consumer.class)).asType(
                    MethodType.methodType(Object.class, Runnable.class, Consumer.class));
            MethodHandle abort = lookup.findVirtual(coreSessionType, "abort", MethodType.methodType(void.class))
                    .asType(MethodType.methodType(void.class, Object.class));
            // A core session of another class fails in of(), and that session sends through sendText.
            MethodHandle connection = lookup.unreflect(getConnection).asType(MethodType.methodType(Object.class, Object.class));
            MethodHandle endPointOpen = MethodHandles.filterReturnValue(lookup.unreflect(getEndPoint),
                            lookup.findVirtual(getEndPoint.getReturnType(), "isOpen", MethodType.methodType(boolean.class)))
                    .asType(MethodType.methodType(boolean.class, Object.class));

            // (byte, ByteBuffer) -> Frame
            MethodHandle newFrame = lookup.findConstructor(frame, MethodType.methodType(void.class, byte.class, ByteBuffer.class));
            // (Frame, Callback) -> Builder, (Builder) -> OutgoingEntry
            MethodHandle newBuilder = lookup.findConstructor(builder, MethodType.methodType(void.class, frame, callback));
            MethodHandle build = lookup.findVirtual(builder, "build", MethodType.methodType(entry));
            // (WebSocketConnection, OutgoingEntry) -> void
            MethodHandle enqueueFrame = lookup.findVirtual(connectionType, "enqueueFrame", MethodType.methodType(void.class, entry));

            // (Frame, Callback) -> OutgoingEntry
            MethodHandle entryOf = MethodHandles.filterReturnValue(newBuilder, build);
            // (ByteBuffer, Callback) -> OutgoingEntry
            entryOf = MethodHandles.collectArguments(entryOf, 0, MethodHandles.insertArguments(newFrame, 0, TEXT));
            // (WebSocketConnection, ByteBuffer, Callback) -> void
            SEND_SITE.setTarget(MethodHandles.collectArguments(enqueueFrame, 1, entryOf).asType(SEND));
            MutableCallSite.syncAll(new MutableCallSite[] {SEND_SITE});
            return new Handles(sessionClass, coreSession, newCallback, connection, abort, endPointOpen);
        }
    }
}

package dev.switchboard.transport.jetty;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * Sends a text frame whose payload is already in UTF-8 straight to Jetty 12's WebSocket core, for
 * one connection: what {@code sendText} does after encoding the string, without encoding it again
 * for every recipient of a broadcast. The JSR 356 API has no way to hand over bytes as text.
 *
 * <p>A web application does not see Jetty's classes (its class loader hides them), and the WAR must
 * deploy on any container, so Jetty's API is reached by reflection on the session's runtime class:
 * {@code JakartaWebSocketSession.getCoreSession()}, then {@code CoreSession.sendFrame(OutgoingEntry)}
 * with a {@code Frame(OpCode.TEXT, payload)} and the same message timeout as
 * {@code getAsyncRemote().setSendTimeout}. It is looked up once per session class; on any other
 * container, or a Jetty whose API differs (before 12.1), {@link #of} says none and the caller sends
 * text as before.
 *
 * <pre>{@code
 * JettyCoreSend direct = JettyCoreSend.of(session, sendTimeoutMillis);   // null: not Jetty 12.1
 * if (direct != null) direct.send(frame.utf8(codec), error -> ...);     // completes once written
 * }</pre>
 *
 * <p>Thread-safe as Jetty's core session is; the caller keeps one send in flight.
 */
public final class JettyCoreSend {
    private static final System.Logger LOG = System.getLogger(JettyCoreSend.class.getName());
    private static final byte TEXT = 1;
    private static final MethodType SEND = MethodType.methodType(void.class, Object.class, ByteBuffer.class,
            Runnable.class, Consumer.class, long.class);

    /**
     * The handles for the last session class seen, or {@link Handles#NONE}. Written by whichever
     * upgrade thread looks first; a race looks twice. Kept here, in the web application's class,
     * and not on Jetty's classes, so that a redeployed application leaves nothing of it behind.
     */
    private static volatile Handles cached;

    private final Handles handles;
    private final Object coreSession;
    private final long timeoutMillis;

    private JettyCoreSend(Handles handles, Object coreSession, long timeoutMillis) {
        this.handles = handles;
        this.coreSession = coreSession;
        this.timeoutMillis = timeoutMillis;
    }

    /**
     * The direct send for {@code session}, or null where it is not a Jetty 12.1 session.
     *
     * @param timeoutMillis how long one frame may take to be written before the send fails and
     *                      Jetty drops the connection; 0 or less for no limit
     */
    public static JettyCoreSend of(Object session, long timeoutMillis) {
        Handles handles = cached;
        if (handles == null || handles.sessionClass != session.getClass()) {
            handles = Handles.find(session.getClass());
            cached = handles;
        }
        if (handles.send == null) {
            return null;
        }
        try {
            return new JettyCoreSend(handles, handles.coreSession.invoke(session), timeoutMillis);
        } catch (Throwable e) {
            LOG.log(System.Logger.Level.DEBUG, "no core session", e);
            return null;
        }
    }

    /**
     * Starts sending {@code payload} as one text frame; {@code done} gets null once it is written,
     * or the error. The buffer itself is not read, only a duplicate, so that it can be shared.
     */
    public void send(ByteBuffer payload, Consumer<Throwable> done) {
        try {
            handles.send.invokeExact(coreSession, payload.duplicate(), (Runnable) () -> done.accept(null), done,
                    timeoutMillis);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** Jetty's methods, bound for one session class. */
    private static final class Handles {
        final Class<?> sessionClass;
        /** {@code (Object session) -> Object coreSession}. */
        final MethodHandle coreSession;
        /** {@link #SEND}: builds the frame, its callback and its entry, and sends it. */
        final MethodHandle send;

        private Handles(Class<?> sessionClass, MethodHandle coreSession, MethodHandle send) {
            this.sessionClass = sessionClass;
            this.coreSession = coreSession;
            this.send = send;
        }

        static Handles find(Class<?> sessionClass) {
            if (!sessionClass.getName().startsWith("org.eclipse.jetty.")) {
                return new Handles(sessionClass, null, null);
            }
            try {
                Handles found = bind(sessionClass);
                LOG.log(System.Logger.Level.INFO, "Jetty core session found: text frames go out as UTF-8 encoded once per broadcast");
                return found;
            } catch (ReflectiveOperationException | RuntimeException e) {
                LOG.log(System.Logger.Level.INFO, "Jetty core session not usable, text frames go out through sendText: " + e);
                return new Handles(sessionClass, null, null);
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

            MethodHandle coreSession = lookup.unreflect(getCoreSession).asType(MethodType.methodType(Object.class, Object.class));
            // (byte, ByteBuffer) -> Frame
            MethodHandle newFrame = lookup.findConstructor(frame, MethodType.methodType(void.class, byte.class, ByteBuffer.class));
            // (Runnable, Consumer) -> Callback
            MethodHandle newCallback = lookup.findStatic(callback, "from",
                    MethodType.methodType(callback, Runnable.class, Consumer.class));
            // (Frame, Callback) -> Builder, (Builder, long) -> Builder, (Builder) -> OutgoingEntry
            MethodHandle newBuilder = lookup.findConstructor(builder, MethodType.methodType(void.class, frame, callback));
            MethodHandle timeout = lookup.findVirtual(builder, "messageTimeout", MethodType.methodType(builder, long.class));
            MethodHandle build = lookup.findVirtual(builder, "build", MethodType.methodType(entry));
            // (CoreSession, OutgoingEntry) -> void
            MethodHandle sendFrame = lookup.findVirtual(coreSessionType, "sendFrame", MethodType.methodType(void.class, entry));

            // (Frame, Callback, long) -> OutgoingEntry
            MethodHandle entryOf = MethodHandles.filterReturnValue(
                    MethodHandles.collectArguments(timeout, 0, newBuilder), build);
            // (ByteBuffer, Callback, long) -> OutgoingEntry
            entryOf = MethodHandles.collectArguments(entryOf, 0, MethodHandles.insertArguments(newFrame, 0, TEXT));
            // (ByteBuffer, Runnable, Consumer, long) -> OutgoingEntry
            entryOf = MethodHandles.collectArguments(entryOf, 1, newCallback);
            // (CoreSession, ByteBuffer, Runnable, Consumer, long) -> void
            MethodHandle send = MethodHandles.collectArguments(sendFrame, 1, entryOf).asType(SEND);
            return new Handles(sessionClass, coreSession, send);
        }
    }
}

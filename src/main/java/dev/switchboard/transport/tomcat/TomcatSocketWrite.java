package dev.switchboard.transport.tomcat;

import dev.switchboard.outbound.FrameWriter;
import java.io.EOFException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.MutableCallSite;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.net.SocketTimeoutException;
import java.nio.channels.CompletionHandler;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Writes whole, already framed WebSocket frames onto a Tomcat 11 WebSocket connection through its
 * socket wrapper, as Tomcat's own asynchronous send does once it has framed a message, minus what
 * that send costs per message: the encoding of the text for every recipient, the message state
 * machine, and above all the hand-off of every completion to the connector's executor (Tomcat
 * dispatches each send's result to another thread), which cost one to two context switches per
 * delivery.
 *
 * <p>The wrapper's write takes the whole array of frames as one operation under the wrapper's write
 * semaphore, the same one Tomcat's own sends take, so Tomcat's pongs and close frame come before or
 * after ours, never inside one. Each write also holds, from before it starts until it completes,
 * the semaphore Tomcat's own sends hold for a message part ({@code messagePartInProgress}), and
 * starts only if Tomcat has not written its close frame: Tomcat sets that flag under the same
 * semaphore, so no frame of ours follows its close frame (RFC 6455, 5.5.1), which the write
 * semaphore alone allowed (a client's close frame is answered while the session still says open).
 * So a write may wait for Tomcat's own send of a pong or a close frame, which gives up after
 * Tomcat's blocking send timeout (Switchboard sets 100 ms). The write's timeout is the socket's
 * own, as Tomcat's send without a send timeout (the one Switchboard sets there) uses. The
 * completion comes on the writing thread when the socket takes every byte at once, otherwise on a
 * thread of Tomcat's connector once it has.
 *
 * <p>A write still pending when Tomcat closes the socket is never completed by Tomcat: its own
 * send fails its handler when it closes, but the wrapper drops an operation in flight without a
 * word (it happens when Tomcat's answer to a close frame, or our close, cannot get past a write
 * to a peer that stopped reading). {@link #closed} fails that write, so that its completion comes
 * once in any case; a write asked for after it fails at once, without touching the wrapper.
 *
 * <p>None of this is API: the session's remote endpoint and its socket wrapper are private fields,
 * reached by reflection on the session's runtime class (Tomcat's classes are visible to a web
 * application, but the WAR must deploy on any container). Where they are not as expected (another
 * container, another Tomcat, a connector without asynchronous IO), {@link #of} says none and frames
 * go through the JSR 356 send as before.
 *
 * <pre>{@code
 * FrameWriter writer = TomcatSocketWrite.of(session);        // null: not Tomcat's
 * if (writer != null) writer.write(new ByteBuffer[] {frame}, error -> ...);
 * }</pre>
 *
 * <p>Thread-safe: the wrapper's semaphore orders writers; the caller keeps one write in flight.
 */
public final class TomcatSocketWrite implements FrameWriter {
    private static final System.Logger LOG = System.getLogger(TomcatSocketWrite.class.getName());
    /** {@code (Object socketWrapper, Object attachment, CompletionHandler handler, ByteBuffer[] frames) -> void}. */
    private static final MethodType WRITE = MethodType.methodType(void.class, Object.class, Object.class,
            CompletionHandler.class, ByteBuffer[].class);

    /**
     * The wrapper's write, bound once Tomcat's classes are known (at the first upgrade), reached
     * through a constant so that the compiler inlines it like an ordinary call (as in
     * {@code JettyCoreSend}). Nothing calls it before then: {@link #of} hands out no instance.
     */
    private static final MutableCallSite WRITE_SITE = new MutableCallSite(WRITE);
    private static final MethodHandle WRITE_FRAMES = WRITE_SITE.dynamicInvoker();
    /** The remote endpoint's {@code closed} flag, {@code (Object remoteEndpoint) -> boolean}, bound and reached as {@link #WRITE_SITE}. */
    private static final MutableCallSite CLOSED_SITE = new MutableCallSite(MethodType.methodType(boolean.class, Object.class));
    private static final MethodHandle ENDPOINT_CLOSED = CLOSED_SITE.dynamicInvoker();

    /** Reports a write to the {@link Write} passed as its attachment: one handler for every write. */
    private static final CompletionHandler<Long, Write> REPORT = new CompletionHandler<>() {
        @Override
        public void completed(Long written, Write write) {
            write.finish(null);
        }

        @Override
        public void failed(Throwable error, Write write) {
            write.finish(error);
        }
    };

    /**
     * How long a write waits for Tomcat's own send in progress (a pong, a close frame), which gives
     * up after its blocking send timeout (Switchboard sets 100 ms); then the write fails.
     */
    private static final long MESSAGE_PART_WAIT_MILLIS = 1_000;

    /**
     * One write: its completion, called once, by Tomcat or by {@link #closed}, whichever comes
     * first, after the message-part semaphore is given back.
     */
    private static final class Write extends AtomicBoolean {
        private final TomcatSocketWrite owner;
        private final Consumer<Throwable> done;

        Write(TomcatSocketWrite owner, Consumer<Throwable> done) {
            this.owner = owner;
            this.done = done;
        }

        /** Takes the completion and gives the semaphore back; false when it was taken already. */
        boolean take() {
            if (!compareAndSet(false, true)) {
                return false;
            }
            owner.inFlight.compareAndSet(this, null);
            owner.messagePartInProgress.release();
            return true;
        }

        void finish(Throwable error) {
            if (take()) {
                done.accept(error);
            }
        }
    }

    /**
     * The handles for the last session class seen (none where it is not Tomcat's). Written by
     * whichever upgrade thread looks first; a race looks twice. Kept in the web application's
     * class, so that a redeployed application leaves nothing of it behind in Tomcat's.
     */
    private static volatile Handles cached;

    private final Object socketWrapper;
    /** The remote endpoint, whose {@code closed} flag says Tomcat has written its close frame. */
    private final Object remoteEndpoint;
    /** The remote endpoint's {@code messagePartInProgress}: held by Tomcat's sends and by each of our writes. */
    private final Semaphore messagePartInProgress;
    /** The write whose completion has not come yet, or null. */
    private final AtomicReference<Write> inFlight = new AtomicReference<>();
    private volatile boolean closed;

    private TomcatSocketWrite(Object socketWrapper, Object remoteEndpoint, Semaphore messagePartInProgress) {
        this.socketWrapper = socketWrapper;
        this.remoteEndpoint = remoteEndpoint;
        this.messagePartInProgress = messagePartInProgress;
    }

    /** The direct write for {@code session}, or null where it is not a Tomcat 11 session over asynchronous IO. */
    public static TomcatSocketWrite of(Object session) {
        Handles handles = cached;
        if (handles == null || handles.sessionClass != session.getClass()) {
            handles = Handles.find(session.getClass());
            cached = handles;
        }
        if (handles.socketWrapper == null) {
            return null;
        }
        try {
            Object endpoint = handles.remoteEndpoint.invoke(session);
            Object wrapper = endpoint == null ? null : handles.socketWrapper.invoke(endpoint);
            if (wrapper == null || !(boolean) handles.hasAsyncIO.invoke(wrapper)) {
                return null;
            }
            return new TomcatSocketWrite(wrapper, endpoint, (Semaphore) handles.messagePartInProgress.invoke(endpoint));
        } catch (Throwable e) {
            LOG.log(System.Logger.Level.DEBUG, "no socket wrapper", e);
            return null;
        }
    }

    @Override
    public void write(ByteBuffer[] frames, Consumer<Throwable> done) {
        if (closed) {
            done.accept(new EOFException("the connection is closed"));
            return;
        }
        try {
            if (!messagePartInProgress.tryAcquire(MESSAGE_PART_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
                done.accept(new SocketTimeoutException("Tomcat's own send did not end within " + MESSAGE_PART_WAIT_MILLIS + " ms"));
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            done.accept(e);
            return;
        }
        if (tomcatClosed()) {
            // Tomcat wrote its close frame: nothing may follow it.
            messagePartInProgress.release();
            done.accept(new EOFException("the connection is closing"));
            return;
        }
        Write write = new Write(this, done);
        inFlight.set(write);
        if (closed) {
            // Closed meanwhile: closed() may have looked before the set.
            write.finish(new EOFException("the connection is closed"));
            return;
        }
        try {
            WRITE_FRAMES.invokeExact(socketWrapper, (Object) write, REPORT, frames);
        } catch (RuntimeException | Error e) {
            // The caller reports what is thrown: the completion must not come as well.
            write.take();
            throw e;
        } catch (Throwable e) {
            write.take();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Whether no frame may go out any more: the connection closed, or Tomcat has written (or is
     * writing) its close frame, while its session still says open until it has told the endpoint.
     */
    public boolean closing() {
        return closed || tomcatClosed();
    }

    /** Whether Tomcat has written (or begun to write) its close frame. */
    private boolean tomcatClosed() {
        try {
            return (boolean) ENDPOINT_CLOSED.invokeExact(remoteEndpoint);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The container reports the connection closed: a write still in flight fails now, as Tomcat
     * will not complete it once it has closed the socket, and later ones fail at once.
     */
    public void closed() {
        closed = true;
        Write write = inFlight.getAndSet(null);
        if (write != null) {
            write.finish(new EOFException("the connection closed with a write in flight"));
        }
    }

    /** Tomcat's members, bound for one session class. */
    private static final class Handles {
        final Class<?> sessionClass;
        /** {@code (Object session) -> Object remoteEndpoint}, null where this is not Tomcat 11. */
        final MethodHandle remoteEndpoint;
        /** {@code (Object remoteEndpoint) -> Object socketWrapper}, the endpoint cast on the way. */
        final MethodHandle socketWrapper;
        /** {@code (Object socketWrapper) -> boolean}. */
        final MethodHandle hasAsyncIO;
        /** {@code (Object remoteEndpoint) -> Object messagePartInProgress}. */
        final MethodHandle messagePartInProgress;

        private Handles(Class<?> sessionClass, MethodHandle remoteEndpoint, MethodHandle socketWrapper,
                        MethodHandle hasAsyncIO, MethodHandle messagePartInProgress) {
            this.sessionClass = sessionClass;
            this.remoteEndpoint = remoteEndpoint;
            this.socketWrapper = socketWrapper;
            this.hasAsyncIO = hasAsyncIO;
            this.messagePartInProgress = messagePartInProgress;
            }

        private static Handles none(Class<?> sessionClass) {
            return new Handles(sessionClass, null, null, null, null);
        }

        static Handles find(Class<?> sessionClass) {
            if (!sessionClass.getName().equals("org.apache.tomcat.websocket.WsSession")) {
                return none(sessionClass);
            }
            try {
                Handles found = bind(sessionClass);
                LOG.log(System.Logger.Level.INFO, "Tomcat socket wrapper found: frames are framed once per broadcast and written to it");
                return found;
            } catch (ReflectiveOperationException | RuntimeException e) {
                LOG.log(System.Logger.Level.INFO, "Tomcat socket wrapper not usable, frames go out through sendText: " + e);
                return none(sessionClass);
            }
        }

        private static Handles bind(Class<?> sessionClass) throws ReflectiveOperationException {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            Field remoteEndpoint = sessionClass.getDeclaredField("wsRemoteEndpoint");
            remoteEndpoint.setAccessible(true);
            ClassLoader tomcat = sessionClass.getClassLoader();
            Class<?> serverEndpoint = Class.forName("org.apache.tomcat.websocket.server.WsRemoteEndpointImplServer", false, tomcat);
            Field wrapperField = serverEndpoint.getDeclaredField("socketWrapper");
            wrapperField.setAccessible(true);
            Class<?> baseEndpoint = Class.forName("org.apache.tomcat.websocket.WsRemoteEndpointImplBase", false, tomcat);
            Field partField = baseEndpoint.getDeclaredField("messagePartInProgress");
            Field closedField = baseEndpoint.getDeclaredField("closed");
            if (partField.getType() != Semaphore.class || closedField.getType() != boolean.class) {
                throw new NoSuchFieldException("messagePartInProgress or closed of another type");
            }
            partField.setAccessible(true);
            closedField.setAccessible(true);
            Class<?> wrapperType = wrapperField.getType();
            Class<?> blockingMode = Class.forName(wrapperType.getName() + "$BlockingMode", false, tomcat);
            Class<?> completionCheck = Class.forName(wrapperType.getName() + "$CompletionCheck", false, tomcat);

            // (Object session) -> Object socketWrapper, the endpoint cast on the way (a client-side
            // session's endpoint is of another class and fails the cast: no direct write there)
            MethodType objectToObject = MethodType.methodType(Object.class, Object.class);
            MethodHandle endpoint = lookup.unreflectGetter(remoteEndpoint).asType(objectToObject);
            MethodHandle socketWrapper = lookup.unreflectGetter(wrapperField).asType(objectToObject);
            MethodHandle messagePartInProgress = lookup.unreflectGetter(partField).asType(objectToObject);
            MethodHandle hasAsyncIO = lookup.findVirtual(wrapperType, "hasAsyncIO", MethodType.methodType(boolean.class))
                    .asType(MethodType.methodType(boolean.class, Object.class));

            // write(BlockingMode, long timeout, TimeUnit, A attachment, CompletionCheck, CompletionHandler, ByteBuffer...)
            Method write = wrapperType.getMethod("write", blockingMode, long.class, TimeUnit.class, Object.class,
                    completionCheck, CompletionHandler.class, ByteBuffer[].class);
            Object semiBlock = enumConstant(blockingMode, "SEMI_BLOCK");
            Object completeWithCompletion = wrapperType.getField("COMPLETE_WRITE_WITH_COMPLETION").get(null);
            // A timeout of -1: the socket's own, as Tomcat's send passes when no send timeout is set.
            MethodHandle bound = MethodHandles.insertArguments(lookup.unreflect(write).asFixedArity(), 1, semiBlock, -1L, TimeUnit.MILLISECONDS);
            // (wrapper, attachment, check, handler, frames) -> (wrapper, attachment, handler, frames)
            bound = MethodHandles.insertArguments(bound, 2, completeWithCompletion);
            WRITE_SITE.setTarget(bound.asType(WRITE));
            CLOSED_SITE.setTarget(lookup.unreflectGetter(closedField).asType(CLOSED_SITE.type()));
            MutableCallSite.syncAll(new MutableCallSite[] {WRITE_SITE, CLOSED_SITE});
            return new Handles(sessionClass, endpoint, socketWrapper, hasAsyncIO, messagePartInProgress);
        }

        private static Object enumConstant(Class<?> type, String name) {
            for (Object constant : type.getEnumConstants()) {
                if (((Enum<?>) constant).name().equals(name)) {
                    return constant;
                }
            }
            throw new IllegalStateException(type.getName() + " has no " + name);
        }
    }
}

package dev.switchboard.transport.tomcat;

import dev.switchboard.outbound.FrameWriter;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.MutableCallSite;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.channels.CompletionHandler;
import java.util.concurrent.TimeUnit;
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
 * after ours, never inside one. The timeout is the socket's own, as Tomcat's send without a send
 * timeout (the one Switchboard sets there) uses. The completion comes on the writing thread when
 * the socket takes every byte at once, otherwise on Tomcat's poller once it has.
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

    /** Reports a write to the {@code Consumer} passed as its attachment: one handler for every write. */
    private static final CompletionHandler<Long, Consumer<Throwable>> REPORT = new CompletionHandler<>() {
        @Override
        public void completed(Long written, Consumer<Throwable> done) {
            done.accept(null);
        }

        @Override
        public void failed(Throwable error, Consumer<Throwable> done) {
            done.accept(error);
        }
    };

    /**
     * The handles for the last session class seen (none where it is not Tomcat's). Written by
     * whichever upgrade thread looks first; a race looks twice. Kept in the web application's
     * class, so that a redeployed application leaves nothing of it behind in Tomcat's.
     */
    private static volatile Handles cached;

    private final Object socketWrapper;

    private TomcatSocketWrite(Object socketWrapper) {
        this.socketWrapper = socketWrapper;
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
            Object wrapper = handles.socketWrapper.invoke(session);
            return wrapper != null && (boolean) handles.hasAsyncIO.invoke(wrapper) ? new TomcatSocketWrite(wrapper) : null;
        } catch (Throwable e) {
            LOG.log(System.Logger.Level.DEBUG, "no socket wrapper", e);
            return null;
        }
    }

    @Override
    public void write(ByteBuffer[] frames, Consumer<Throwable> done) {
        try {
            WRITE_FRAMES.invokeExact(socketWrapper, (Object) done, REPORT, frames);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** Tomcat's members, bound for one session class. */
    private static final class Handles {
        final Class<?> sessionClass;
        /** {@code (Object session) -> Object socketWrapper}, null where this is not Tomcat 11. */
        final MethodHandle socketWrapper;
        /** {@code (Object socketWrapper) -> boolean}. */
        final MethodHandle hasAsyncIO;

        private Handles(Class<?> sessionClass, MethodHandle socketWrapper, MethodHandle hasAsyncIO) {
            this.sessionClass = sessionClass;
            this.socketWrapper = socketWrapper;
            this.hasAsyncIO = hasAsyncIO;
        }

        static Handles find(Class<?> sessionClass) {
            if (!sessionClass.getName().equals("org.apache.tomcat.websocket.WsSession")) {
                return new Handles(sessionClass, null, null);
            }
            try {
                Handles found = bind(sessionClass);
                LOG.log(System.Logger.Level.INFO, "Tomcat socket wrapper found: frames are framed once per broadcast and written to it");
                return found;
            } catch (ReflectiveOperationException | RuntimeException e) {
                LOG.log(System.Logger.Level.INFO, "Tomcat socket wrapper not usable, frames go out through sendText: " + e);
                return new Handles(sessionClass, null, null);
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
            Class<?> wrapperType = wrapperField.getType();
            Class<?> blockingMode = Class.forName(wrapperType.getName() + "$BlockingMode", false, tomcat);
            Class<?> completionCheck = Class.forName(wrapperType.getName() + "$CompletionCheck", false, tomcat);

            // (Object session) -> Object socketWrapper, the endpoint cast on the way (a client-side
            // session's endpoint is of another class and fails the cast: no direct write there)
            MethodType objectToObject = MethodType.methodType(Object.class, Object.class);
            MethodHandle socketWrapper = MethodHandles.filterReturnValue(
                    lookup.unreflectGetter(remoteEndpoint).asType(objectToObject),
                    lookup.unreflectGetter(wrapperField).asType(objectToObject));
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
            MutableCallSite.syncAll(new MutableCallSite[] {WRITE_SITE});
            return new Handles(sessionClass, socketWrapper, hasAsyncIO);
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

package dev.switchboard.client;

import dev.switchboard.protocol.JsonMapper;
import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.function.Supplier;

/**
 * A socket's token provider at work: every connect (the first, and each after a reconnection)
 * sends {@code auth: {token}} with a token fetched for it, and the server's {@code refresh}
 * request (docs/PROTOCOL.md, "Token refresh") is answered with a fresh one. A provider that fails
 * at connect, or hands over no token within the connect timeout at the connect the application
 * asked for, is a connect error: the socket then waits for {@link ClientSocket#connect()}. At a
 * reconnection a provider that has not answered within the connect timeout is asked again after
 * the reconnection backoff, so that a slow login service does not cost the socket its session.
 * Made by {@link ClientSocket#tokenProvider}.
 */
final class ClientTokens {
    private static final System.Logger LOG = System.getLogger(ClientTokens.class.getName());
    /** The reserved event by which the server asks for a fresh token. */
    static final String REFRESH = "refresh";

    private final ClientSocket socket;
    private final Supplier<CompletableFuture<String>> provider;
    /** The connect timeout of the ask under way, or the backoff before the next; guarded by the client's lock. */
    private ScheduledFuture<?> timer;

    ClientTokens(ClientSocket socket, Supplier<CompletableFuture<String>> provider) {
        this.socket = socket;
        this.provider = provider;
    }

    /** Answers the server's {@code refresh} request with a token from this provider. */
    void refresh(ClientEvent event) {
        if (!event.hasAck()) {
            // Replayed at recovery: the server failed that ask at the drop and waits for no answer.
            return;
        }
        // Not bounded here: the server waits for the answer until the token expires.
        fetch().whenComplete((token, failure) -> {
            if (failure == null) {
                event.ack(token);
            } else {
                LOG.log(Level.WARNING, "the token provider failed at refresh on " + socket.namespace(), failure);
                event.ack();
            }
        });
    }

    /** Fetches a token, then sends connect attempt {@code attempt} with it unless that attempt is over. */
    void connect(long attempt) {
        ask(attempt, 0);
    }

    /**
     * Asks the provider for connect attempt {@code attempt}, of which {@code timedOut} asks went
     * unanswered within the connect timeout. A token that comes late is still sent while the
     * attempt waits for one. Lock held.
     */
    private void ask(long attempt, int timedOut) {
        long millis = socket.client().options().connectTimeout().toMillis();
        // One before is for an attempt that is over, or the backoff that led here: stop() needs only this one.
        SwitchboardClient.cancel(timer);
        ScheduledFuture<?> timeout = socket.client().schedule(millis,
                () -> socket.client().locked(() -> noAnswer(attempt, timedOut, millis)));
        timer = timeout;
        fetch().whenComplete((token, failure) -> socket.client().locked(() -> {
            SwitchboardClient.cancel(timeout);
            if (!socket.stillConnecting(attempt)) {
                return;
            }
            if (failure == null) {
                socket.writeConnect(JsonMapper.toRaw(Map.of("token", token)));
            } else {
                socket.connectAborted(ConnectError.of("token provider failed: " + failure));
            }
        }));
    }

    /**
     * The provider did not answer within the connect timeout: a provider that never settles would
     * otherwise hold the connect, with the application's {@code whenConnected()}, for good. The
     * provider's own future is left to it, since it may be shared. Lock held.
     */
    private void noAnswer(long attempt, int timedOut, long millis) {
        if (!socket.stillConnecting(attempt)) {
            return;
        }
        ConnectError error = ConnectError.of("token provider did not answer within " + millis + " ms");
        ClientOptions options = socket.client().options();
        if (!socket.reconnecting() || !options.reconnection() || timedOut >= options.reconnectionAttempts()) {
            socket.connectAborted(error);
            return;
        }
        socket.connectFailed(error, false);
        timer = socket.client().schedule(socket.client().backoff(timedOut), () -> socket.client().locked(() -> {
            if (socket.stillConnecting(attempt)) {
                ask(attempt, timedOut + 1);
            }
        }));
    }

    /**
     * The client is closing, or the provider was replaced: a timer left waiting for the provider
     * would keep the client's timer thread alive for up to the connect timeout, and ask it again.
     * Lock held.
     *
     * @return whether a connect was waiting for this provider, or to ask it again
     */
    boolean stop() {
        boolean waiting = timer != null && !timer.isDone();
        SwitchboardClient.cancel(timer);
        timer = null;
        return waiting;
    }

    private CompletableFuture<String> fetch() {
        try {
            return Objects.requireNonNull(provider.get(), "the token provider returned null");
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }
}

package dev.switchboard.client;

import dev.switchboard.protocol.JsonMapper;
import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * A socket's token provider at work: every connect (the first, and each after a reconnection)
 * sends {@code auth: {token}} with a token fetched for it, and the server's {@code refresh}
 * request (docs/PROTOCOL.md, "Token refresh") is answered with a fresh one. A provider that fails
 * at connect, or hands over no token within the connect timeout, is a connect error: the socket
 * then waits for {@link ClientSocket#connect()}.
 * Made by {@link ClientSocket#tokenProvider}.
 */
final class ClientTokens {
    private static final System.Logger LOG = System.getLogger(ClientTokens.class.getName());

    private final ClientSocket socket;
    private final Supplier<CompletableFuture<String>> provider;

    ClientTokens(ClientSocket socket, Supplier<CompletableFuture<String>> provider) {
        this.socket = socket;
        this.provider = provider;
        socket.on("refresh", event -> {
            if (!event.hasAck()) {
                // Replayed at recovery: the server failed that ask at the drop and waits for no answer.
                return;
            }
            fetch().whenComplete((token, failure) -> {
                if (failure == null) {
                    event.ack(token);
                } else {
                    LOG.log(Level.WARNING, "the token provider failed at refresh on " + socket.namespace(), failure);
                    event.ack();
                }
            });
        });
    }

    /** Fetches a token, then sends connect attempt {@code attempt} with it unless that attempt is over. */
    void connect(long attempt) {
        fetch().whenComplete((token, failure) -> socket.client().locked(() -> {
            if (!socket.stillConnecting(attempt)) {
                return;
            }
            if (failure == null) {
                socket.writeConnect(JsonMapper.toRaw(Map.of("token", token)));
            } else {
                socket.connectAborted(ConnectError.of(failure instanceof TimeoutException
                        ? "token provider " + failure.getMessage() : "token provider failed: " + failure));
            }
        }));
    }

    /**
     * A token from the provider, or a {@link TimeoutException} once the connect timeout has passed
     * without one: a provider that never settles would otherwise hold the connect, with the
     * application's {@code whenConnected()}, for good. The provider's own future is left to it,
     * since it may be shared.
     */
    private CompletableFuture<String> fetch() {
        CompletableFuture<String> token;
        try {
            token = Objects.requireNonNull(provider.get(), "the token provider returned null");
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        long millis = socket.client().options().connectTimeout().toMillis();
        CompletableFuture<String> bounded = new CompletableFuture<>();
        ScheduledFuture<?> timer = socket.client().schedule(millis, () -> bounded.completeExceptionally(
                new TimeoutException("did not answer within " + millis + " ms")));
        token.whenComplete((value, failure) -> {
            SwitchboardClient.cancel(timer);
            if (failure == null) {
                bounded.complete(value);
            } else {
                bounded.completeExceptionally(failure);
            }
        });
        return bounded;
    }
}

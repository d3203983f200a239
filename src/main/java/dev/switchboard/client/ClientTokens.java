package dev.switchboard.client;

import dev.switchboard.protocol.JsonMapper;
import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * A socket's token provider at work: every connect (the first, and each after a reconnection)
 * sends {@code auth: {token}} with a token fetched for it, and the server's {@code refresh}
 * request (docs/PROTOCOL.md, "Token refresh") is answered with a fresh one. A provider that fails
 * at connect is a connect error: the socket then waits for {@link ClientSocket#connect()}.
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
                socket.connectAborted(ConnectError.of("token provider failed: " + failure));
            }
        }));
    }

    private CompletableFuture<String> fetch() {
        try {
            return provider.get();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }
}

package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.api.Handshake;
import dev.switchboard.outbound.FrameWriter;
import dev.switchboard.outbound.Transport;
import dev.switchboard.protocol.DisconnectReason;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.RawTcp;
import dev.switchboard.testing.TestServer;
import dev.switchboard.testing.VirtualTime;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A drain for a rolling restart on virtual time: who is told 1012 when, and when it gives up. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class DrainTest {
    private static final Duration MILLI = Duration.ofMillis(1);

    private final VirtualTime time = new VirtualTime();
    private final BlockingQueue<DisconnectReason> reasons = new LinkedBlockingQueue<>();
    private final List<RawClient> clients = new ArrayList<>();
    private TestServer server;

    @BeforeEach
    void start() {
        server = TestServer.start(TestServer.options().clock(time.clock()).scheduler(time).callbackExecutor(Runnable::run).build(),
                sb -> sb.onConnection(socket -> socket.onDisconnect(reasons::add)));
        for (int i = 0; i < 4; i++) {
            RawClient client = server.raw();
            client.connectNamespace("/", null);
            clients.add(client);
        }
        Await.until("4 sockets", () -> server.switchboard().root().sockets().size() == 4);
    }

    @AfterEach
    void stop() {
        clients.forEach(RawClient::close);
        server.close();
    }

    @Test
    void connectionsAreToldOneByOneAcrossTheSpreadAndNewcomersAreSentElsewhere() throws Exception {
        CompletableFuture<Boolean> drained = server.switchboard().drain(Duration.ofSeconds(4), Duration.ofSeconds(10));
        time.advance(Duration.ZERO);
        assertEquals(DisconnectReason.SERVER_RESTARTING, reasons.poll(10, TimeUnit.SECONDS));
        for (int second = 1; second < 4; second++) {
            time.advance(Duration.ofSeconds(1).minus(MILLI));
            assertEquals(null, reasons.poll(), "not a millisecond early");
            time.advance(MILLI);
            assertEquals(DisconnectReason.SERVER_RESTARTING, reasons.poll(10, TimeUnit.SECONDS));
        }
        for (RawClient client : clients) {
            assertEquals(1012, client.awaitClose());
        }
        try (RawTcp newcomer = RawTcp.open(server.port())) {
            assertTrue(newcomer.requestUpgrade(server.port(), "/switchboard", "").startsWith("HTTP/1.1 503"));
        }
        Await.until("no connection left", () -> server.switchboard().connectionCount() == 0);
        time.advance(Duration.ofMillis(20));
        assertTrue(drained.get(10, TimeUnit.SECONDS));
    }

    @Test
    void atTheDeadlineTheDrainGivesUpOnConnectionsStillOpen() throws Exception {
        CompletableFuture<Boolean> drained = server.switchboard().drain(Duration.ofSeconds(40), Duration.ofSeconds(15));
        time.advance(Duration.ofSeconds(15).minus(MILLI));
        assertFalse(drained.isDone());
        time.advance(MILLI);
        assertFalse(drained.get(10, TimeUnit.SECONDS), "2 of 4 connections were still open");
        // The two told so far leave once their closes complete; the other two are still served.
        Await.until("the two told gone", () -> server.switchboard().connectionCount() == 2);
    }

    @Test
    void aConnectionOpeningAsTheDrainBeginsIsToldToRestartToo() {
        Switchboard sb = server.switchboard();
        List<Integer> closeCodes = new CopyOnWriteArrayList<>();
        Transport opening = new Transport() {
            @Override
            public FrameWriter frameWriter() {
                // Asked while the connection is made: after the server checked that it accepts
                // connections, before this one joined the list the drain reads.
                sb.drain(Duration.ZERO, Duration.ofSeconds(10));
                return null;
            }

            @Override
            public void send(String text, Consumer<Throwable> done) {
                done.accept(null);
            }

            @Override
            public void close(int code, String reason) {
                closeCodes.add(code);
            }
        };
        Handshake handshake = new Handshake(URI.create("/switchboard"), Map.of(), Map.of(), "127.0.0.1", Instant.now(), null);
        sb.open(opening, handshake);
        assertEquals(List.of(DisconnectReason.SERVER_RESTARTING.closeCode()), closeCodes,
                "told to reconnect elsewhere like the connections the drain listed");
    }
}

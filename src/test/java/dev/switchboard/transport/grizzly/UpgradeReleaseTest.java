package dev.switchboard.transport.grizzly;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.switchboard.testing.Await;
import dev.switchboard.testing.RawTcp;
import dev.switchboard.testing.TestServer;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Once a connection has upgraded, the standalone server lets go of the upgrade's HTTP request and
 * hands the connection's bytes past Grizzly's HTTP codec straight to the WebSocket layer
 * ({@code UpgradeRelease}). Read here through raw sockets: frames in pieces or several to a write
 * still arrive, and bytes that look like a second HTTP request are frames, not a request.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class UpgradeReleaseTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private TestServer server;

    @BeforeEach
    void start() {
        server = TestServer.start(switchboard -> switchboard.onConnection(
                socket -> socket.on("echo", event -> event.ack(event.args().list().toArray()))));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private RawTcp upgraded() throws IOException {
        RawTcp tcp = RawTcp.upgrade(server.port(), "/switchboard");
        assertEquals("hello", packet(tcp.nextFrame(WAIT)).getString("type"));
        return tcp;
    }

    private static JsonObject packet(RawTcp.Frame frame) {
        assertEquals(RawTcp.Frame.TEXT, frame.opcode());
        return Json.createReader(new StringReader(frame.text())).readObject();
    }

    private static byte[] text(String json) {
        return RawTcp.frame(0x81, json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void framesInPiecesAndSeveralToAWriteArriveAfterTheUpgrade() throws IOException {
        try (RawTcp tcp = upgraded()) {
            for (byte b : text("{\"type\":\"connect\"}")) {
                tcp.write(new byte[] {b});
            }
            assertEquals("connect", packet(tcp.nextFrame(WAIT)).getString("type"));
            ByteArrayOutputStream two = new ByteArrayOutputStream();
            two.writeBytes(text("{\"type\":\"event\",\"event\":\"echo\",\"args\":[\"first\"],\"ack\":1}"));
            two.writeBytes(text("{\"type\":\"event\",\"event\":\"echo\",\"args\":[\"second\"],\"ack\":2}"));
            tcp.write(two.toByteArray());
            JsonObject first = packet(tcp.nextFrame(WAIT));
            JsonObject second = packet(tcp.nextFrame(WAIT));
            assertEquals("first", first.getJsonArray("args").getString(0), first.toString());
            assertEquals("second", second.getJsonArray("args").getString(0), second.toString());
        }
    }

    /**
     * The WebSocket layer keeps what a read leaves of a frame and adds the next read to it, within
     * a bound sized for one message: a read behind a large partial frame must not overflow it
     * (it did, closing with 1011, when a read was bigger than the room left above one message).
     */
    @Test
    void aLargeFrameArrivingBehindAnotherPartialOneIsRead() throws Exception {
        int limit = 64 * 1024;
        try (TestServer small = TestServer.start(TestServer.options().maxPayloadBytes(limit).build(),
                switchboard -> switchboard.onConnection(socket -> socket.on("echo", event -> event.ack(event.args().list().toArray()))));
             RawTcp tcp = RawTcp.upgrade(small.port(), "/switchboard")) {
            assertEquals("hello", packet(tcp.nextFrame(WAIT)).getString("type"));
            tcp.write(text("{\"type\":\"connect\"}"));
            assertEquals("connect", packet(tcp.nextFrame(WAIT)).getString("type"));
            String big = "y".repeat(limit - 1024);
            byte[] first = text("{\"type\":\"event\",\"event\":\"echo\",\"args\":[\"" + big + "\"],\"ack\":1}");
            byte[] second = text("{\"type\":\"event\",\"event\":\"echo\",\"args\":[\"" + big + "\"],\"ack\":2}");
            int half = first.length / 2;
            tcp.write(java.util.Arrays.copyOfRange(first, 0, half));
            // Give the server the time to read the first half alone, so that it waits for the rest.
            Thread.sleep(200);
            ByteArrayOutputStream rest = new ByteArrayOutputStream();
            rest.write(first, half, first.length - half);
            rest.writeBytes(second);
            tcp.write(rest.toByteArray());
            for (int ack = 1; ack <= 2; ack++) {
                JsonObject answer = packet(tcp.nextFrame(WAIT));
                assertEquals(ack, answer.getInt("ack"), answer.toString().substring(0, 80));
                assertEquals(big, answer.getJsonArray("args").getString(0));
            }
        }
    }

    /**
     * A client must wait for the 101 before it sends frames (RFC 6455, 4.1). One that sends them in
     * the same write as its request, ending that write inside a frame, has them read with the
     * request, and the WebSocket layer, which then reads the rest out of step, ends the connection
     * with a protocol error, as it did before frames were unmasked ahead of it.
     */
    @Test
    void framesSentBeforeThe101EndTheConnectionWithAProtocolError() throws IOException {
        try (RawTcp tcp = RawTcp.open(server.port())) {
            byte[] early = text("{\"type\":\"event\",\"event\":\"echo\",\"args\":[\"early\"],\"ack\":1}");
            ByteArrayOutputStream first = new ByteArrayOutputStream();
            first.writeBytes(RawTcp.upgradeRequest(server.port(), "/switchboard", ""));
            first.writeBytes(text("{\"type\":\"connect\"}"));
            first.write(early, 0, 9);
            tcp.write(first.toByteArray());
            assertEquals(true, tcp.readHead().startsWith("HTTP/1.1 101"));
            assertEquals("hello", packet(tcp.nextFrame(WAIT)).getString("type"));
            tcp.write(java.util.Arrays.copyOfRange(early, 9, early.length));
            assertEquals(1002, tcp.readCloseCode());
        }
    }

    @Test
    void anUnmaskedFrameEndsTheConnectionWith1002AfterWhatCameBeforeIt() throws IOException {
        try (RawTcp other = upgraded(); RawTcp tcp = upgraded()) {
            for (RawTcp client : new RawTcp[] {other, tcp}) {
                client.write(text("{\"type\":\"connect\"}"));
                assertEquals("connect", packet(client.nextFrame(WAIT)).getString("type"));
            }
            ByteArrayOutputStream write = new ByteArrayOutputStream();
            write.writeBytes(text("{\"type\":\"event\",\"event\":\"echo\",\"args\":[\"before\"],\"ack\":1}"));
            byte[] unmasked = "{\"type\":\"event\",\"event\":\"echo\",\"args\":[\"unmasked\"],\"ack\":2}"
                    .getBytes(StandardCharsets.UTF_8);
            write.writeBytes(RawTcp.frame(0x81, unmasked, false, unmasked.length));
            tcp.write(write.toByteArray());
            assertEquals("before", packet(tcp.nextFrame(WAIT)).getJsonArray("args").getString(0));
            assertEquals(1002, tcp.readCloseCode());
            Await.until("the server let the connection go", () -> server.switchboard().connectionCount() == 1);
            other.write(text("{\"type\":\"event\",\"event\":\"echo\",\"args\":[\"still served\"],\"ack\":1}"));
            assertEquals("still served", packet(other.nextFrame(WAIT)).getJsonArray("args").getString(0));
        }
    }

    @Test
    void anHttpRequestAfterTheUpgradeIsABadFrameNotASecondRequest() throws IOException {
        try (RawTcp tcp = upgraded()) {
            // "GE" reads as the head of an unmasked 69-byte frame with a reserved bit set, which the
            // rest of the request completes: a protocol error, answered with 1002.
            tcp.write(("GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:" + server.port() + "\r\nUser-Agent: "
                    + "x".repeat(100) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            assertEquals(1002, tcp.readCloseCode());
        }
    }
}

package dev.switchboard.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.RawTcp;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What any container must do with frames and handshakes no well-behaved client sends. Each
 * container's test extends this with its own running server; the cases stay one list.
 */
public abstract class WebSocketLayerContract {
    private static final byte[] CONNECT = "{\"type\":\"connect\"}".getBytes(StandardCharsets.UTF_8);

    /** The port of the running server under test. */
    protected abstract int port();

    /** The endpoint path, e.g. {@code /switchboard} or {@code /myapp/switchboard}. */
    protected abstract String path();

    /**
     * Answers a container may give when a client declares a frame far over the limit and sends
     * nothing more: 1009 at once, or, for a container that waits for the bytes without allocating
     * them, {@link RawTcp#STILL_OPEN} until the heartbeat ends the connection.
     */
    protected Set<Integer> hugeDeclaredLengthCodes() {
        return Set.of(1009);
    }

    /**
     * Answers to thousands of empty fragments: 1009 from our part count, or
     * {@link RawTcp#STILL_OPEN} for a container that drops empty fragments before the application.
     */
    protected Set<Integer> emptyFragmentFloodCodes() {
        return Set.of(1009);
    }

    /**
     * Answers to a client frame without a mask, which RFC 6455 says to close with 1002. Tyrus
     * accepts it ({@link RawTcp#STILL_OPEN}: the connection goes on), a deviation we record.
     */
    protected Set<Integer> unmaskedFrameCodes() {
        return Set.of(1002);
    }

    /** The deployment's name in the figures these tests print. */
    protected String deployment() {
        return getClass().getSimpleName();
    }

    private int observed(String what, int code) {
        System.out.println("figure: " + deployment() + ": " + what + " -> "
                + (code == RawTcp.STILL_OPEN ? "still open after 3 s" : "close " + code));
        return code;
    }

    private int closeCodeAfter(byte[]... frames) throws IOException {
        try (RawTcp tcp = RawTcp.upgrade(port(), path())) {
            for (byte[] frame : frames) {
                tcp.write(frame);
            }
            return tcp.readCloseCode(Duration.ofSeconds(3));
        }
    }

    private String statusOf(String extraHeaders, String version) throws IOException {
        try (RawTcp tcp = RawTcp.open(port())) {
            tcp.write(("GET " + path() + " HTTP/1.1\r\nHost: 127.0.0.1:" + port() + "\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Version: " + version + "\r\n" + extraHeaders + "\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            String head = tcp.readHead();
            return head.isEmpty() ? "closed" : head.substring(9, 12);
        }
    }

    private static final String KEY = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

    @Test
    void reservedBitsAreAProtocolError() throws IOException {
        assertEquals(1002, closeCodeAfter(RawTcp.frame(0xC1, CONNECT)));
    }

    @Test
    void reservedOpcodesAreAProtocolError() throws IOException {
        assertEquals(1002, closeCodeAfter(RawTcp.frame(0x83, CONNECT)));
        assertEquals(1002, closeCodeAfter(RawTcp.frame(0x8B, new byte[0])));
    }

    @Test
    void fragmentedOrOversizedControlFramesAreAProtocolError() throws IOException {
        assertEquals(1002, closeCodeAfter(RawTcp.frame(0x09, new byte[0])));
        assertEquals(1002, closeCodeAfter(RawTcp.frame(0x89, new byte[126])));
    }

    @Test
    void continuationWithoutAStartIsAProtocolError() throws IOException {
        assertEquals(1002, closeCodeAfter(RawTcp.frame(0x80, "{}".getBytes(StandardCharsets.UTF_8))));
    }

    @Test
    void invalidUtf8IsRefusedWith1007() throws IOException {
        assertEquals(1007, closeCodeAfter(RawTcp.frame(0x81, new byte[] {(byte) 0xC3, 0x28})));
    }

    @Test
    void invalidCloseCodesAreAProtocolError() throws IOException {
        assertEquals(1002, closeCodeAfter(RawTcp.frame(0x88, new byte[] {0x03, (byte) 0xE7})));
        assertEquals(1002, closeCodeAfter(RawTcp.frame(0x88, new byte[] {0x03, (byte) 0xED})));
    }

    @Test
    void hugeDeclaredLengthIsRefusedWithoutWaitingForIt() throws IOException {
        int code = observed("declared length 2^62", closeCodeAfter(RawTcp.frame(0x81, new byte[0], true, 1L << 62)));
        assertTrue(hugeDeclaredLengthCodes().contains(code), "answered " + code);
        wellFormedConnectStillWorks();
    }

    @Test
    void floodOfEmptyFragmentsIsCutOff() throws IOException {
        byte[][] frames = new byte[5001][];
        frames[0] = RawTcp.frame(0x01, new byte[0]);
        for (int i = 1; i < frames.length; i++) {
            frames[i] = RawTcp.frame(0x00, new byte[0]);
        }
        int code = observed("5000 empty fragments", closeCodeAfter(frames));
        assertTrue(emptyFragmentFloodCodes().contains(code), "answered " + code);
    }

    @Test
    void unmaskedClientFramesAreAProtocolError() throws IOException {
        int code = observed("unmasked client frame", closeCodeAfter(RawTcp.frame(0x81, CONNECT, false, CONNECT.length)));
        assertTrue(unmaskedFrameCodes().contains(code), "answered " + code);
    }

    @Test
    void handshakeWithoutKeyOrWithAnotherVersionIsRefused() throws IOException {
        assertEquals("400", statusOf("", "13"));
        assertEquals("426", statusOf(KEY, "8"));
    }

    @Test
    void foreignOriginIsRefusedWith403() throws IOException {
        assertEquals("403", statusOf(KEY + "Origin: http://evil.example\r\n", "13"));
    }

    @Test
    void oversizedHandshakesAreRefused() throws IOException {
        StringBuilder headers = new StringBuilder(KEY);
        for (int i = 0; i < 5000; i++) {
            headers.append("X-H").append(i).append(": v\r\n");
        }
        Map<String, String> cases = Map.of(
                "5000 headers", headers.toString(),
                "a 100 KB header line", KEY + "X-Big: " + "a".repeat(100_000) + "\r\n",
                "20 000 subprotocols", KEY + "Sec-WebSocket-Protocol: " + "p,".repeat(20_000) + "p\r\n");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            String status = statusOf(c.getValue(), "13");
            System.out.println("figure: " + deployment() + ": " + c.getKey() + " -> " + status);
            assertTrue(Set.of("400", "413", "431", "closed").contains(status), c.getKey() + " answered " + status);
        }
    }

    /** The well-formed path still works after all that. */
    @Test
    void wellFormedConnectStillWorks() throws IOException {
        try (RawTcp tcp = RawTcp.upgrade(port(), path())) {
            tcp.write(RawTcp.frame(0x81, CONNECT));
            tcp.write(RawTcp.frame(0x88, new byte[] {0x03, (byte) 0xE8}));
            assertEquals(1000, tcp.readCloseCode());
        }
    }
}

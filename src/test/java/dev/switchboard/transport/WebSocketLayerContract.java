package dev.switchboard.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.RawTcp;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What any container must do with frames and handshakes no well-behaved client sends. Each
 * container's test extends this with its own running server; the cases stay one list. Where
 * containers differ, the deployment says what its container answers, exactly, and the figures
 * printed here are what docs/RELIABILITY.md records.
 *
 * <p>The server under test runs with a short heartbeat, so that a connection a container holds
 * open is closed by it (4000) within the generous wait, rather than after 45 s.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
public abstract class WebSocketLayerContract {
    /** What {@link RawTcp#answer} reports when the heartbeat's ping timeout closes the connection. */
    public static final String CLOSED_BY_HEARTBEAT = "close 4000";
    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final byte[] CONNECT = "{\"type\":\"connect\"}".getBytes(StandardCharsets.UTF_8);
    private static final String KEY = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    private static final String UPGRADE = "Upgrade: websocket\r\nConnection: Upgrade\r\n";

    /** The port of the running server under test. */
    protected abstract int port();

    /** The endpoint path, e.g. {@code /switchboard} or {@code /myapp/switchboard}. */
    protected abstract String path();

    /**
     * What a container answers where containers differ, each as {@link RawTcp#answer} reports it.
     *
     * @param hugeDeclaredLength a frame that declares 2^62 bytes and sends none: 1009 at once, or,
     *                           from a container that waits for the bytes without allocating them,
     *                           {@link #CLOSED_BY_HEARTBEAT}
     * @param unmaskedFrame      a client frame without a mask, which RFC 6455 says to close with
     *                           1002; a container that processes it anyway answers the connect it
     *                           carries ({@code "connect"})
     * @param oversizedHandshake the HTTP status for 5000 headers, a 100 KB header line or 20 000
     *                           subprotocols
     * @param unescapedQuery     the HTTP statuses for an upgrade whose query holds what browsers
     *                           leave unescaped: {@code [ ]}, then {@code { } | ^} and the backtick;
     *                           101 where the container can upgrade it, else 400
     */
    public record Answers(String hugeDeclaredLength, String unmaskedFrame, String oversizedHandshake,
            List<String> unescapedQuery) {
    }

    /** What this deployment's container answers. */
    protected abstract Answers answers();

    /** The deployment's name in the figures these tests print. */
    protected String deployment() {
        return getClass().getSimpleName();
    }

    private String observed(String what, String answer) {
        System.out.println("figure: " + deployment() + ": " + what + " -> " + answer);
        return answer;
    }

    private String answerTo(byte[]... frames) throws IOException {
        try (RawTcp tcp = RawTcp.upgrade(port(), path())) {
            for (byte[] frame : frames) {
                tcp.write(frame);
            }
            return tcp.answer(WAIT);
        }
    }

    /** The status line's code of the answer to a GET of the endpoint with these header lines. */
    private String statusOf(String headers) throws IOException {
        try (RawTcp tcp = RawTcp.open(port())) {
            tcp.write(("GET " + path() + " HTTP/1.1\r\nHost: 127.0.0.1:" + port() + "\r\n" + headers + "\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            String head = tcp.readHead();
            return head.isEmpty() ? "closed" : head.substring(9, 12);
        }
    }

    private static String version(String version) {
        return "Sec-WebSocket-Version: " + version + "\r\n";
    }

    @Test
    void reservedBitsAreAProtocolError() throws IOException {
        assertEquals("close 1002", answerTo(RawTcp.frame(0xC1, CONNECT)));
    }

    @Test
    void reservedOpcodesAreAProtocolError() throws IOException {
        assertEquals("close 1002", answerTo(RawTcp.frame(0x83, CONNECT)));
        assertEquals("close 1002", answerTo(RawTcp.frame(0x8B, new byte[0])));
    }

    @Test
    void fragmentedOrOversizedControlFramesAreAProtocolError() throws IOException {
        assertEquals("close 1002", answerTo(RawTcp.frame(0x09, new byte[0])));
        assertEquals("close 1002", answerTo(RawTcp.frame(0x89, new byte[126])));
    }

    @Test
    void continuationWithoutAStartIsAProtocolError() throws IOException {
        assertEquals("close 1002", answerTo(RawTcp.frame(0x80, "{}".getBytes(StandardCharsets.UTF_8))));
    }

    @Test
    void invalidUtf8IsRefusedWith1007() throws IOException {
        assertEquals("close 1007", answerTo(RawTcp.frame(0x81, new byte[] {(byte) 0xC3, 0x28})));
    }

    @Test
    void invalidCloseCodesAreAProtocolError() throws IOException {
        assertEquals("close 1002", answerTo(RawTcp.frame(0x88, new byte[] {0x03, (byte) 0xE7})));
        assertEquals("close 1002", answerTo(RawTcp.frame(0x88, new byte[] {0x03, (byte) 0xED})));
    }

    @Test
    void hugeDeclaredLengthIsRefusedWithoutWaitingForIt() throws IOException {
        assertEquals(answers().hugeDeclaredLength(),
                observed("declared length 2^62", answerTo(RawTcp.frame(0x81, new byte[0], true, 1L << 62))));
        wellFormedConnectStillWorks();
    }

    @Test
    void floodOfEmptyFragmentsIsCutOff() throws IOException {
        byte[][] frames = new byte[5001][];
        frames[0] = RawTcp.frame(0x01, new byte[0]);
        for (int i = 1; i < frames.length; i++) {
            frames[i] = RawTcp.frame(0x00, new byte[0]);
        }
        // Our part count stops it (4096 parts per message), in every container.
        assertEquals("close 1009", observed("5000 empty fragments", answerTo(frames)));
    }

    @Test
    void unmaskedClientFramesAreAProtocolError() throws IOException {
        assertEquals(answers().unmaskedFrame(),
                observed("unmasked client frame", answerTo(RawTcp.frame(0x81, CONNECT, false, CONNECT.length))));
    }

    @Test
    void handshakeWithoutKeyOrWithAnotherVersionIsRefused() throws IOException {
        assertEquals("400", statusOf(UPGRADE + version("13")));
        // RFC 6455 (4.2.1): the key is 16 bytes in base64.
        assertEquals("400", observed("an empty key", statusOf(UPGRADE + "Sec-WebSocket-Key: \r\n" + version("13"))));
        assertEquals("400", observed("an 8-byte key", statusOf(UPGRADE + "Sec-WebSocket-Key: c2hvcnRrZXk=\r\n" + version("13"))));
        assertEquals("426", statusOf(UPGRADE + KEY + version("8")));
    }

    @Test
    void requestWithoutUpgradeHeadersIsRefused() throws IOException {
        assertEquals("426", observed("no Upgrade, no Connection header", statusOf(KEY + version("13"))));
        assertEquals("400", observed("Upgrade without Connection: Upgrade",
                statusOf("Upgrade: websocket\r\n" + KEY + version("13"))));
    }

    @Test
    void foreignOriginIsRefusedWith403() throws IOException {
        assertEquals("403", statusOf(UPGRADE + KEY + version("13") + "Origin: http://evil.example\r\n"));
    }

    @Test
    void oversizedHandshakesAreRefused() throws IOException {
        StringBuilder headers = new StringBuilder(UPGRADE + KEY + version("13"));
        for (int i = 0; i < 5000; i++) {
            headers.append("X-H").append(i).append(": v\r\n");
        }
        Map<String, String> cases = Map.of(
                "5000 headers", headers.toString(),
                "a 100 KB header line", UPGRADE + KEY + version("13") + "X-Big: " + "a".repeat(100_000) + "\r\n",
                "20 000 subprotocols", UPGRADE + KEY + version("13") + "Sec-WebSocket-Protocol: " + "p,".repeat(20_000) + "p\r\n");
        // How long the refusal takes, against a well-formed upgrade: a parser that is not linear
        // in the request's size would show here (printed, not asserted: timing is the benchmark's).
        long plain = fastestOf3(() -> statusOf(UPGRADE + KEY + version("13")));
        for (Map.Entry<String, String> c : cases.entrySet()) {
            assertEquals(answers().oversizedHandshake(), observed(c.getKey(), statusOf(c.getValue())), c.getKey());
            long refusal = fastestOf3(() -> statusOf(c.getValue()));
            System.out.printf(Locale.ROOT, "figure: %s: %s (%d KB) refused in %.1f ms; a well-formed upgrade takes %.1f ms%n",
                    deployment(), c.getKey(), c.getValue().length() / 1000, refusal / 1e6, plain / 1e6);
        }
    }

    private interface Request {
        String send() throws IOException;
    }

    private static long fastestOf3(Request request) throws IOException {
        long fastest = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            long start = System.nanoTime();
            request.send();
            fastest = Math.min(fastest, System.nanoTime() - start);
        }
        return fastest;
    }

    /**
     * Whole messages and one in fragments with a ping between them, in one write: each answered
     * once, in the order sent, its text intact (the standalone server reads whole text frames past
     * the WebSocket layer and leaves it the rest). A message right behind the client's close frame
     * is not answered.
     */
    @Test
    void wholeAndFragmentedMessagesAreAnsweredInTheOrderSent() throws IOException {
        String[] texts = {"one", "two in three parts", "drei, ä€😀", "four"};
        ByteArrayOutputStream frames = new ByteArrayOutputStream();
        frames.writeBytes(RawTcp.frame(0x81, "{\"type\":\"connect\",\"nsp\":\"/echo\"}".getBytes(StandardCharsets.UTF_8)));
        for (int i = 0; i < texts.length; i++) {
            byte[] event = echo(texts[i], i + 1);
            if (i == 1) {
                int third = event.length / 3;
                frames.writeBytes(RawTcp.frame(0x01, Arrays.copyOfRange(event, 0, third)));
                frames.writeBytes(RawTcp.frame(0x89, "between".getBytes(StandardCharsets.UTF_8)));
                frames.writeBytes(RawTcp.frame(0x00, Arrays.copyOfRange(event, third, 2 * third)));
                frames.writeBytes(RawTcp.frame(0x80, Arrays.copyOfRange(event, 2 * third, event.length)));
            } else {
                frames.writeBytes(RawTcp.frame(0x81, event));
            }
        }
        try (RawTcp tcp = RawTcp.upgrade(port(), path())) {
            tcp.write(frames.toByteArray());
            for (int i = 0; i < texts.length; i++) {
                String ack = nextAck(tcp);
                assertEquals("{\"type\":\"ack\",\"nsp\":\"/echo\",\"args\":[\"" + texts[i] + "\"],\"ack\":" + (i + 1) + "}", ack);
            }
            ByteArrayOutputStream closing = new ByteArrayOutputStream();
            closing.writeBytes(RawTcp.frame(0x88, new byte[] {0x03, (byte) 0xE8}));
            closing.writeBytes(RawTcp.frame(0x81, echo("after the close", 9)));
            tcp.write(closing.toByteArray());
            assertEquals("close 1000", nextAck(tcp), "what follows the close");
        }
    }

    private static byte[] echo(String text, int ack) {
        return ("{\"type\":\"event\",\"nsp\":\"/echo\",\"event\":\"echo\",\"args\":[\"" + text + "\"],\"ack\":" + ack + "}")
                .getBytes(StandardCharsets.UTF_8);
    }

    /** The next ack's text, or {@code "close <code>"} when the server closes first. */
    private static String nextAck(RawTcp tcp) throws IOException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            RawTcp.Frame frame = tcp.nextFrame(Duration.ofNanos(deadline - System.nanoTime()));
            if (frame.opcode() == RawTcp.Frame.CLOSE) {
                return "close " + frame.closeCode();
            }
            if (frame.opcode() == RawTcp.Frame.TEXT && frame.text().contains("\"type\":\"ack\"")) {
                return frame.text();
            }
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

package dev.switchboard.testing;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** A WebSocket peer at the byte level, for frames no well-behaved client would send. */
public final class RawTcp implements AutoCloseable {
    private final Socket socket;

    private RawTcp(Socket socket) {
        this.socket = socket;
    }

    /** Sends an HTTP request as written and returns the connection. */
    public static RawTcp open(int port) throws IOException {
        Socket socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        return new RawTcp(socket);
    }

    /** Opens a connection from a given local address, e.g. {@code "127.0.0.7"}: another client as far as the server can tell. */
    public static RawTcp open(int port, String localAddress) throws IOException {
        Socket socket = new Socket(java.net.InetAddress.getLoopbackAddress(), port, java.net.InetAddress.getByName(localAddress), 0);
        socket.setSoTimeout(10_000);
        return new RawTcp(socket);
    }

    /**
     * Upgrades with these extra headers, opens the default namespace and returns the first
     * argument of the first event of that name the server sends; or the status line when the
     * upgrade is refused, or {@code "close <code>"} when the server closes first.
     */
    public String firstArgumentOf(String event, int port, String extraHeaders) throws IOException {
        String head = requestUpgrade(port, "/switchboard", extraHeaders);
        if (!head.startsWith("HTTP/1.1 101")) {
            return head.substring(0, head.indexOf('\r'));
        }
        write(frame(0x81, "{\"type\":\"connect\"}".getBytes(StandardCharsets.UTF_8)));
        while (true) {
            Frame frame = nextFrame(Duration.ofSeconds(10));
            if (frame.opcode() == Frame.CLOSE) {
                return "close " + frame.closeCode();
            }
            JsonObject packet = Json.createReader(new StringReader(frame.text())).readObject();
            if (event.equals(packet.getString("event", null))) {
                return packet.getJsonArray("args").getString(0);
            }
        }
    }

    /** Opens a connection and completes a WebSocket upgrade; returns once the 101 is read. */
    public static RawTcp upgrade(int port, String path) throws IOException {
        RawTcp tcp = open(port);
        String head = tcp.requestUpgrade(port, path, "");
        if (!head.startsWith("HTTP/1.1 101")) {
            throw new IOException("upgrade refused: " + head);
        }
        return tcp;
    }

    /** Sends an upgrade request with extra header lines (each ending in CRLF); returns the response head. */
    public String requestUpgrade(int port, String path, String extraHeaders) throws IOException {
        write(upgradeRequest(port, path, extraHeaders));
        return readHead();
    }

    /** A WebSocket upgrade request's bytes, with extra header lines (each ending in CRLF), for a client that sends it itself. */
    public static byte[] upgradeRequest(int port, String path, String extraHeaders) {
        return ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                + extraHeaders + "\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    public void write(byte[] bytes) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(bytes);
        out.flush();
    }

    /** Reads an HTTP response head (up to the blank line). */
    public String readHead() throws IOException {
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
            matched = (b == '\r' || b == '\n') && (matched % 2 == 0) == (b == '\r') ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    /** Reads until the server closes the TCP connection; returns every byte received. */
    public byte[] readToEnd() throws IOException {
        return socket.getInputStream().readAllBytes();
    }

    /** A client frame: first byte (FIN, RSV, opcode), payload, masked or not, with a declared length. */
    public static byte[] frame(int firstByte, byte[] payload, boolean masked, long declaredLength) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(firstByte);
        int maskBit = masked ? 0x80 : 0;
        if (declaredLength < 126) {
            out.write(maskBit | (int) declaredLength);
        } else if (declaredLength < 65536) {
            out.write(maskBit | 126);
            out.write((int) (declaredLength >> 8));
            out.write((int) declaredLength);
        } else {
            out.write(maskBit | 127);
            for (int shift = 56; shift >= 0; shift -= 8) {
                out.write((int) (declaredLength >> shift));
            }
        }
        byte[] mask = {0x11, 0x22, 0x33, 0x44};
        if (masked) {
            out.writeBytes(mask);
        }
        for (int i = 0; i < payload.length; i++) {
            out.write(masked ? payload[i] ^ mask[i % 4] : payload[i]);
        }
        return out.toByteArray();
    }

    /** A well-formed masked frame. */
    public static byte[] frame(int firstByte, byte[] payload) {
        return frame(firstByte, payload, true, payload.length);
    }

    /** What {@link #readCloseCode(Duration)} answers when the server kept the connection open. */
    public static final int STILL_OPEN = -2;

    /**
     * A frame from the server, which never masks.
     *
     * @param whole the FIN bit set and no RSV bit: a message in one frame, without extensions
     */
    public record Frame(int opcode, byte[] payload, boolean whole) {
        public static final int TEXT = 0x1;
        public static final int CLOSE = 0x8;
        public static final int PING = 0x9;
        public static final int PONG = 0xA;

        public String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        /** The code of a close frame; 1005 when it carries none. */
        public int closeCode() {
            return payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : 1005;
        }
    }

    /**
     * The next frame, waiting at most {@code wait}.
     *
     * @throws java.net.SocketTimeoutException when none came in time
     * @throws java.io.EOFException when the server closed the connection
     * @throws IOException when the server masked the frame, which RFC 6455 forbids
     */
    public Frame nextFrame(Duration wait) throws IOException {
        socket.setSoTimeout((int) Math.max(1, wait.toMillis()));
        DataInputStream in = new DataInputStream(socket.getInputStream());
        int first = in.readUnsignedByte();
        int second = in.readUnsignedByte();
        if ((second & 0x80) != 0) {
            throw new IOException("a masked frame from the server");
        }
        long length = second & 0x7f;
        if (length == 126) {
            length = in.readUnsignedShort();
        } else if (length == 127) {
            length = in.readLong();
        }
        byte[] payload = new byte[Math.toIntExact(length)];
        in.readFully(payload);
        return new Frame(first & 0x0f, payload, (first & 0xf0) == 0x80);
    }

    /**
     * How the server answers within {@code wait}, hello and pings aside: {@code "connect"} when it
     * accepts a namespace connect, {@code "close <code>"} when it closes, {@code "dropped"} when the
     * connection ends without a close frame, {@code "still open"} when nothing came.
     */
    public String answer(Duration wait) throws IOException {
        long deadline = System.nanoTime() + wait.toNanos();
        try {
            while (true) {
                Frame frame = nextFrame(Duration.ofNanos(deadline - System.nanoTime()));
                if (frame.opcode() == Frame.CLOSE) {
                    return "close " + frame.closeCode();
                }
                if (frame.opcode() == Frame.TEXT && frame.text().startsWith("{\"type\":\"connect\"")) {
                    return "connect";
                }
            }
        } catch (SocketTimeoutException e) {
            return "still open";
        } catch (EOFException | SocketException e) {
            return "dropped";
        }
    }

    /**
     * Reads what the server sends until it closes the TCP connection; returns the code of its
     * close frame, -1 when it closed without one, or {@link #STILL_OPEN} when it had not closed
     * within {@code wait}.
     */
    public int readCloseCode(Duration wait) throws IOException {
        long deadline = System.nanoTime() + wait.toNanos();
        int code = -1;
        try {
            while (true) {
                Frame frame = nextFrame(Duration.ofNanos(deadline - System.nanoTime()));
                if (frame.opcode() == Frame.CLOSE) {
                    code = frame.closeCode();
                }
            }
        } catch (SocketTimeoutException e) {
            return STILL_OPEN;
        } catch (EOFException | SocketException e) {
            // closed, or reset after the close frame: what arrived still counts
            return code;
        }
    }

    /** Reads what the server sends until it closes; returns the code of its close frame, or -1. */
    public int readCloseCode() throws IOException {
        return readCloseCode(Duration.ofSeconds(10));
    }

    /**
     * Whether the server still holds this connection established, as {@code ss} would tell:
     * read from the kernel's table of TCP connections ({@code /proc/net/tcp}), not from the
     * socket, so the answer costs the client no read. Linux only.
     */
    public boolean serverStillHolds() throws IOException {
        return peersOf(socket.getPort()).contains(peerOf(socket));
    }

    /**
     * Sends one HTTP/1.0 request with these extra header lines (each ending in CRLF) and a text
     * body, and returns the whole answer, which ends when the server closes.
     */
    public String exchange(String method, String target, String extraHeaders, String body) throws IOException {
        byte[] content = body.getBytes(StandardCharsets.UTF_8);
        write((method + " " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\n" + extraHeaders
                + "Content-Type: text/plain\r\nContent-Length: " + content.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        write(content);
        return new String(readToEnd(), StandardCharsets.UTF_8);
    }

    /** Whether the server has ended this connection: what a read sees, waiting at most {@code wait}. */
    public static boolean closedByServer(Socket socket, Duration wait) throws IOException {
        socket.setSoTimeout((int) Math.max(1, wait.toMillis()));
        try {
            return socket.getInputStream().read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (SocketException e) {
            return true;
        }
    }

    /**
     * The peers (address and port) a server on {@code serverPort} holds established connections
     * with, from the kernel's table of TCP connections: the connections it really has, whatever it
     * counts. Keyed by address too, since clients bound to different loopback addresses may share
     * a port. Loopback only; Linux only.
     */
    public static Set<InetSocketAddress> peersOf(int serverPort) throws IOException {
        // Columns: sl local_address rem_address st ...; addresses are hex IP:PORT, state 01 is ESTABLISHED.
        String local = String.format(":%04X", serverPort);
        Set<InetSocketAddress> peers = new HashSet<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path path = Path.of(table);
            if (!Files.exists(path)) {
                continue;
            }
            for (String line : Files.readAllLines(path)) {
                String[] columns = line.trim().split("\\s+");
                if (columns.length > 3 && columns[1].endsWith(local) && columns[3].equals("01")) {
                    peers.add(kernelAddress(columns[2]));
                }
            }
        }
        return peers;
    }

    /** The server's peer that this client socket is, as {@link #peersOf} lists it. */
    public static InetSocketAddress peerOf(Socket socket) {
        return new InetSocketAddress(socket.getLocalAddress(), socket.getLocalPort());
    }

    /** An address of {@code /proc/net/tcp}: the IP in hex, each 32-bit word in host (little-endian) order, then the port. */
    private static InetSocketAddress kernelAddress(String column) throws IOException {
        int colon = column.indexOf(':');
        String hex = column.substring(0, colon);
        byte[] ip = new byte[hex.length() / 2];
        for (int i = 0; i < ip.length; i++) {
            int word = i / 4 * 4;
            int reversed = word + 3 - i % 4;
            ip[i] = (byte) Integer.parseInt(hex.substring(reversed * 2, reversed * 2 + 2), 16);
        }
        // An IPv4-mapped IPv6 address comes back as the IPv4 address, as the client socket names itself.
        return new InetSocketAddress(InetAddress.getByAddress(ip), Integer.parseInt(column.substring(colon + 1), 16));
    }

    /** Ends what it sends (a TCP FIN, no close frame) and can still read, as a peer whose network went away politely. */
    public void endOutput() throws IOException {
        socket.shutdownOutput();
    }

    /** Drops the connection with a TCP reset, as a client that crashed. */
    public void abort() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}

package dev.switchboard.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

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
        write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                + extraHeaders + "\r\n").getBytes(StandardCharsets.US_ASCII));
        return readHead();
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

    @Override
    public void close() throws IOException {
        socket.close();
    }
}

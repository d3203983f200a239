package dev.switchboard.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The write floor: the benchmark's subset of Switchboard's wire (upgrade, hello, connect,
 * {@code join} acked, {@code echo} acked, {@code publish} fanned out as {@code msg}, {@code stats},
 * WebSocket ping and close) on plain {@code java.nio}, one selector thread for everything. A
 * publish is framed once into a direct buffer, and each member's channel is written a
 * {@code duplicate()} of it: one {@code write} per delivery, no copy, no encoding, no lock. What
 * it costs per delivery is about the least any JVM server can pay on this machine.
 *
 * <p>It keeps at most {@link #PENDING_LIMIT} bytes waiting per connection (Switchboard's default
 * send queue bound) and drops a connection past it. It does not do: heartbeats, recovery,
 * fragmented or binary messages, permessage-deflate, TLS, origin checks, limits other than that
 * one, a send timeout, or coalescing several messages into one write.
 *
 * <p>Threads: the selector thread owns every field but {@code running}; {@link #close} stops it.
 */
final class WriteFloorServer implements AutoCloseable {
    /** Bytes waiting for one connection past which it is dropped: Switchboard's default send queue bound, 4 MiB. */
    static final long PENDING_LIMIT = 4 << 20;
    /** The largest frame read, as the Tyrus container of the other Grizzly targets is set up. */
    private static final int MAX_FRAME = (1 << 20) + 1024;
    private static final String ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    private final Selector selector = Selector.open();
    private final ServerSocketChannel server = ServerSocketChannel.open();
    private final long pendingLimit;
    private final int port;
    private final Thread thread;
    private final Map<String, List<Conn>> rooms = new HashMap<>();
    private final Set<Conn> open = new HashSet<>();
    private long ids;
    private volatile boolean running = true;

    /** Listens on 127.0.0.1:{@code port} (0 for any free port), dropping a connection past {@code pendingLimit} bytes waiting. */
    WriteFloorServer(int port, long pendingLimit) throws IOException {
        this.pendingLimit = pendingLimit;
        server.bind(new InetSocketAddress("127.0.0.1", port), 4096);
        server.configureBlocking(false);
        server.register(selector, SelectionKey.OP_ACCEPT);
        this.port = ((InetSocketAddress) server.getLocalAddress()).getPort();
        thread = new Thread(this::run, "write-floor");
        thread.start();
    }

    int port() {
        return port;
    }

    private void run() {
        while (running) {
            try {
                selector.select();
            } catch (IOException e) {
                return;
            }
            for (SelectionKey key : selector.selectedKeys()) {
                Conn conn = (Conn) key.attachment();
                try {
                    if (conn == null) {
                        accept();
                        continue;
                    }
                    if (key.isValid() && key.isWritable()) {
                        conn.flush();
                    }
                    if (key.isValid() && key.isReadable()) {
                        conn.read();
                    }
                } catch (IOException | RuntimeException e) {
                    if (conn != null) {
                        conn.close();
                    }
                }
            }
            selector.selectedKeys().clear();
        }
    }

    private void accept() throws IOException {
        for (SocketChannel channel; (channel = server.accept()) != null; ) {
            channel.configureBlocking(false);
            // As Grizzly, Tomcat and Node set it: a frame goes out when written.
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            new Conn(channel);
        }
    }

    /** A WebSocket frame of the server (unmasked); direct when it is written to many channels. */
    private static ByteBuffer frame(int opcode, byte[] payload, boolean direct) {
        int n = payload.length;
        int header = n < 126 ? 2 : n < 65536 ? 4 : 10;
        ByteBuffer frame = direct ? ByteBuffer.allocateDirect(header + n) : ByteBuffer.allocate(header + n);
        frame.put((byte) (0x80 | opcode));
        if (n < 126) {
            frame.put((byte) n);
        } else if (n < 65536) {
            frame.put((byte) 126).putShort((short) n);
        } else {
            frame.put((byte) 127).putLong(n);
        }
        return frame.put(payload).flip();
    }

    private static ByteBuffer text(String text, boolean direct) {
        return frame(0x1, text.getBytes(StandardCharsets.UTF_8), direct);
    }

    @Override
    public void close() throws IOException, InterruptedException {
        running = false;
        selector.wakeup();
        thread.join(5000);
        for (SelectionKey key : selector.keys()) {
            key.channel().close();
        }
        selector.close();
    }

    /** One connection; its fields belong to the selector thread. */
    private final class Conn {
        private final SocketChannel channel;
        private final SelectionKey key;
        private final String id = Long.toString(++ids);
        private final List<String> joined = new ArrayList<>();
        /** Frames not yet taken by the socket, and their bytes. */
        private final ArrayDeque<ByteBuffer> out = new ArrayDeque<>();
        private long pending;
        /** What was read and not handled yet, in write mode. */
        private ByteBuffer in = ByteBuffer.allocate(4096);
        private boolean upgraded;
        private boolean closed;

        Conn(SocketChannel channel) throws IOException {
            this.channel = channel;
            this.key = channel.register(selector, SelectionKey.OP_READ, this);
        }

        void read() throws IOException {
            if (!in.hasRemaining()) {
                if (in.capacity() >= MAX_FRAME) {
                    throw new IOException("frame over " + MAX_FRAME + " bytes");
                }
                in = ByteBuffer.allocate(Math.min(in.capacity() * 4, MAX_FRAME)).put(in.flip());
            }
            if (channel.read(in) < 0) {
                close();
                return;
            }
            in.flip();
            if (!upgraded) {
                upgrade();
            }
            while (upgraded && !closed && handleFrame()) {
                // one frame handled; the next may be complete too
            }
            in.compact();
        }

        private void upgrade() {
            String head = new String(in.array(), in.position(), in.remaining(), StandardCharsets.ISO_8859_1);
            int end = head.indexOf("\r\n\r\n");
            if (end < 0) {
                return;
            }
            in.position(in.position() + end + 4);
            String key = head.lines().filter(l -> l.regionMatches(true, 0, "Sec-WebSocket-Key:", 0, 18))
                    .map(l -> l.substring(18).trim()).findFirst().orElse(null);
            if (!head.startsWith("GET " + Wire.SWITCHBOARD.path()) || key == null) {
                send(ByteBuffer.wrap("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
                close();
                return;
            }
            send(ByteBuffer.wrap(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: " + accept(key) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII)));
            upgraded = true;
            open.add(this);
            send(text("{\"type\":\"hello\",\"v\":1}", false));
        }

        /** Handles the frame at the buffer's position; false when it is not all there yet. */
        private boolean handleFrame() throws IOException {
            int at = in.position();
            if (in.remaining() < 2) {
                return false;
            }
            int b0 = in.get(at) & 0xff;
            int b1 = in.get(at + 1) & 0xff;
            long length = b1 & 0x7f;
            int header = length == 126 ? 4 : length == 127 ? 10 : 2;
            if (in.remaining() < header) {
                return false;
            }
            length = length == 126 ? in.getShort(at + 2) & 0xffff : length == 127 ? in.getLong(at + 2) : length;
            if ((b0 & 0x80) == 0 || (b1 & 0x80) == 0 || length < 0 || length > MAX_FRAME) {
                throw new IOException("a fragmented, unmasked or oversized frame");
            }
            int start = at + header + 4;
            if (in.limit() - start < length) {
                return false;
            }
            byte[] data = in.array();
            for (int i = 0; i < length; i++) {
                data[start + i] ^= data[at + header + (i & 3)];
            }
            in.position(start + (int) length);
            switch (b0 & 0x0f) {
                case 0x1 -> onText(new String(data, start, (int) length, StandardCharsets.UTF_8));
                case 0x8 -> {
                    if (out.isEmpty()) {
                        channel.write(frame(0x8, new byte[0], false));
                    }
                    close();
                }
                case 0x9 -> send(frame(0xA, Arrays.copyOfRange(data, start, start + (int) length), false));
                default -> { }
            }
            return true;
        }

        private void onText(String text) {
            Frames.Event event = Frames.Event.of(text);
            if (event == null) {
                if (text.startsWith("{\"type\":\"connect\"")) {
                    send(text("{\"type\":\"connect\",\"id\":\"" + id + "\",\"pid\":\"" + id + "\",\"recovered\":false}", false));
                }
                return;
            }
            String args = event.args();
            switch (event.name()) {
                case "join" -> {
                    String room = args.substring(1, args.length() - 1);
                    if (!joined.contains(room)) {
                        joined.add(room);
                        rooms.computeIfAbsent(room, r -> new ArrayList<>()).add(this);
                    }
                    ack(event, "");
                }
                case "publish" -> {
                    int comma = args.indexOf(',');
                    List<Conn> members = rooms.get(args.substring(1, comma - 1));
                    if (members != null) {
                        ByteBuffer msg = text("{\"type\":\"event\",\"event\":\"msg\",\"args\":[" + args.substring(comma + 1) + "]}", true);
                        // Backwards: a member dropped by its send leaves the room, and only indexes above it move.
                        for (int i = members.size() - 1; i >= 0; i--) {
                            members.get(i).send(msg.duplicate());
                        }
                    }
                }
                case "echo" -> ack(event, args);
                case "stats" -> ack(event, "{\"heap\":" + Heap.used(args.equals("true")) + ",\"queue\":"
                        + open.stream().mapToLong(c -> c.pending).max().orElse(0) + ",\"conns\":" + open.size() + "}");
                default -> ack(event, "");
            }
        }

        private void ack(Frames.Event event, String args) {
            if (event.ack() > 0) {
                send(text("{\"type\":\"ack\",\"ack\":" + event.ack() + ",\"args\":[" + args + "]}", false));
            }
        }

        /** Writes now if nothing waits, else queues; past the bound the connection is dropped. */
        void send(ByteBuffer bytes) {
            if (closed) {
                return;
            }
            if (out.isEmpty()) {
                try {
                    channel.write(bytes);
                } catch (IOException e) {
                    close();
                    return;
                }
                if (!bytes.hasRemaining()) {
                    return;
                }
                key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
            }
            out.add(bytes);
            pending += bytes.remaining();
            if (pending > pendingLimit) {
                close();
            }
        }

        void flush() throws IOException {
            for (ByteBuffer head; (head = out.peek()) != null; out.poll()) {
                pending -= channel.write(head);
                if (head.hasRemaining()) {
                    return;
                }
            }
            key.interestOps(SelectionKey.OP_READ);
        }

        void close() {
            if (closed) {
                return;
            }
            closed = true;
            open.remove(this);
            for (String room : joined) {
                List<Conn> members = rooms.get(room);
                members.remove(this);
                if (members.isEmpty()) {
                    rooms.remove(room);
                }
            }
            out.clear();
            pending = 0;
            key.cancel();
            try {
                channel.close();
            } catch (IOException ignored) {
                // gone either way
            }
        }
    }

    private static String accept(String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-1").digest((key + ACCEPT_GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-1", e);
        }
    }
}

package dev.switchboard.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A small non-blocking WebSocket client (RFC 6455, text frames only) that runs thousands of
 * connections on one selector thread, with one shared read buffer and no buffer per idle
 * connection. The load generator uses it instead of {@code java.net.http.WebSocket}, which took
 * about 2.4 times the CPU per message received and 45 times the heap per connection
 * ({@link JdkClientProbe}, docs/BENCHMARKS.md): the generator's one core must outlast the servers'.
 *
 * <p>Threads: the selector thread reads, completes handshakes and runs the {@link Handler};
 * any thread may send ({@link Conn#sendText} writes under the connection's lock, and leaves what
 * the socket did not take to the selector thread).
 */
final class WsLoop implements AutoCloseable {
    /** What a connection reports, on the selector thread. */
    interface Handler {
        void onOpen(Conn conn);

        void onText(Conn conn, String text);

        void onClosed(Conn conn, String why);
    }

    private static final int OP_CONTINUATION = 0x0, OP_TEXT = 0x1, OP_CLOSE = 0x8, OP_PING = 0x9, OP_PONG = 0xA;
    private static final byte[] HEADER_END = {'\r', '\n', '\r', '\n'};
    private static final byte[] NOTHING = new byte[0];

    private final Selector selector;
    private final Thread thread;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final ByteBuffer readBuffer = ByteBuffer.allocate(256 * 1024);
    private volatile boolean running = true;

    WsLoop(String name) {
        try {
            selector = Selector.open();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        thread = new Thread(this::run, name);
        thread.setDaemon(true);
        thread.start();
    }

    /** A connection to {@code server}, not opened yet: callers keep it before its handler can hear from it. */
    Conn newConnection(InetSocketAddress server, String pathAndQuery, Handler handler) {
        return new Conn(handler, server, pathAndQuery);
    }

    /** Runs {@code task} on the selector thread. */
    void execute(Runnable task) {
        tasks.add(task);
        selector.wakeup();
    }

    private void run() {
        while (running) {
            try {
                selector.select(100);
                for (Runnable task; (task = tasks.poll()) != null; ) {
                    task.run();
                }
                for (SelectionKey key : selector.selectedKeys()) {
                    Conn conn = (Conn) key.attachment();
                    try {
                        if (!key.isValid()) {
                            continue;
                        }
                        if (key.isConnectable()) {
                            conn.finishConnect();
                        }
                        if (key.isValid() && key.isWritable()) {
                            conn.flush();
                        }
                        if (key.isValid() && key.isReadable()) {
                            conn.read();
                        }
                    } catch (IOException | RuntimeException e) {
                        conn.fail(e.toString());
                    }
                }
                selector.selectedKeys().clear();
            } catch (IOException | RuntimeException e) {
                if (running) {
                    e.printStackTrace();
                }
            }
        }
    }

    @Override
    public void close() {
        running = false;
        selector.wakeup();
        try {
            thread.join(2000);
            for (SelectionKey key : selector.keys()) {
                key.channel().close();
            }
            selector.close();
        } catch (IOException e) {
            // closing anyway
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One WebSocket connection. */
    final class Conn {
        private final Handler handler;
        private final InetSocketAddress server;
        private final String path;
        private SocketChannel channel;
        private SelectionKey key;
        private boolean upgraded;
        private volatile boolean closed;
        private volatile boolean closeSent;
        /** Received bytes not consumed yet: a partial frame, or the HTTP response head. */
        private byte[] pending = NOTHING;
        private int pendingLength;
        /** Parts of a fragmented message (servers rarely fragment). */
        private StringBuilder fragments;
        /** Bytes the socket did not take yet; guarded by this. */
        private ByteBuffer unwritten;

        private Conn(Handler handler, InetSocketAddress server, String path) {
            this.handler = handler;
            this.server = server;
            this.path = path;
        }

        /**
         * Connects and upgrades; the handler hears {@code onOpen} or {@code onClosed}.
         *
         * @param receiveBuffer SO_RCVBUF in bytes, or 0 for the system's (a small one makes a slow reader)
         */
        void open(int receiveBuffer) {
            execute(() -> start(receiveBuffer));
        }

        private void start(int receiveBuffer) {
            try {
                channel = SocketChannel.open();
                channel.configureBlocking(false);
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                if (receiveBuffer > 0) {
                    channel.setOption(StandardSocketOptions.SO_RCVBUF, receiveBuffer);
                }
                key = channel.register(selector, SelectionKey.OP_CONNECT, this);
                if (channel.connect(server)) {
                    finishConnect();
                }
            } catch (IOException e) {
                fail("connect: " + e);
            }
        }

        private void finishConnect() throws IOException {
            if (!channel.finishConnect()) {
                return;
            }
            String request = "GET " + path + " HTTP/1.1\r\nHost: " + server.getHostString() + ":" + server.getPort()
                    + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\n\r\n";
            key.interestOps(SelectionKey.OP_READ);
            write(request.getBytes(StandardCharsets.US_ASCII));
        }

        /** Sends one text frame, from any thread. */
        void sendText(String text) {
            sendFrame(OP_TEXT, text.getBytes(StandardCharsets.UTF_8));
        }

        /**
         * Frames are masked with the all-zero key: a client must mask (RFC 6455 5.3), any 32-bit
         * key is valid, and this one spares the generator's core the XOR of every payload byte.
         */
        private void sendFrame(int opcode, byte[] payload) {
            int n = payload.length;
            int header = n < 126 ? 2 : n < 65536 ? 4 : 10;
            byte[] frame = new byte[header + 4 + n];
            frame[0] = (byte) (0x80 | opcode);
            if (n < 126) {
                frame[1] = (byte) (0x80 | n);
            } else if (n < 65536) {
                frame[1] = (byte) (0x80 | 126);
                frame[2] = (byte) (n >>> 8);
                frame[3] = (byte) n;
            } else {
                frame[1] = (byte) (0x80 | 127);
                for (int i = 0; i < 8; i++) {
                    frame[2 + i] = (byte) ((long) n >>> (56 - 8 * i));
                }
            }
            System.arraycopy(payload, 0, frame, header + 4, n);
            write(frame);
        }

        private synchronized void write(byte[] bytes) {
            if (closed) {
                return;
            }
            if (unwritten != null) {
                ByteBuffer bigger = ByteBuffer.allocate(unwritten.remaining() + bytes.length);
                bigger.put(unwritten).put(bytes).flip();
                unwritten = bigger;
                return;
            }
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            try {
                channel.write(buffer);
            } catch (IOException e) {
                execute(() -> fail("write: " + e));
                return;
            }
            if (buffer.hasRemaining()) {
                unwritten = buffer;
                execute(() -> {
                    if (key.isValid()) {
                        key.interestOps(key.interestOps() | SelectionKey.OP_WRITE);
                    }
                });
            }
        }

        private synchronized void flush() throws IOException {
            if (unwritten != null) {
                channel.write(unwritten);
                if (unwritten.hasRemaining()) {
                    return;
                }
                unwritten = null;
            }
            key.interestOps(key.interestOps() & ~SelectionKey.OP_WRITE);
        }

        private void read() throws IOException {
            readBuffer.clear();
            int n = channel.read(readBuffer);
            if (n < 0) {
                fail("end of stream");
                return;
            }
            byte[] data;
            int from;
            int end;
            if (pendingLength == 0) {
                data = readBuffer.array();
                from = 0;
                end = n;
            } else {
                if (pending.length < pendingLength + n) {
                    pending = Arrays.copyOf(pending, Math.max(pendingLength + n, pending.length * 2));
                }
                System.arraycopy(readBuffer.array(), 0, pending, pendingLength, n);
                data = pending;
                from = 0;
                end = pendingLength + n;
            }
            if (!upgraded) {
                int head = indexOf(data, from, end, HEADER_END);
                if (head < 0) {
                    keep(data, from, end);
                    return;
                }
                String status = new String(data, from, Math.min(12, end - from), StandardCharsets.US_ASCII);
                if (!status.equals("HTTP/1.1 101")) {
                    fail("upgrade refused: " + new String(data, from, head - from, StandardCharsets.US_ASCII).lines().findFirst().orElse(""));
                    return;
                }
                upgraded = true;
                from = head + HEADER_END.length;
                handler.onOpen(this);
            }
            from = frames(data, from, end);
            keep(data, from, end);
        }

        /** Keeps the unconsumed bytes {@code [from, end)} for the next read. */
        private void keep(byte[] data, int from, int end) {
            int left = end - from;
            if (data == pending) {
                System.arraycopy(pending, from, pending, 0, left);
            } else if (left > 0) {
                if (pending.length < left) {
                    pending = new byte[Math.max(left, 1024)];
                }
                System.arraycopy(data, from, pending, 0, left);
            }
            pendingLength = left;
            if (left == 0 && pending.length > 64 * 1024) {
                pending = NOTHING;
            }
        }

        /** Handles every complete frame in {@code [from, end)}; returns where the incomplete rest starts. */
        private int frames(byte[] data, int from, int end) {
            while (end - from >= 2 && !closed) {
                int b0 = data[from] & 0xff;
                int b1 = data[from + 1] & 0xff;
                int header = 2;
                long length = b1 & 0x7f;
                if (length == 126) {
                    if (end - from < 4) {
                        break;
                    }
                    length = ((data[from + 2] & 0xff) << 8) | (data[from + 3] & 0xff);
                    header = 4;
                } else if (length == 127) {
                    if (end - from < 10) {
                        break;
                    }
                    length = 0;
                    for (int i = 0; i < 8; i++) {
                        length = (length << 8) | (data[from + 2 + i] & 0xff);
                    }
                    header = 10;
                }
                if (length > 64L << 20) {
                    fail("frame of " + length + " bytes");
                    break;
                }
                if (end - from < header + length) {
                    break;
                }
                frame(b0 & 0x0f, (b0 & 0x80) != 0, data, from + header, (int) length);
                from += header + (int) length;
            }
            return from;
        }

        private void frame(int opcode, boolean fin, byte[] data, int from, int length) {
            switch (opcode) {
                case OP_TEXT, OP_CONTINUATION -> {
                    String text = new String(data, from, length, StandardCharsets.UTF_8);
                    if (fin && fragments == null) {
                        handler.onText(this, text);
                    } else {
                        fragments = fragments == null ? new StringBuilder() : fragments;
                        fragments.append(text);
                        if (fin) {
                            String message = fragments.toString();
                            fragments = null;
                            handler.onText(this, message);
                        }
                    }
                }
                case OP_PING -> sendFrame(OP_PONG, Arrays.copyOfRange(data, from, from + length));
                case OP_CLOSE -> {
                    if (!closeSent) {
                        sendFrame(OP_CLOSE, Arrays.copyOfRange(data, from, from + Math.min(length, 2)));
                    }
                    fail("closed by server " + (length >= 2 ? ((data[from] & 0xff) << 8 | (data[from + 1] & 0xff)) : ""));
                }
                default -> { }
            }
        }

        /** Sends a close frame (1000); the connection ends when the server answers. */
        void close() {
            closeSent = true;
            sendFrame(OP_CLOSE, new byte[] {0x03, (byte) 0xe8});
        }

        /** Drops the TCP connection at once (RST, no close frame), as a network failure would. */
        void abort() {
            execute(() -> {
                try {
                    if (channel != null && channel.isOpen()) {
                        channel.setOption(StandardSocketOptions.SO_LINGER, 0);
                    }
                } catch (IOException | RuntimeException ignored) {
                    // closing anyway
                }
                fail("aborted");
            });
        }

        /** Stops reading: the socket buffers fill up and the server's sends to it stall. */
        void stopReading() {
            execute(() -> {
                if (key != null && key.isValid()) {
                    key.interestOps(key.interestOps() & ~SelectionKey.OP_READ);
                }
            });
        }

        boolean isClosed() {
            return closed;
        }

        private void fail(String why) {
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
                unwritten = null;
            }
            try {
                if (channel != null) {
                    channel.close();
                }
            } catch (IOException ignored) {
                // gone either way
            }
            handler.onClosed(this, why);
        }
    }

    private static int indexOf(byte[] data, int from, int end, byte[] needle) {
        outer:
        for (int i = from; i <= end - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (data[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}

package dev.switchboard.bench;

import com.sun.management.OperatingSystemMXBean;
import dev.switchboard.testing.RawTcp;
import dev.switchboard.testing.TestServer;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The server CPU per acknowledged event, the request path of S2 alone: {@code clients} raw
 * WebSocket clients on the standalone server each send an {@code echo} event with an ack, all of
 * them once per wave, and the next wave goes once every answer of this one has come back. Counted:
 * the CPU of the server's own threads (Grizzly's selector and worker threads, which read, unframe,
 * decode, run the listener and write the answer) per ack, and beside it that of the server's
 * other threads (collector, G1's refinement, compilers), measured as {@link BroadcasterCpu} does.
 * The tool for comparing two builds of the per-message path, run one after the other; the
 * generator's threads (this process's main thread and the reader) are left out.
 *
 * <pre>{@code
 * bench/run.sh --echo-cpu 500 40     # clients (500), waves per round (40); 6 rounds to warm up, then 6
 * }</pre>
 */
public final class EchoCpu {
    /** Rounds before the measured ones, for the compilers: the path is long, and the first rounds cost twice the last. */
    private static final int WARM_ROUNDS = 6;
    private static final int ROUNDS = WARM_ROUNDS + 6;
    /** Short enough that every answer is one frame under 126 bytes, so the reader counts frames by bytes. */
    private static final String PAYLOAD = "\"" + "x".repeat(60) + "\"";
    private static final byte[] ECHO = RawTcp.frame(0x81,
            ("{\"type\":\"event\",\"event\":\"echo\",\"args\":[" + PAYLOAD + "],\"ack\":1}").getBytes(StandardCharsets.UTF_8));

    private EchoCpu() {
    }

    public static void main(String[] args) throws Exception {
        int clients = args.length > 0 ? Integer.parseInt(args[0]) : 500;
        int waves = args.length > 1 ? Integer.parseInt(args[1]) : 40;
        try (TestServer server = TestServer.start(switchboard -> switchboard.onConnection(
                socket -> socket.on("echo", event -> event.ack(event.args().raw(0)))));
             Selector selector = Selector.open()) {
            List<SocketChannel> channels = new ArrayList<>();
            int answerBytes = 0;
            for (int i = 0; i < clients; i++) {
                SocketChannel channel = connect(server.port());
                if (i == 0) {
                    answerBytes = firstAnswerSize(channel);
                }
                channel.configureBlocking(false);
                channel.register(selector, SelectionKey.OP_READ);
                channels.add(channel);
            }
            AtomicLong received = new AtomicLong();
            Thread reader = new Thread(() -> count(selector, received), "members");
            reader.setDaemon(true);
            reader.start();
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            OperatingSystemMXBean process = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            double[] own = new double[ROUNDS];
            double[] ownUser = new double[ROUNDS];
            double[] others = new double[ROUNDS];
            long acks = (long) clients * waves;
            for (int round = 0; round < ROUNDS; round++) {
                long ownBefore = serverThreadsCpu(threads, false);
                long ownUserBefore = serverThreadsCpu(threads, true);
                long generatorBefore = threads.getCurrentThreadCpuTime() + threads.getThreadCpuTime(reader.getId());
                long processBefore = process.getProcessCpuTime();
                for (int wave = 0; wave < waves; wave++) {
                    long expected = received.get() + (long) clients * answerBytes;
                    for (SocketChannel channel : channels) {
                        ByteBuffer frame = ByteBuffer.wrap(ECHO);
                        while (frame.hasRemaining()) {
                            channel.write(frame);
                        }
                    }
                    while (received.get() < expected) {
                        // Not a spin: on two cores it would take one from the server it measures.
                        LockSupport.parkNanos(20_000);
                    }
                }
                Thread.sleep(300);   // counted after the pause, which takes in what the round left the JVM to do
                long ownCpu = serverThreadsCpu(threads, false) - ownBefore;
                ownUser[round] = (serverThreadsCpu(threads, true) - ownUserBefore) / 1000.0 / acks;
                long generator = threads.getCurrentThreadCpuTime() + threads.getThreadCpuTime(reader.getId()) - generatorBefore;
                own[round] = ownCpu / 1000.0 / acks;
                others[round] = (process.getProcessCpuTime() - processBefore - generator - ownCpu) / 1000.0 / acks;
                System.out.printf("round %d: %d acks, the server's selector and worker threads %.2f µs an ack (user %.2f),"
                        + " its other threads %.2f%n", round, acks, own[round], ownUser[round], others[round]);
            }
            System.out.printf("median of rounds %d to %d: the server's selector and worker threads %.2f µs an ack, user %.2f;"
                    + " its other threads %.2f%n", WARM_ROUNDS, ROUNDS - 1, median(own), median(ownUser), median(others));
        }
    }

    /** Upgrades and connects to the default namespace, reading the answers in blocking mode. */
    private static SocketChannel connect(int port) throws IOException {
        SocketChannel channel = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
        channel.write(ByteBuffer.wrap(RawTcp.upgradeRequest(port, "/switchboard", "")));
        readUntil(channel, "\"type\":\"hello\"");
        channel.write(ByteBuffer.wrap(RawTcp.frame(0x81, "{\"type\":\"connect\"}".getBytes(StandardCharsets.UTF_8))));
        readUntil(channel, "\"type\":\"connect");
        return channel;
    }

    /** Reads until {@code marker} has come, and what came before it. */
    private static void readUntil(SocketChannel channel, String marker) throws IOException {
        StringBuilder seen = new StringBuilder();
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        while (seen.indexOf(marker) < 0) {
            buffer.clear();
            if (channel.read(buffer) < 0) {
                throw new IOException("closed before " + marker);
            }
            seen.append(new String(buffer.array(), 0, buffer.position(), StandardCharsets.ISO_8859_1));
        }
    }

    /** Sends one echo and reads its answer whole: every answer is that many bytes. */
    private static int firstAnswerSize(SocketChannel channel) throws IOException {
        channel.write(ByteBuffer.wrap(ECHO));
        ByteBuffer header = ByteBuffer.allocate(2);
        while (header.hasRemaining()) {
            channel.read(header);
        }
        int length = header.get(1) & 0x7f;
        if (length > 125) {
            throw new IllegalStateException("the answer is longer than one short frame");
        }
        ByteBuffer rest = ByteBuffer.allocate(length);
        while (rest.hasRemaining()) {
            channel.read(rest);
        }
        return 2 + length;
    }

    /** @param user only the time in user mode */
    private static long serverThreadsCpu(ThreadMXBean threads, boolean user) {
        long total = 0;
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info != null && (info.getThreadName().startsWith("grizzly-nio-kernel")
                    || info.getThreadName().startsWith("Grizzly-worker"))) {
                long time = user ? threads.getThreadUserTime(info.getThreadId()) : threads.getThreadCpuTime(info.getThreadId());
                total += Math.max(0, time);
            }
        }
        return total;
    }

    private static void count(Selector selector, AtomicLong received) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 16);
        try {
            while (selector.isOpen()) {
                selector.select(100);
                for (SelectionKey key : selector.selectedKeys()) {
                    int read;
                    do {
                        buffer.clear();
                        read = ((SocketChannel) key.channel()).read(buffer);
                        if (read > 0) {
                            received.addAndGet(read);
                        }
                    } while (read > 0);
                }
                selector.selectedKeys().clear();
            }
        } catch (IOException | RuntimeException e) {
            // The run is over: the selector or its channels closed.
        }
    }

    /** The median of the rounds after the warm-up. */
    private static double median(double[] rounds) {
        double[] warm = Arrays.copyOfRange(rounds, WARM_ROUNDS, rounds.length);
        Arrays.sort(warm);
        return warm[warm.length / 2];
    }
}

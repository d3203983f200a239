package dev.switchboard.bench;

import dev.switchboard.protocol.Frame;
import dev.switchboard.protocol.JsonMapper;
import dev.switchboard.protocol.JsonWireCodec;
import dev.switchboard.protocol.Packet;
import dev.switchboard.protocol.ProtocolException;
import dev.switchboard.protocol.RawJson;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The codec's hot path: encoding a broadcast once (the server's side of a fan-out, before the
 * same text is queued for every recipient), framing it for the wire once, and decoding a client's event, with the payload the
 * load generator sends. Run with {@code bench/run.sh --jmh}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseG1GC", "-Xmx512m"})
public class CodecBenchmark {
    private final JsonWireCodec codec = new JsonWireCodec();
    private String incomingEvent;
    private Packet broadcast;
    private RawJson payload;

    @Setup
    public void setUp() throws ProtocolException {
        String json = Payload.of(123_456, System.nanoTime(), 100);
        payload = RawJson.of(json);
        incomingEvent = "{\"type\":\"event\",\"event\":\"publish\",\"args\":[\"r7\"," + json + "],\"ack\":42}";
        broadcast = Packet.event("/", "msg", List.of(payload), 0).withOffset("1234567");
    }

    /** What one broadcast costs once: the packet built from a raw argument, encoded, measured in UTF-8. */
    @Benchmark
    public Frame encodeBroadcast() {
        return Frame.encode(codec, Packet.event("/", "msg", JsonMapper.toRawList(payload), 0).withOffset("1234567"));
    }

    /**
     * {@link #encodeBroadcast} and the frame for the wire that every recipient on the standalone
     * server then shares: the difference is what framing once adds to a broadcast.
     */
    @Benchmark
    public ByteBuffer encodeAndFrameBroadcast() {
        return Frame.encode(codec, Packet.event("/", "msg", JsonMapper.toRawList(payload), 0).withOffset("1234567"))
                .serverFrame(codec);
    }

    /** The encoding alone. */
    @Benchmark
    public String encodePacket() {
        return codec.encode(broadcast);
    }

    /** A client's event with an ack and a room name and an object as arguments. */
    @Benchmark
    public Packet decodeEvent() throws ProtocolException {
        return codec.decode(incomingEvent);
    }
}

package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.protocol.JsonWireCodec;
import dev.switchboard.protocol.Packet;
import dev.switchboard.testing.Inbox;
import dev.switchboard.testing.TestServer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A broadcast costs one encoding whatever the number of recipients. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class BroadcastEncodingTest {
    /** The real codec, counting how often it encodes the event under test. */
    private static final class CountingCodec extends JsonWireCodec {
        final AtomicInteger newsEncoded = new AtomicInteger();

        @Override
        public String encode(Packet packet) {
            if ("news".equals(packet.event())) {
                newsEncoded.incrementAndGet();
            }
            return super.encode(packet);
        }
    }

    @Test
    void aRoomBroadcastIsEncodedOnceAndReachesEveryMember() throws Exception {
        CountingCodec codec = new CountingCodec();
        // The connect answer goes out before the connection listener joins the room: wait for the joins.
        CountDownLatch joined = new CountDownLatch(5);
        try (TestServer server = TestServer.start(TestServer.options().codec(codec).build(),
                sb -> sb.onConnection(socket -> {
                    socket.join("newsroom");
                    joined.countDown();
                }))) {
            List<Inbox> members = new ArrayList<>();
            try {
                for (int i = 0; i < 5; i++) {
                    members.add(Inbox.open(server.webSocketUri(), "/", "reader" + i));
                }
                assertTrue(joined.await(10, TimeUnit.SECONDS), "every reader joined the room");
                server.switchboard().to("newsroom").emit("news", "extra!");
                server.switchboard().emit(Inbox.FENCE);
                for (Inbox member : members) {
                    member.assertReceived("news:extra!");
                }
                assertEquals(1, codec.newsEncoded.get());
            } finally {
                members.forEach(Inbox::close);
            }
        }
    }
}

package dev.switchboard.adapter.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.switchboard.protocol.JsonMapper;
import dev.switchboard.protocol.RawJson;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The hand-written codec of cluster messages writes exactly what JSON-B wrote before it, and each
 * reads the other's text, so that nodes of both kinds can share one log.
 */
class MessageCodecTest {
    private static final List<ClusterMessage> MESSAGES = List.of(
            new ClusterMessage(ClusterMessage.EMIT, null, "node-1", "/chat", Set.of("lobby", "a \"quoted\" room\n"),
                    Set.of(), false, null, false, "2/chat,[\"msg\",{\"text\":\"h\\u00e9\"}]", 0, null, null,
                    1_796_473_541_406L),
            new ClusterMessage(ClusterMessage.EMIT, "node-2:7", "node-2", "/", Set.of(), Set.of("muted"), true, null,
                    false, "2[\"tick\",1]", 0, null, null, 0),
            ClusterMessage.request(ClusterMessage.JOIN, "node-1:3", "node-1", "/chat", Set.of("a"), Set.of("b"),
                    Set.of("c", "d"), true),
            new ClusterMessage(ClusterMessage.ANSWER, "node-1:3", "node-2", null, Set.of("x"), null, false, null,
                    false, null, 12, null, "it broke: \\ \u0001", 0));

    @Test
    void writesWhatJsonBWroteAndReadsItBack() throws Exception {
        for (ClusterMessage message : MESSAGES) {
            String jsonB = JsonMapper.toRaw(message).text();
            assertEquals(jsonB, MessageCodec.encode(message));
            assertEquals(message, MessageCodec.decode(jsonB));
            assertEquals(message, JsonMapper.fromJson(RawJson.of(MessageCodec.encode(message)),
                    ClusterMessage.class));
        }
    }

    @Test
    void aFetchAnswerWithSocketsStillRoundTrips() {
        ClusterMessage answer = ClusterMessage.answer(ClusterMessage.ANSWER, "node-1:4", "node-2", 0, null,
                List.of(new SocketSnapshot("s1", "ann", Set.of("s1", "lobby"), Map.of("score", 3), "node-2")), null);
        SocketSnapshot socket = MessageCodec.decode(MessageCodec.encode(answer)).sockets().get(0);
        assertEquals(List.of("s1", "ann", Set.of("s1", "lobby"), "node-2"),
                List.of(socket.id(), socket.userId(), socket.rooms(), socket.node()));
    }

    @Test
    void anUnreadableMessageIsRefusedWithAClearError() {
        for (String text : List.of("", "[1]", "{\"kind\":3}", "{\"rooms\":[1]}", "{\"deadline\":\"soon\"}", "{\"kind\":")) {
            assertThrows(IllegalArgumentException.class, () -> MessageCodec.decode(text), text);
        }
    }
}

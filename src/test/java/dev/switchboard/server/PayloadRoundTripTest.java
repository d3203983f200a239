package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.switchboard.protocol.Arguments;
import dev.switchboard.protocol.RawJson;
import dev.switchboard.protocol.TypeRef;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import jakarta.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Every JSON value a client sends arrives exactly, both as raw JSON and mapped to Java types. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class PayloadRoundTripTest {
    public record Point(int x, int y) {
    }

    public static final class Profile {
        public String name;
        public List<String> tags;
        public Map<String, Integer> scores;
    }

    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(sb -> sb.onConnection(socket -> {
            socket.on("echo", event -> event.ack(event.args().list().toArray()));
            socket.on("typed", event -> event.ack(
                    event.arg(0, BigInteger.class).add(BigInteger.ONE),
                    event.arg(1, BigDecimal.class).multiply(BigDecimal.TEN),
                    event.arg(2, Point.class),
                    event.<List<Point>>arg(3, new TypeRef<List<Point>>() { }.type()),
                    event.arg(4, Profile.class).name,
                    event.arg(5, long.class)));
            socket.on("server-sends", event -> socket.emit("values", "a\"b\\c\n\u00e9\u4e2d\ud83d\ude00", 9007199254740993L,
                    new BigDecimal("0.1000000000000000055511151231257827"), true, null, new Point(1, -2),
                    List.of(1, 2, 3), Map.of("k", List.of(Map.of()))));
        }));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static JsonObject ack(RawClient client, String eventJson) {
        client.send(eventJson);
        return client.next("ack");
    }

    private static String argsText(String frame) {
        int start = frame.indexOf("\"args\":") + 7;
        int depth = 0;
        for (int i = start; i < frame.length(); i++) {
            char c = frame.charAt(i);
            if (c == '[' || c == '{') {
                depth++;
            } else if (c == ']' || c == '}') {
                depth--;
                if (depth == 0) {
                    return frame.substring(start, i + 1);
                }
            } else if (c == '"') {
                for (i++; frame.charAt(i) != '"'; i++) {
                    if (frame.charAt(i) == '\\') {
                        i++;
                    }
                }
            }
        }
        throw new AssertionError("no args in " + frame);
    }

    @Test
    void everyJsonValueComesBackExactly() {
        String args = "[\"unicode \\u00e9\u4e2d\ud83d\ude00 and escapes \\\" \\\\ \\n \\t \\/\",9007199254740993,"
                + "-12345678901234567890123,0.1000000000000000055511151231257827,1e-7,-0,true,false,null,"
                + "{\"nested\":{\"deep\":[1,[2,[3,{}]]]},\"empty\":\"\"},[],[null,\"x\",1.5]]";
        try (RawClient client = server.raw()) {
            client.connectNamespace("/", null);
            client.send("{\"type\":\"event\",\"event\":\"echo\",\"args\":" + args + ",\"ack\":1}");
            String frame = client.next();
            while (!frame.contains("\"type\":\"ack\"")) {
                frame = client.next();
            }
            assertEquals(args, argsText(frame));
        }
    }

    @Test
    void argumentsMapToTheTypesHandlersAskFor() {
        try (RawClient client = server.raw()) {
            client.connectNamespace("/", null);
            JsonObject reply = ack(client, "{\"type\":\"event\",\"event\":\"typed\",\"ack\":7,\"args\":["
                    + "9007199254740993,0.25,{\"x\":3,\"y\":4},[{\"x\":1,\"y\":2},{\"x\":5,\"y\":6}],"
                    + "{\"name\":\"Maciel\",\"tags\":[\"a\"],\"scores\":{\"q\":1}},-9223372036854775808]}");
            assertEquals(7, reply.getInt("ack"));
            assertEquals("[9007199254740994,2.50,{\"x\":3,\"y\":4},[{\"x\":1,\"y\":2},{\"x\":5,\"y\":6}],\"Maciel\","
                    + "-9223372036854775808]", reply.get("args").toString());
        }
    }

    @Test
    void javaValuesTheServerEmitsArriveAsJson() {
        try (RawClient client = server.raw()) {
            client.connectNamespace("/", null);
            client.send("{\"type\":\"event\",\"event\":\"server-sends\",\"args\":[]}");
            String frame = client.next();
            while (!frame.contains("\"values\"")) {
                frame = client.next();
            }
            assertEquals("[\"a\\\"b\\\\c\\n\u00e9\u4e2d\ud83d\ude00\",9007199254740993,0.1000000000000000055511151231257827,"
                    + "true,null,{\"x\":1,\"y\":-2},[1,2,3],{\"k\":[{}]}]", argsText(frame));
        }
    }

    @Test
    void argumentsObjectMapsMissingArgumentsToNull() {
        Arguments args = Arguments.of(List.of(RawJson.NULL));
        assertEquals(null, args.get(3, String.class));
        assertEquals(1, new ArrayList<>(args.list()).size());
    }
}

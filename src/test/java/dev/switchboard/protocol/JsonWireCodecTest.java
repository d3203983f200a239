package dev.switchboard.protocol;

import static dev.switchboard.protocol.PacketType.ACK;
import static dev.switchboard.protocol.PacketType.CONNECT;
import static dev.switchboard.protocol.PacketType.CONNECT_ERROR;
import static dev.switchboard.protocol.PacketType.DISCONNECT;
import static dev.switchboard.protocol.PacketType.ERROR;
import static dev.switchboard.protocol.PacketType.EVENT;
import static dev.switchboard.protocol.PacketType.HELLO;
import static dev.switchboard.protocol.PacketType.PING;
import static dev.switchboard.protocol.PacketType.PONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Frames are written with {@code '} for {@code "} to stay readable; {@link #json} swaps them back. */
class JsonWireCodecTest {
    private final Codec codec = new JsonWireCodec();

    /** One frame for each row of the packet table in docs/PROTOCOL.md, fields in the order the codec writes them. */
    static Stream<Arguments> everyPacketType() {
        return Stream.of(
                arguments("{'type':'hello','v':1,'sid':'Yc1','pingInterval':25000,'pingTimeout':20000,'maxPayload':1048576}",
                        Packet.of(HELLO, null, fields("v", "1", "sid", "'Yc1'", "pingInterval", "25000",
                                "pingTimeout", "20000", "maxPayload", "1048576"))),
                arguments("{'type':'connect','nsp':'/chat','offset':'17','auth':{'token':'s3cret'},'pid':'Q0x'}",
                        Packet.of(CONNECT, "/chat", fields("auth", "{'token':'s3cret'}", "pid", "'Q0x'"))
                                .withOffset("17")),
                arguments("{'type':'connect','nsp':'/chat','id':'k3Jd','pid':'Q0x','recovered':false}",
                        Packet.of(CONNECT, "/chat", fields("id", "'k3Jd'", "pid", "'Q0x'", "recovered", "false"))),
                arguments("{'type':'connect_error','nsp':'/admin','message':'not authorized','data':{'retry':false}}",
                        Packet.of(CONNECT_ERROR, "/admin", fields("message", "'not authorized'", "data", "{'retry':false}"))),
                arguments("{'type':'disconnect','nsp':'/chat'}", Packet.of(DISCONNECT, "/chat", null)),
                arguments("{'type':'disconnect','nsp':'/chat','reason':'server disconnect'}",
                        Packet.of(DISCONNECT, "/chat", fields("reason", "'server disconnect'"))),
                arguments("{'type':'event','nsp':'/chat','event':'message','args':['hi',{'mood':'good'}],'ack':1,'msgId':'m-1'}",
                        new Packet(EVENT, "/chat", "message", raw("'hi'", "{'mood':'good'}"), 1, null,
                                fields("msgId", "'m-1'"))),
                arguments("{'type':'event','nsp':'/chat','event':'message','args':['Maciel','hi'],'offset':'17'}",
                        Packet.event("/chat", "message", raw("'Maciel'", "'hi'"), 0).withOffset("17")),
                arguments("{'type':'event','event':'tick','args':[]}", Packet.event("/", "tick", List.of(), 0)),
                arguments("{'type':'ack','nsp':'/chat','args':['stored'],'ack':1}", Packet.ack("/chat", 1, raw("'stored'"))),
                arguments("{'type':'ack','ack':2,'error':{'message':'handler timed out'}}",
                        new Packet(ACK, null, null, null, 2, null, fields("error", "{'message':'handler timed out'}"))),
                arguments("{'type':'error','nsp':'/chat','ack':3,'code':'bad_event','message':'reserved event name'}",
                        new Packet(ERROR, "/chat", null, null, 3, null,
                                fields("code", "'bad_event'", "message", "'reserved event name'"))),
                arguments("{'type':'ping'}", Packet.of(PING, null, null)),
                arguments("{'type':'pong'}", Packet.of(PONG, null, null)),
                arguments("{'type':'pong','offset':'17'}", Packet.of(PONG, null, null).withOffset("17")));
    }

    @ParameterizedTest
    @MethodSource("everyPacketType")
    void decodesEveryPacketType(String frame, Packet packet) throws ProtocolException {
        assertEquals(packet, codec.decode(json(frame)));
    }

    @ParameterizedTest
    @MethodSource("everyPacketType")
    void encodesEveryPacketType(String frame, Packet packet) {
        assertEquals(json(frame), codec.encode(packet));
    }

    /** A frame's field order and white space are not kept, but everything it says is. */
    @Test
    void decodesFieldsInAnyOrderAndSpacing() throws ProtocolException {
        Packet packet = codec.decode(json(" {\n 'ack' : 7 , 'args' : [ 1 , { 'a' : [ 1 ,2 ] } ] ,\t'event':'e','type':'event' } "));
        assertEquals(new Packet(EVENT, null, "e", raw("1", "{ 'a' : [ 1 ,2 ] }"), 7, null, null), packet);
        assertEquals(json("{'type':'event','event':'e','args':[1,{ 'a' : [ 1 ,2 ] }],'ack':7}"), codec.encode(packet));
    }

    /** The server relays arguments as written, so no number loses digits and no escape is rewritten. */
    @Test
    void keepsTheExactTextOfArgumentsFromDecodeToEncode() throws ProtocolException {
        String frame = "{\"type\":\"event\",\"event\":\"e\",\"args\":[1e400,12345678901234567890,\"\\u00e9\","
                + "-0.10,1E+02,\"\\ud83d\\ude00\",\"\\/\",{\"k\":\"\\u00E9\"}]}";
        Packet packet = codec.decode(frame);
        assertEquals(raw("1e400", "12345678901234567890", "\"\\u00e9\"", "-0.10", "1E+02", "\"\\ud83d\\ude00\"",
                "\"\\/\"", "{\"k\":\"\\u00E9\"}"), packet.args());
        assertEquals(frame, codec.encode(packet));
    }

    /** Names and strings the codec itself writes survive the trip: quotes, control characters, lone surrogates. */
    @Test
    void roundTripsPacketsWithAwkwardStrings() throws ProtocolException {
        String awkward = "q\"b\\s/n\nt\tu\u0001é😀\ud800";
        Packet packet = new Packet(EVENT, "/" + awkward, awkward, JsonMapper.toRawList(awkward, 1.5, List.of(1, 2)),
                JsonMapper.MAX_SAFE_INTEGER, awkward, Map.of(awkward, JsonMapper.toRaw(awkward)));
        assertEquals(packet, codec.decode(codec.encode(packet)));
    }

    @Test
    void ignoresUnknownFieldsAndKeepsThemAsWritten() throws ProtocolException {
        Packet packet = codec.decode(json("{'future':{'x':[1, 2]},'type':'event','event':'e','args':[],'z':null}"));
        assertEquals(new Packet(EVENT, null, "e", List.of(), 0, null, fields("future", "{'x':[1, 2]}", "z", "null")),
                packet);
    }

    @Test
    void readsStringFieldsUnescaped() throws ProtocolException {
        Packet packet = codec.decode("{\"type\":\"connect\",\"nsp\":\"/caf\\u00e9\",\"pid\":\"a\\\"b\",\"n\":1}");
        assertEquals("/café", packet.namespace());
        assertEquals("a\"b", packet.stringField("pid"));
        assertNull(packet.stringField("n"));
    }

    @Test
    void acceptsTheLimitsThemselves() throws ProtocolException {
        String name = "e".repeat(JsonWireCodec.MAX_EVENT_NAME_LENGTH);
        Packet packet = codec.decode(json("{'type':'event','event':'" + name + "','args':[" + zeros(256)
                + "],'ack':9007199254740991}"));
        assertEquals(name, packet.event());
        assertEquals(JsonWireCodec.MAX_ARGS, packet.args().size());
        assertEquals(JsonMapper.MAX_SAFE_INTEGER, packet.ackId());
        assertEquals("x", codec.decode(json("{'type':'event','event':'x'}")).event());
    }

    static Stream<Arguments> badFrames() {
        return Stream.of(
                arguments("{'type':'ack','ack':0,'args':[]}", ProtocolException.BAD_PACKET),
                arguments("{'type':'ack','ack':-1,'args':[]}", ProtocolException.BAD_PACKET),
                arguments("{'type':'ack','ack':9007199254740992,'args':[]}", ProtocolException.BAD_PACKET),
                arguments("{'type':'ack','ack':12345678901234567890,'args':[]}", ProtocolException.BAD_PACKET),
                arguments("{'type':'ack','ack':'1','args':[]}", ProtocolException.BAD_PACKET),
                arguments("{'type':'ack','ack':1.0,'args':[]}", ProtocolException.BAD_PACKET),
                arguments("{'type':'ack','ack':1e3,'args':[]}", ProtocolException.BAD_PACKET),
                arguments("{'type':'ack','ack':null,'args':[]}", ProtocolException.BAD_PACKET),
                arguments("{'type':'event','event':'e','ack':0}", ProtocolException.BAD_PACKET),
                arguments("{'type':'ack','args':[]}", ProtocolException.BAD_PACKET),
                arguments("{'type':'ping','nsp':1}", ProtocolException.BAD_PACKET),
                arguments("{'type':'ping','nsp':null}", ProtocolException.BAD_PACKET),
                arguments("{'type':'ping','nsp':['/']}", ProtocolException.BAD_PACKET),
                arguments("{'type':'ping','nsp':'chat'}", ProtocolException.BAD_PACKET),
                arguments("{'type':'ping','nsp':''}", ProtocolException.BAD_PACKET),
                arguments("{'type':'event','event':'e','args':{}}", ProtocolException.BAD_PACKET),
                arguments("{'type':'event','event':'e','args':'a'}", ProtocolException.BAD_PACKET),
                arguments("{'type':'event','event':'e','args':null}", ProtocolException.BAD_PACKET),
                arguments("{'type':'event','event':'e','args':[" + zeros(257) + "]}", ProtocolException.BAD_PACKET),
                arguments("{'type':'pong','offset':17}", ProtocolException.BAD_PACKET),
                arguments("{'type':1}", ProtocolException.BAD_PACKET),
                arguments("{'type':'nope'}", ProtocolException.BAD_PACKET),
                arguments("{'nsp':'/'}", ProtocolException.BAD_PACKET),
                arguments("{}", ProtocolException.BAD_PACKET),
                arguments("['type','ping']", ProtocolException.BAD_PACKET),
                arguments("", ProtocolException.BAD_PACKET),
                arguments("{'type':'ping'} {}", ProtocolException.BAD_PACKET),
                arguments("{'type':'ping',}", ProtocolException.BAD_PACKET),
                arguments("{'type':'ping','x':01}", ProtocolException.BAD_PACKET),
                arguments("{'type':'event','event':1}", ProtocolException.BAD_EVENT),
                arguments("{'type':'event','event':null}", ProtocolException.BAD_EVENT),
                arguments("{'type':'event','args':[]}", ProtocolException.BAD_EVENT),
                arguments("{'type':'event','event':''}", ProtocolException.BAD_EVENT),
                arguments("{'type':'event','event':'" + "e".repeat(129) + "'}", ProtocolException.BAD_EVENT));
    }

    @ParameterizedTest
    @MethodSource("badFrames")
    void refusesFramesThatBreakTheProtocol(String frame, String code) {
        ProtocolException refused = assertThrows(ProtocolException.class, () -> codec.decode(json(frame)));
        assertEquals(code, refused.code(), refused.getMessage());
    }

    static Stream<Arguments> framesWithAValueNestedInside() {
        return Stream.of(
                arguments("{'type':'event','event':'e','args':[%s]}", 2),
                arguments("{'type':'connect','auth':%s}", 1),
                arguments("{'type':'ack','ack':1,'error':{'data':%s}}", 2));
    }

    /** The bound counts every level of the frame, the packet object and the args array included. */
    @ParameterizedTest
    @MethodSource("framesWithAValueNestedInside")
    void nestingIsBoundedAt32LevelsOfTheWholeFrame(String frame, int levelsAround) throws ProtocolException {
        int deepestAllowed = JsonScanner.MAX_DEPTH - levelsAround;
        codec.decode(json(frame).formatted(nestedArrays(deepestAllowed)));
        ProtocolException refused = assertThrows(ProtocolException.class,
                () -> codec.decode(json(frame).formatted(nestedArrays(deepestAllowed + 1))));
        assertEquals(ProtocolException.BAD_PACKET, refused.code());
    }

    private static String json(String singleQuoted) {
        return singleQuoted.replace('\'', '"');
    }

    private static List<RawJson> raw(String... singleQuoted) {
        return Stream.of(singleQuoted).map(JsonWireCodecTest::rawJson).toList();
    }

    private static Map<String, RawJson> fields(String... namesAndValues) {
        Map<String, RawJson> fields = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            fields.put(namesAndValues[i], rawJson(namesAndValues[i + 1]));
        }
        return Collections.unmodifiableMap(fields);
    }

    private static RawJson rawJson(String singleQuoted) {
        try {
            return RawJson.of(json(singleQuoted));
        } catch (ProtocolException e) {
            throw new IllegalArgumentException(singleQuoted, e);
        }
    }

    private static String zeros(int count) {
        return String.join(",", Collections.nCopies(count, "0"));
    }

    @Test
    void stringArgumentsAreReadWithTheirEscapesAndOtherValuesStillFitOrFail() throws ProtocolException {
        assertEquals("a\"b\\é𝄞\n", JsonMapper.fromJson(RawJson.of("\"a\\\"b\\\\\\u00e9\\ud834\\udd1e\\n\""), String.class));
        assertEquals("r7", JsonMapper.fromJson(RawJson.of("\"r7\""), String.class));
        assertNull(JsonMapper.fromJson(RawJson.of("null"), String.class));
        assertThrows(IllegalArgumentException.class, () -> JsonMapper.fromJson(RawJson.of("{\"a\":1}"), String.class));
    }

    private static String nestedArrays(int levels) {
        return "[".repeat(levels) + "]".repeat(levels);
    }
}

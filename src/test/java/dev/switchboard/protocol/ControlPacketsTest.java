package dev.switchboard.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The control packets the core and the Java client build and read through the codec come out as
 * the frames of docs/PROTOCOL.md and read back as the records they were made from. Frames are
 * written with {@code '} for {@code "}.
 */
class ControlPacketsTest {
    private final Codec codec = new JsonWireCodec();

    @Test
    void hello() throws ProtocolException {
        Hello hello = new Hello(1, "Yc1", 25_000, 20_000, 1_048_576, 100.0, 200, List.of());
        String frame = codec.encode(codec.hello(hello));
        assertEquals(json("{'type':'hello','v':1,'sid':'Yc1','pingInterval':25000,'pingTimeout':20000,"
                + "'maxPayload':1048576,'eventsPerSecond':100.0,'eventBurst':200}"), frame);
        assertEquals(hello, codec.readHello(codec.decode(frame)));
    }

    @Test
    void aHelloMissingItsFieldsReadsAsTheDefaults() throws ProtocolException {
        Hello hello = codec.readHello(codec.decode(json("{'type':'hello','v':'one','pingTimeout':1.5}")));
        assertEquals(new Hello(-1, null, 25_000, 20_000, 0, 0.0, 0, List.of()), hello);
    }

    @Test
    void connectRequest() throws ProtocolException {
        ConnectRequest recovering = new ConnectRequest(RawJson.of(json("{'token':'s3cret'}")), "Q0x", "17");
        String frame = codec.encode(codec.connect("/chat", recovering));
        assertEquals(json("{'type':'connect','nsp':'/chat','offset':'17','auth':{'token':'s3cret'},'pid':'Q0x'}"), frame);
        assertEquals(recovering, codec.readConnect(codec.decode(frame)));

        Packet bare = codec.decode(codec.encode(codec.connect("/", new ConnectRequest(null, null, null))));
        assertEquals(json("{'type':'connect'}"), codec.encode(bare));
        assertEquals(new ConnectRequest(null, null, null), codec.readConnect(bare));
    }

    @Test
    void connectAnswer() throws ProtocolException {
        ConnectAnswer answer = new ConnectAnswer("k3Jd", "Q0x", true);
        String frame = codec.encode(codec.connected("/chat", answer));
        assertEquals(json("{'type':'connect','nsp':'/chat','id':'k3Jd','pid':'Q0x','recovered':true}"), frame);
        assertEquals(answer, codec.readConnected(codec.decode(frame)));
    }

    @Test
    void connectError() throws ProtocolException {
        ConnectRefusal refusal = new ConnectRefusal("not an admin", RawJson.of(json("{'retry':false}")));
        String frame = codec.encode(codec.connectError("/admin", refusal));
        assertEquals(json("{'type':'connect_error','nsp':'/admin','message':'not an admin','data':{'retry':false}}"), frame);
        assertEquals(refusal, codec.readConnectError(codec.decode(frame)));
        assertEquals(json("{'type':'connect_error','message':'Invalid namespace'}"),
                codec.encode(codec.connectError("/", new ConnectRefusal("Invalid namespace", null))));
    }

    @Test
    void error() throws ProtocolException {
        ErrorReport report = new ErrorReport(ProtocolException.BAD_EVENT, "ping is a reserved event name", 7);
        String frame = codec.encode(codec.error("/chat", report));
        assertEquals(json("{'type':'error','nsp':'/chat','code':'bad_event','message':'ping is a reserved event name','ack':7}"), frame);
        assertEquals(report, codec.readError(codec.decode(frame)));
    }

    @Test
    void disconnect() throws ProtocolException {
        String fromServer = codec.encode(codec.disconnect("/chat", DisconnectReason.SERVER_DISCONNECT));
        assertEquals(json("{'type':'disconnect','nsp':'/chat','reason':'server disconnect'}"), fromServer);
        assertEquals("server disconnect", codec.readDisconnect(codec.decode(fromServer)));

        String fromClient = codec.encode(codec.disconnect("/chat", null));
        assertEquals(json("{'type':'disconnect','nsp':'/chat'}"), fromClient);
        assertNull(codec.readDisconnect(codec.decode(fromClient)));
        assertEquals("moved away", codec.readDisconnect(codec.decode(json("{'type':'disconnect','reason':'moved away'}"))));
    }

    @Test
    void ackError() throws ProtocolException {
        String frame = codec.encode(codec.ackError("/chat", 3, "handler timed out"));
        assertEquals(json("{'type':'ack','nsp':'/chat','ack':3,'error':{'message':'handler timed out'}}"), frame);
        assertEquals(RawJson.of(json("{'message':'handler timed out'}")), codec.readAckError(codec.decode(frame)));
        assertNull(codec.readAckError(codec.decode(json("{'type':'ack','ack':3,'args':[]}"))));
    }

    @Test
    void messageId() throws ProtocolException {
        Packet event = Packet.event("/", "order", JsonMapper.toRawList("tea"), 4);
        String frame = codec.encode(codec.withMessageId(event, "c1-9"));
        assertEquals(json("{'type':'event','event':'order','args':['tea'],'ack':4,'msgId':'c1-9'}"), frame);
        assertEquals("c1-9", codec.messageId(codec.decode(frame)));
        assertNull(codec.messageId(event));
    }

    @Test
    void pongConfirmsAnOffsetOrNone() throws ProtocolException {
        String frame = codec.encode(codec.pong("17"));
        assertEquals(json("{'type':'pong','offset':'17'}"), frame);
        assertEquals("17", codec.confirmedOffset(codec.decode(frame)));
        assertNull(codec.confirmedOffset(codec.decode(codec.encode(codec.pong(null)))));
    }

    private static String json(String singleQuoted) {
        return singleQuoted.replace('\'', '"');
    }
}

package dev.switchboard.transport.grizzly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.client.ClientOptions;
import dev.switchboard.client.SwitchboardClient;
import dev.switchboard.protocol.DisconnectReason;
import dev.switchboard.server.Connection;
import dev.switchboard.server.Switchboard;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestCertificates;
import dev.switchboard.testing.TestServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The standalone server over TLS, with a CA and certificates made at run time: the Java client
 * and a Node {@code ws} client connect over {@code wss://} trusting only that CA; plain HTTP to
 * the TLS port and a handshake that stalls are dropped; a renewed certificate file is served
 * without a restart.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class TlsTest {
    private static TestCertificates ca;
    private static TestCertificates.Issued issued;

    @BeforeAll
    static void certificates() throws IOException {
        ca = TestCertificates.create();
        issued = ca.issue("server");
    }

    private static StandaloneServer start(TlsIdentity tls) {
        Switchboard switchboard = Switchboard.create(TestServer.options().build());
        switchboard.onConnection(socket -> socket.on("echo", event -> event.ack(event.arg(0, String.class))));
        return StandaloneServer.start(switchboard, StandaloneOptions.builder().webRoot(Path.of("webapp"))
                .headerTimeout(Duration.ofSeconds(1)).tls(tls).build());
    }

    private static String echoOverWss(StandaloneServer server) throws Exception {
        ClientOptions options = ClientOptions.builder().sslContext(ca.trustingContext()).build();
        try (SwitchboardClient client = SwitchboardClient.connect(server.webSocketUri(), options)) {
            return client.socket().emitWithAck("echo", "over wss").get(10, TimeUnit.SECONDS).get(0, String.class);
        }
    }

    /** A TLS connection trusting the test CA; the protocol it negotiated and the server's name. */
    private static String[] handshake(StandaloneServer server, String... protocols) throws IOException {
        try (SSLSocket socket = (SSLSocket) ca.trustingContext().getSocketFactory().createSocket("localhost", server.port())) {
            if (protocols.length > 0) {
                socket.setEnabledProtocols(protocols);
            }
            socket.startHandshake();
            java.security.cert.X509Certificate certificate = (java.security.cert.X509Certificate) socket.getSession().getPeerCertificates()[0];
            return new String[] {socket.getSession().getProtocol(), certificate.getSubjectX500Principal().getName()};
        }
    }

    @Test
    void theJavaClientConnectsOverWssAndPagesComeOverHttpsFromAPemChain() throws Exception {
        try (StandaloneServer server = start(TlsIdentity.pem(issued.chain(), issued.key()))) {
            assertEquals("wss", server.webSocketUri().getScheme());
            assertEquals("over wss", echoOverWss(server));
            HttpResponse<String> page = HttpClient.newBuilder().sslContext(ca.trustingContext()).build()
                    .send(HttpRequest.newBuilder(server.httpUri().resolve("switchboard.js")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, page.statusCode());
            assertTrue(page.body().contains("switchboard"));
        }
    }

    @Test
    void aPkcs12KeystoreServesTls12AndTls13() throws Exception {
        try (StandaloneServer server = start(TlsIdentity.pkcs12(issued.pkcs12(), issued.password()))) {
            assertEquals("TLSv1.3", handshake(server)[0]);
            assertEquals("TLSv1.2", handshake(server, "TLSv1.2")[0]);
            assertEquals("over wss", echoOverWss(server));
        }
    }

    @Test
    void aRenewedCertificateIsServedToNewConnectionsWithoutARestart() throws Exception {
        Path chain = Files.copy(issued.chain(), issued.chain().resolveSibling("live-chain.pem"), StandardCopyOption.REPLACE_EXISTING);
        Path key = Files.copy(issued.key(), issued.key().resolveSibling("live-key.pem"), StandardCopyOption.REPLACE_EXISTING);
        TestCertificates.Issued renewed = ca.issue("renewed");
        try (StandaloneServer server = start(TlsIdentity.pem(chain, key))) {
            assertTrue(handshake(server)[1].contains(issued.commonName()));
            Files.copy(renewed.key(), key, StandardCopyOption.REPLACE_EXISTING);
            Files.copy(renewed.chain(), chain, StandardCopyOption.REPLACE_EXISTING);
            // Another modification time even where the file system counts in whole seconds.
            FileTime later = FileTime.from(Instant.now().plusSeconds(5));
            Files.setLastModifiedTime(chain, later);
            Files.setLastModifiedTime(key, later);
            Await.until("the renewed certificate served", () -> {
                try {
                    return handshake(server)[1].contains(renewed.commonName());
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            });
            assertEquals("over wss", echoOverWss(server));
        }
    }

    @Test
    void aWssClientThatNeverReadsIsCutOffWhileAnotherGetsEveryFrame() throws Exception {
        long queueBound = 256 * 1024;
        BlockingQueue<DisconnectReason> reasons = new LinkedBlockingQueue<>();
        Switchboard switchboard = Switchboard.create(TestServer.options().sendQueueBytes(queueBound).build());
        switchboard.onConnection(socket -> {
            socket.join("feed");
            socket.onDisconnect(reasons::add);
            socket.on("echo", event -> event.ack(event.arg(0, String.class)));
        });
        try (StandaloneServer server = StandaloneServer.start(switchboard, StandaloneOptions.builder()
                     .tls(TlsIdentity.pem(issued.chain(), issued.key())).build());
             RawClient reader = RawClient.connect(server.webSocketUri(), ca.trustingContext());
             RawClient stalled = RawClient.connect(server.webSocketUri(), ca.trustingContext())) {
            reader.connectNamespace("/", null);
            stalled.connectNamespace("/", null);
            stalled.stopReading();
            // Not the sockets being registered: that happens before the connect answer, and the
            // connection listener joins the room only after it.
            Await.until("2 sockets in the feed", () -> switchboard.to("feed").count().join() == 2);

            // 16 MiB in all, far past the bound and what the kernel's buffers absorb; paced by the
            // reader, so only the client that never reads falls behind.
            int frames = 1000;
            String payload = "p".repeat(16 * 1024);
            int before = reader.framesReceived();
            long largestQueue = 0;
            for (int i = 0; i < frames; i++) {
                while (reader.framesReceived() - before < i - 8) {
                    Thread.onSpinWait();
                }
                switchboard.to("feed").emit("chunk", i, payload);
                for (Connection connection : switchboard.connections()) {
                    largestQueue = Math.max(largestQueue, connection.queuedBytes());
                }
            }
            for (int i = 0; i < frames; i++) {
                assertEquals(i, reader.next("event").getJsonArray("args").getInt(0));
            }
            assertEquals(DisconnectReason.SLOW_CONSUMER, reasons.poll(10, TimeUnit.SECONDS));
            assertTrue(largestQueue <= queueBound, "queued " + largestQueue + " bytes");
            // What the kernel held is read, then the connection ends: the server let it go.
            stalled.discardFrames();
            stalled.resumeReading();
            stalled.awaitClose();
            assertEquals(1, switchboard.root().sockets().size());
            assertEquals("over wss", echoOverWss(server));
        }
    }

    @Test
    void aBrokenCertificateFileFailsTheStartWithItsName() throws IOException {
        Path notAKey = Files.writeString(Files.createTempFile("not-a-key", ".pem"), "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n");
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> start(TlsIdentity.pem(issued.chain(), notAKey)).close());
        assertTrue(error.getMessage().contains(notAKey.toString()) && error.getMessage().contains("openssl pkcs8"), error.getMessage());
    }

    @Test
    void plainHttpToTheTlsPortAndAStalledHandshakeAreDroppedWithoutHarm() throws Exception {
        try (StandaloneServer server = start(TlsIdentity.pem(issued.chain(), issued.key()));
             Socket plain = new Socket(InetAddress.getLoopbackAddress(), server.port());
             Socket stalled = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            plain.getOutputStream().write("GET /switchboard.js HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            plain.setSoTimeout(10_000);
            String answer = readToEnd(plain);
            assertFalse(answer.contains("HTTP/1.1"), "answered in plain HTTP: " + answer);
            // Half a ClientHello, then nothing: the header timeout (1 s here) covers the handshake.
            stalled.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01});
            stalled.setSoTimeout(10_000);
            readToEnd(stalled);
            Await.until("nothing pending", () -> server.pendingConnections() == 0);
            assertEquals("over wss", echoOverWss(server));
        }
    }

    /**
     * A client that renegotiates TLS 1.2 over and over on an upgraded WebSocket makes the server
     * do a full handshake each time, a signature with its key, with no deadline and no cap (the
     * header timeout is over, the heartbeat only asks for pongs). OpenSSL's client asks for one
     * at each line {@code R}, 50 of them here: the connection is dropped at the first, as nginx does.
     */
    @Test
    void aClientThatRenegotiatesTls12IsDroppedAtItsFirstRenegotiation() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/openssl")), "openssl is not installed");
        try (StandaloneServer server = start(TlsIdentity.pem(issued.chain(), issued.key()))) {
            String upgrade = "GET /switchboard HTTP/1.1\\r\\nHost: localhost\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n";
            Process client = new ProcessBuilder("bash", "-c", "(sleep 0.3; printf '" + upgrade + "'; sleep 1; "
                    + "for i in $(seq 50); do echo R; sleep 0.02; done; sleep 1) | openssl s_client -tls1_2 -connect 127.0.0.1:"
                    + server.port() + " -CAfile " + ca.caPem()).redirectErrorStream(true).start();
            String output = new String(client.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(client.waitFor(30, TimeUnit.SECONDS));
            assertTrue(output.contains("HTTP/1.1 101") && output.contains("RENEGOTIATING"), output);
            // Each handshake verifies the server's certificate and the CA's.
            assertEquals(2, output.split("verify return:1", -1).length - 1, "handshakes: the first alone");
            assertEquals("over wss", echoOverWss(server));
        }
    }

    private static String readToEnd(Socket socket) throws IOException {
        try {
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        } catch (SocketException e) {
            return "(reset)";
        }
    }

    @Test
    void aNodeWsClientConnectsOverWssTrustingTheTestCa() throws Exception {
        Path script = Path.of("src", "test", "node", "wss-client.mjs");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(Path.of("src", "test", "node", "node_modules", "ws")),
                "no ws module: run npm ci in src/test/node (.ci/run does)");
        try (StandaloneServer server = start(TlsIdentity.pem(issued.chain(), issued.key()))) {
            Process node = new ProcessBuilder("node", script.toString(), server.webSocketUri().toString(), ca.caPem().toString())
                    .redirectErrorStream(true).start();
            String output = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(node.waitFor(20, TimeUnit.SECONDS));
            assertEquals(0, node.exitValue(), output);
            assertTrue(output.contains("\"args\":[\"over wss from node\"]"), output);
            System.out.println("node ws client over wss: " + output.trim());
        }
    }
}

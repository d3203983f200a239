package dev.switchboard.transport.grizzly;

import dev.switchboard.server.TrustedProxies;
import dev.switchboard.transport.Forwarding;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.glassfish.grizzly.Buffer;
import org.glassfish.grizzly.Connection;
import org.glassfish.grizzly.Grizzly;
import org.glassfish.grizzly.attributes.Attribute;
import org.glassfish.grizzly.filterchain.BaseFilter;
import org.glassfish.grizzly.filterchain.FilterChainBuilder;
import org.glassfish.grizzly.filterchain.FilterChainContext;
import org.glassfish.grizzly.filterchain.NextAction;
import org.glassfish.grizzly.filterchain.TransportFilter;
import org.glassfish.grizzly.http.HttpRequestPacket;
import org.glassfish.grizzly.http.server.AddOn;
import org.glassfish.grizzly.http.server.NetworkListener;

/**
 * The PROXY protocol (versions 1 and 2, HAProxy's) for TCP load balancers that cannot add HTTP
 * headers (they pass TLS through, for one): a connection from a trusted proxy starts with a
 * header naming the client, which becomes the connection's client address; a trusted proxy's
 * connection without one is dropped. Anyone else's connection is taken at its own address, and
 * a PROXY header from it is just bytes the HTTP parser refuses: nobody else can name a client.
 * The client a header names is told to {@link PendingConnections#named}, which holds it to its
 * own share of half-open connections. A version 2 header may also say that the client came over
 * TLS, which the balancer ended (its SSL field, as HAProxy's {@code send-proxy-v2-ssl} sends it):
 * the request then counts as secure, for the Origin check, as behind a proxy that says
 * {@code X-Forwarded-Proto: https}.
 * It sits in front of TLS, as the header comes before the handshake.
 */
final class ProxyProtocol implements AddOn {
    /** The client address a PROXY header named, for {@link #clientAddress}. */
    private static final Attribute<String> CLIENT =
            Grizzly.DEFAULT_ATTRIBUTE_BUILDER.createAttribute(ProxyProtocol.class.getName() + ".client");
    /** Set when the header said the client came over TLS, for {@link #client}. */
    private static final Attribute<Boolean> TLS =
            Grizzly.DEFAULT_ATTRIBUTE_BUILDER.createAttribute(ProxyProtocol.class.getName() + ".tls");
    /** Set once a connection's header is read, or when it needs none. */
    private static final Attribute<Boolean> DONE =
            Grizzly.DEFAULT_ATTRIBUTE_BUILDER.createAttribute(ProxyProtocol.class.getName() + ".done");
    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final byte[] V1_PREFIX = "PROXY ".getBytes(StandardCharsets.US_ASCII);
    /** A version 1 header is at most 107 bytes; version 2 headers we take up to this size, TLVs included. */
    private static final int V1_MAX = 107;
    private static final int V2_MAX = 16 + 1024;
    /** PP2_TYPE_SSL: the client's connection to the balancer, whose first byte holds PP2_CLIENT_SSL. */
    private static final int TLV_SSL = 0x20;
    private static final int CLIENT_SSL = 0x01;

    private final TrustedProxies proxies;
    private final PendingConnections pending;

    ProxyProtocol(TrustedProxies proxies, PendingConnections pending) {
        this.proxies = proxies;
        this.pending = pending;
    }

    /** The client a PROXY header named on this connection, or {@code null} if none did. */
    static String clientAddress(Connection<?> connection) {
        return CLIENT.get(connection);
    }

    /**
     * Who sent {@code request} on {@code connection}: the client its balancer's PROXY header
     * named (over TLS if the header says so), or else the peer; then, behind a trusted proxy, the
     * one the forwarding headers name.
     */
    static Forwarding.Client client(Connection<?> connection, HttpRequestPacket request, TrustedProxies proxies) {
        String proxied = clientAddress(connection);
        return Forwarding.resolve(proxied != null ? proxied : request.getRemoteAddress(),
                request.isSecure() || TLS.isSet(connection), request.getHeader("Host"),
                name -> headerValues(request, name), proxies);
    }

    private static List<String> headerValues(HttpRequestPacket request, String name) {
        List<String> values = new ArrayList<>();
        request.getHeaders().values(name).forEach(values::add);
        return values;
    }

    @Override
    public void setup(NetworkListener listener, FilterChainBuilder builder) {
        builder.add(builder.indexOfType(TransportFilter.class) + 1, new Filter());
    }

    private final class Filter extends BaseFilter {
        @Override
        public NextAction handleRead(FilterChainContext ctx) throws IOException {
            Connection<?> connection = ctx.getConnection();
            if (DONE.isSet(connection)) {
                return ctx.getInvokeAction();
            }
            if (!(connection.getPeerAddress() instanceof InetSocketAddress peer) || !proxies.trusts(peer.getAddress())) {
                DONE.set(connection, Boolean.TRUE);
                return ctx.getInvokeAction();
            }
            Buffer buffer = ctx.getMessage();
            byte[] start = new byte[Math.min(buffer.remaining(), V2_MAX)];
            for (int i = 0; i < start.length; i++) {
                start[i] = buffer.get(buffer.position() + i);
            }
            Header header = parse(start);
            if (header == Header.INCOMPLETE) {
                // Kept and read again with the next bytes; the header timeout bounds the wait.
                return ctx.getStopAction(buffer);
            }
            if (header == null) {
                connection.terminateSilently();
                return ctx.getStopAction();
            }
            DONE.set(connection, Boolean.TRUE);
            if (header.tls()) {
                TLS.set(connection, Boolean.TRUE);
            }
            if (header.client() != null) {
                CLIENT.set(connection, header.client());
                if (!pending.named(connection, header.client())) {
                    connection.terminateSilently();
                    return ctx.getStopAction();
                }
            }
            buffer.position(buffer.position() + header.length());
            return buffer.hasRemaining() ? ctx.getInvokeAction() : ctx.getStopAction();
        }
    }

    /**
     * A header read: its length in bytes, the client it names ({@code null} for a header that
     * names none: a health check's {@code LOCAL}, {@code UNKNOWN}), and whether that client came
     * over TLS.
     */
    record Header(int length, String client, boolean tls) {
        static final Header INCOMPLETE = new Header(-1, null, false);

        Header(int length, String client) {
            this(length, client, false);
        }
    }

    /** The header at the start of {@code bytes}, {@link Header#INCOMPLETE}, or {@code null} when there is none or it is bad. */
    static Header parse(byte[] bytes) {
        if (startsWith(bytes, V2_SIGNATURE)) {
            return parseV2(bytes);
        }
        if (startsWith(bytes, V1_PREFIX)) {
            return parseV1(bytes);
        }
        return isStartOf(bytes, V2_SIGNATURE) || isStartOf(bytes, V1_PREFIX) ? Header.INCOMPLETE : null;
    }

    private static Header parseV1(byte[] bytes) {
        int end = -1;
        for (int i = 0; i + 1 < Math.min(bytes.length, V1_MAX); i++) {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n') {
                end = i;
                break;
            }
        }
        if (end < 0) {
            return bytes.length < V1_MAX ? Header.INCOMPLETE : null;
        }
        String[] fields = new String(bytes, 0, end, StandardCharsets.US_ASCII).split(" ");
        if (fields.length >= 2 && fields[1].equals("UNKNOWN")) {
            return new Header(end + 2, null);
        }
        if (fields.length != 6 || !(fields[1].equals("TCP4") || fields[1].equals("TCP6")) || !TrustedProxies.isAddress(fields[2])) {
            return null;
        }
        return new Header(end + 2, fields[2]);
    }

    private static Header parseV2(byte[] bytes) {
        if (bytes.length < 16) {
            return Header.INCOMPLETE;
        }
        int versionAndCommand = bytes[12] & 0xff;
        int family = (bytes[13] & 0xf0) >> 4;
        int length = ((bytes[14] & 0xff) << 8) | (bytes[15] & 0xff);
        if (versionAndCommand >> 4 != 2 || 16 + length > V2_MAX) {
            return null;
        }
        if (bytes.length < 16 + length) {
            return Header.INCOMPLETE;
        }
        boolean local = (versionAndCommand & 0x0f) == 0;
        int addressBytes = family == 1 ? 4 : family == 2 ? 16 : 0;
        if (local || addressBytes == 0) {
            return new Header(16 + length, null);
        }
        if (length < 2 * addressBytes + 4) {
            return null;
        }
        try {
            String client = InetAddress.getByAddress(Arrays.copyOfRange(bytes, 16, 16 + addressBytes)).getHostAddress();
            return new Header(16 + length, client, overTls(bytes, 16 + 2 * addressBytes + 4, 16 + length));
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** Whether the fields from {@code start} to {@code end} hold an SSL field saying the client used TLS. */
    private static boolean overTls(byte[] bytes, int start, int end) {
        int at = start;
        while (at + 3 <= end) {
            int type = bytes[at] & 0xff;
            int length = ((bytes[at + 1] & 0xff) << 8) | (bytes[at + 2] & 0xff);
            if (type == TLV_SSL && length >= 1 && at + 3 + length <= end) {
                return (bytes[at + 3] & CLIENT_SSL) != 0;
            }
            at += 3 + length;
        }
        return false;
    }

    /** Whether {@code bytes}, shorter than {@code prefix}, are how it starts: a header still coming. */
    private static boolean isStartOf(byte[] bytes, byte[] prefix) {
        return bytes.length < prefix.length && Arrays.equals(bytes, 0, bytes.length, prefix, 0, bytes.length);
    }

    private static boolean startsWith(byte[] bytes, byte[] prefix) {
        return bytes.length >= prefix.length && Arrays.equals(bytes, 0, prefix.length, prefix, 0, prefix.length);
    }
}

package dev.switchboard.transport.grizzly;

import javax.net.ssl.SSLEngine;
import org.glassfish.grizzly.Connection;
import org.glassfish.grizzly.Grizzly;
import org.glassfish.grizzly.attributes.Attribute;
import org.glassfish.grizzly.filterchain.FilterChainBuilder;
import org.glassfish.grizzly.http.server.AddOn;
import org.glassfish.grizzly.http.server.NetworkListener;
import org.glassfish.grizzly.ssl.SSLBaseFilter;
import org.glassfish.grizzly.ssl.SSLUtils;

/**
 * Drops a connection whose client starts a TLS 1.2 handshake again after the first. Each
 * renegotiation costs the server a full handshake, a signature with its key, and an upgraded
 * WebSocket has no deadline that would end a client asking for one after another (the JDK
 * accepts them unless {@code jdk.tls.rejectClientInitiatedRenegotiation} is set for the whole
 * JVM). Nothing this server serves needs one; nginx refuses them too. TLS 1.3 has no
 * renegotiation, and what it sends after its handshake (a key update) is cheap and kept.
 */
final class NoRenegotiation implements AddOn {
    private static final Attribute<Boolean> HANDSHAKEN =
            Grizzly.DEFAULT_ATTRIBUTE_BUILDER.createAttribute(NoRenegotiation.class.getName() + ".handshaken");

    @Override
    public void setup(NetworkListener listener, FilterChainBuilder builder) {
        int tls = builder.indexOfType(SSLBaseFilter.class);
        if (tls >= 0) {
            ((SSLBaseFilter) builder.get(tls)).addHandshakeListener(new Listener());
        }
    }

    private static final class Listener implements SSLBaseFilter.HandshakeListener {
        @Override
        public void onStart(Connection<?> connection) {
            SSLEngine engine = SSLUtils.getSSLEngine(connection);
            if (HANDSHAKEN.isSet(connection) && engine != null && !"TLSv1.3".equals(engine.getSession().getProtocol())) {
                connection.terminateSilently();
            }
        }

        @Override
        public void onComplete(Connection<?> connection) {
            HANDSHAKEN.set(connection, Boolean.TRUE);
        }

        @Override
        public void onFailure(Connection<?> connection, Throwable cause) {
            // The connection fails with its handshake.
        }
    }
}

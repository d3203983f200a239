package dev.switchboard.transport.grizzly;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.glassfish.grizzly.Buffer;
import org.glassfish.grizzly.Connection;
import org.glassfish.grizzly.Grizzly;
import org.glassfish.grizzly.attributes.Attribute;
import org.glassfish.grizzly.filterchain.BaseFilter;
import org.glassfish.grizzly.filterchain.Filter;
import org.glassfish.grizzly.filterchain.FilterChainBuilder;
import org.glassfish.grizzly.filterchain.FilterChainContext;
import org.glassfish.grizzly.filterchain.NextAction;
import org.glassfish.grizzly.http.HttpContent;
import org.glassfish.grizzly.http.HttpRequestPacket;
import org.glassfish.grizzly.http.HttpServerFilter;
import org.glassfish.grizzly.http.Method;
import org.glassfish.grizzly.http.Protocol;
import org.glassfish.grizzly.http.server.AddOn;
import org.glassfish.grizzly.http.server.NetworkListener;

/**
 * Tyrus's add-on with one change: once a connection has upgraded, Grizzly's HTTP codec lets go of
 * the upgrade's request and response, and the connection's bytes go past the codec straight to
 * Tyrus. Left alone, the codec keeps that request (and with it the response, their headers and
 * buffers: about 8 KB) for the life of every WebSocket, because it hands each frame up as more
 * content of the upgrade request.
 *
 * <p>Two filters: {@link Handshakes} in Tyrus's place, which runs Tyrus's filter and, when Tyrus
 * answered the upgrade with 101, removes the request from the connection (the codec's public
 * {@link HttpServerFilter#HTTP_SERVER_REQUEST_ATTR_NAME}) and marks the connection; and
 * {@link Frames} right before the codec, which hands a marked connection's bytes to Tyrus's filter
 * as the codec would have, wrapped in content of a stand-in request that Tyrus does not read, and
 * unmasked first ({@link ClientFrames}); a frame the client did not mask ends the connection with
 * 1002 (RFC 6455, 5.1), which Tyrus alone would not. A read that starts where a message starts
 * gives its leading whole text frames to the endpoint past Tyrus ({@link WholeTextFrames}), and
 * Tyrus the rest.
 *
 * <p>Threads: Grizzly's reading threads, one at a time per connection, as for any filter.
 */
final class UpgradeRelease implements AddOn {
    /**
     * Set once Tyrus owns the connection and the codec has let go of its upgrade request: the
     * client's frames from then on, unmasked before Tyrus reads them, and its whole text frames
     * read past Tyrus where the upgrade set that up.
     */
    private static final Attribute<Upgraded> WEBSOCKET =
            Grizzly.DEFAULT_ATTRIBUTE_BUILDER.createAttribute(UpgradeRelease.class.getName() + ".webSocket");
    /** What each frame's content claims to belong to; Tyrus only takes the content from it. Never changed. */
    private static final HttpRequestPacket STAND_IN = HttpRequestPacket.builder()
            .method(Method.GET).uri("/").protocol(Protocol.HTTP_1_1).build();

    private final AddOn tyrus;

    /** @param texts null when the upgrade did not set up reading whole text frames ({@link UpgradeGuard}) */
    private record Upgraded(ClientFrames frames, WholeTextFrames texts) {
    }

    /** @param tyrus Tyrus's own add-on, which puts its filter right before Grizzly's HTTP server filter */
    UpgradeRelease(AddOn tyrus) {
        this.tyrus = tyrus;
    }

    /** Whether Tyrus owns {@code connection}: it has answered its upgrade with 101. */
    static boolean isWebSocket(Connection<?> connection) {
        return WEBSOCKET.isSet(connection);
    }

    @Override
    public void setup(NetworkListener listener, FilterChainBuilder builder) {
        tyrus.setup(listener, builder);
        int tyrusIndex = builder.indexOfType(org.glassfish.grizzly.http.server.HttpServerFilter.class) - 1;
        Filter tyrusFilter = builder.get(tyrusIndex);
        if (!tyrusFilter.getClass().getName().startsWith("org.glassfish.tyrus.")) {
            throw new IllegalStateException("unsupported Tyrus version: its filter is not where its add-on puts it");
        }
        builder.set(tyrusIndex, new Handshakes(tyrusFilter));
        builder.add(builder.indexOfType(HttpServerFilter.class), new Frames(tyrusFilter));
    }

    /** A filter that hands reads to Tyrus's. */
    private abstract static class ToTyrus extends BaseFilter {
        final Filter tyrus;

        ToTyrus(Filter tyrus) {
            this.tyrus = tyrus;
        }
    }

    /** Tyrus's filter, and the codec's release of the upgrade request once Tyrus has taken the connection. */
    private static final class Handshakes extends ToTyrus {
        Handshakes(Filter tyrus) {
            super(tyrus);
        }

        @Override
        public NextAction handleRead(FilterChainContext ctx) throws IOException {
            NextAction next = tyrus.handleRead(ctx);
            if (ctx.getMessage() instanceof HttpContent content
                    && content.getHttpHeader() instanceof HttpRequestPacket request
                    && request.getResponse().getStatus() == 101) {
                Connection<?> connection = ctx.getConnection();
                connection.getAttributes().removeAttribute(HttpServerFilter.HTTP_SERVER_REQUEST_ATTR_NAME);
                WholeTextFrames texts = WholeTextFrames.of(connection);
                ClientFrames frames = texts == null ? new ClientFrames() : new ClientFrames(texts.maxPayload());
                WEBSOCKET.set(connection, new Upgraded(frames, texts));
            }
            return next;
        }

        @Override
        public NextAction handleClose(FilterChainContext ctx) throws IOException {
            return tyrus.handleClose(ctx);
        }
    }

    /**
     * Before the codec: an upgraded connection's bytes go to Tyrus's filter, and no further. Tyrus
     * keeps what a read leaves of an incomplete frame and appends the next read to it, and fails
     * the connection (1011) when the two together exceed its incoming buffer, which is sized for
     * one frame ({@link StandaloneServer}): a read of the socket's whole receive buffer behind a
     * large partial frame would exceed it. So Tyrus gets the bytes {@link #SLICE} at a time.
     */
    static final class Frames extends ToTyrus {
        /** The most Tyrus is handed at once; {@link StandaloneServer} leaves this much room above a frame. */
        static final int SLICE = 16 * 1024;

        Frames(Filter tyrus) {
            super(tyrus);
        }

        @Override
        public NextAction handleRead(FilterChainContext ctx) throws IOException {
            Upgraded upgraded = WEBSOCKET.get(ctx.getConnection());
            if (upgraded == null) {
                return ctx.getInvokeAction();
            }
            ClientFrames frames = upgraded.frames();
            boolean refusedBefore = frames.refused();
            boolean tooBigBefore = frames.tooBig();
            boolean atMessageStart = frames.atMessageStart();
            Buffer bytes = frames.unmask(ctx.getMessage());
            if (atMessageStart && upgraded.texts() != null) {
                upgraded.texts().deliver(bytes);
            }
            while (bytes != null && bytes.hasRemaining()) {
                Buffer rest = bytes.remaining() > SLICE ? bytes.split(bytes.position() + SLICE) : null;
                ctx.setMessage(HttpContent.builder(STAND_IN).content(bytes).build());
                tyrus.handleRead(ctx);
                bytes = rest;
            }
            if (frames.refused() && !refusedBefore) {
                closeWithProtocolError(ctx.getConnection());
            }
            if (frames.tooBig() && !tooBigBefore && !upgraded.texts().refuseTooBig()) {
                // No endpoint to close it with 1009: nothing more of it can be read.
                ctx.getConnection().closeSilently();
            }
            // Tyrus passes on what it no longer owns (a connection it closed): the codec must not
            // take frames for HTTP, so nothing goes further.
            return ctx.getStopAction();
        }

        /**
         * Ends a connection whose client sent a frame without a mask: a close frame with 1002, then
         * the connection, which Tyrus reports to the endpoint as any connection that ended. Behind
         * what the client sent before, in its inbox, so that those messages are answered first.
         */
        private static void closeWithProtocolError(Connection<?> connection) {
            Runnable close = () -> {
                ByteBuffer frame = ByteBuffer.wrap(new byte[] {(byte) 0x88, 2, (byte) (1002 >> 8), (byte) 1002});
                new GrizzlyFrameWriter(connection).write(new ByteBuffer[] {frame}, written -> connection.closeSilently());
            };
            WorkerInbox inbox = WorkerInbox.of(connection);
            if (inbox != null) {
                inbox.submit(0, close);
            } else {
                close.run();
            }
        }
    }
}

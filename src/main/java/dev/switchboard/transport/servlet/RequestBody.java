package dev.switchboard.transport.servlet;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.function.Consumer;

/**
 * A suspended request's body, read as it arrives rather than by a blocking read: a body that
 * trickles in or never comes would hold a container thread, for as long as the bytes keep coming
 * or until the container's read timeout ends a read. That timeout, or the client going away, ends
 * such a request here, with nothing handed on.
 *
 * <pre>{@code
 * AsyncContext async = request.startAsync();
 * RequestBody.read(request.getInputStream(), async, limit, body -> answer(body.length > limit ? tooLarge() : handle(body)));
 * }</pre>
 */
final class RequestBody {
    private static final int CHUNK = 8192;

    private RequestBody() {
    }

    /**
     * Reads the body and hands it to {@code read} on a container thread: whole, or as soon as it
     * is past {@code limit} (one chunk past it at most, enough to answer "too large"; the rest is
     * left unread for the container to discard). {@code read} then answers the request and
     * completes {@code async}.
     */
    static void read(ServletInputStream in, AsyncContext async, long limit, Consumer<byte[]> read) {
        in.setReadListener(new ReadListener() {
            private final ByteArrayOutputStream body = new ByteArrayOutputStream();
            private final byte[] chunk = new byte[CHUNK];
            /** Whether the body was handed on; the callbacks run one at a time. */
            private boolean handedOn;

            @Override
            public void onDataAvailable() throws IOException {
                // Reading until isReady() says no asks the container to call again when more arrives.
                while (!handedOn && in.isReady()) {
                    int count = in.read(chunk);
                    if (count < 0) {
                        return;
                    }
                    body.write(chunk, 0, count);
                    if (body.size() > limit) {
                        handOn();
                    }
                }
            }

            @Override
            public void onAllDataRead() {
                if (!handedOn) {
                    handOn();
                }
            }

            @Override
            public void onError(Throwable failure) {
                // The client went away mid-body, or the container's timeout ended the read.
                // Completing frees the request; where the connection is still open (Jetty answers
                // a timed-out read) the answer must not be a 200.
                if (!handedOn) {
                    handedOn = true;
                    try {
                        ((HttpServletResponse) async.getResponse()).setStatus(HttpServletResponse.SC_BAD_REQUEST);
                        async.complete();
                    } catch (IllegalStateException e) {
                        // The container's own timeout ended the request first.
                    }
                }
            }

            private void handOn() {
                handedOn = true;
                read.accept(body.toByteArray());
            }
        });
    }
}

package dev.switchboard.transport.grizzly;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.function.Consumer;
import org.glassfish.grizzly.ReadHandler;
import org.glassfish.grizzly.http.io.NIOInputStream;
import org.glassfish.grizzly.http.server.Request;
import org.glassfish.grizzly.http.server.Response;

/**
 * A suspended request's body, read as it arrives rather than by a blocking read: a body that
 * trickles in or never comes (a client or backend gone mid-request) would otherwise hold one of
 * Grizzly's few worker threads, which read every request and upgrade and run the WebSockets'
 * listeners, until the idle timeout drops its connection. Taking the stream also keeps Grizzly
 * from reading a form-encoded body for the parameters.
 *
 * <pre>{@code
 * response.suspend();
 * RequestBody.read(request, response, limit, body -> answer(body.length > limit ? tooLarge() : handle(body)));
 * }</pre>
 */
final class RequestBody {
    private static final int CHUNK = 8192;

    private RequestBody() {
    }

    /**
     * Reads the body of {@code request}, whose response is suspended, and hands it to {@code read}
     * on the thread that completed it: whole, or as soon as it is past {@code limit} (one chunk
     * past it at most, enough to answer "too large"). A client that goes away first is answered
     * nothing: the response is resumed.
     */
    static void read(Request request, Response response, long limit, Consumer<byte[]> read) {
        NIOInputStream input = request.getNIOInputStream();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        input.notifyAvailable(new ReadHandler() {
            private final byte[] chunk = new byte[CHUNK];

            @Override
            public void onDataAvailable() throws IOException {
                if (readReady()) {
                    input.notifyAvailable(this);
                }
            }

            @Override
            public void onAllDataRead() throws IOException {
                if (readReady()) {
                    read.accept(body.toByteArray());
                }
            }

            @Override
            public void onError(Throwable failure) {
                response.resume();
            }

            /** Reads what has arrived; false once past the limit, when the body has been handed over. */
            private boolean readReady() throws IOException {
                while (input.isReady() && body.size() <= limit) {
                    int count = input.read(chunk);
                    if (count < 0) {
                        break;
                    }
                    body.write(chunk, 0, count);
                }
                if (body.size() > limit) {
                    read.accept(body.toByteArray());
                    return false;
                }
                return true;
            }
        });
    }
}

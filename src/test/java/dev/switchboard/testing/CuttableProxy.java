package dev.switchboard.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A loopback TCP forwarder standing in for the network: {@link #cut()} resets every connection
 * through it at once, as a dropped Wi-Fi or a dead NAT would, while new connections still pass.
 */
public final class CuttableProxy implements AutoCloseable {
    private final ServerSocket listener;
    /** Where new connections go; the accepting thread reads it. */
    private volatile int targetPort;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Set<Socket> silenced = ConcurrentHashMap.newKeySet();
    /** The client-facing ends of the connections. */
    private final Set<Socket> clientEnds = ConcurrentHashMap.newKeySet();
    private volatile boolean refusing;
    /** Whether bytes wait in the proxy instead of passing; guarded by {@code holdLock}. */
    private boolean holding;
    /** Whether only what servers send waits (a link that stalls one way); guarded by {@code holdLock}. */
    private boolean holdingToClients;
    private final Object holdLock = new Object();

    public CuttableProxy(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptLoop, "proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** The WebSocket URI of the server behind this proxy. */
    public java.net.URI webSocketUri() {
        return java.net.URI.create("ws://127.0.0.1:" + port() + "/switchboard");
    }

    /** Sends the connections made from now on to another server (a load balancer that picked another node). */
    public void retarget(int port) {
        targetPort = port;
    }

    /** Resets every connection through the proxy (RST, no close handshake). */
    public void cut() {
        for (Socket socket : open) {
            reset(socket);
        }
    }

    /**
     * The connections open now stop carrying bytes either way, with no reset: a network gone
     * dark (a half-open link), which only heartbeats notice. New connections pass.
     */
    public void silence() {
        silenced.addAll(open);
    }

    /**
     * The client loses its connections at once (reset) while the server's ends go dark: a phone
     * that switched networks comes back before the server could notice that it left.
     */
    public void dropClientSide() {
        for (Socket socket : open) {
            if (!clientEnds.contains(socket)) {
                silenced.add(socket);
            }
        }
        for (Socket socket : open) {
            if (clientEnds.contains(socket)) {
                reset(socket);
            }
        }
    }

    /**
     * The connections stop carrying bytes either way, and keep them: a network that stalls and
     * heals before TCP gives up. {@link #release()} sends them on, in order.
     */
    public void hold() {
        synchronized (holdLock) {
            holding = true;
        }
    }

    /** Like {@link #hold()}, for the bytes servers send alone: what clients send still passes. */
    public void holdToClients() {
        synchronized (holdLock) {
            holdingToClients = true;
        }
    }

    /** Sends on what {@link #hold()} or {@link #holdToClients()} kept, and whatever comes next. */
    public void release() {
        synchronized (holdLock) {
            holding = false;
            holdingToClients = false;
            holdLock.notifyAll();
        }
    }

    private void awaitRelease(boolean toClient) throws InterruptedIOException {
        synchronized (holdLock) {
            while (holding || (toClient && holdingToClients)) {
                try {
                    holdLock.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while held");
                }
            }
        }
    }

    /** While refusing, new connections are reset at once: the server looks unreachable. */
    public void refuse(boolean value) {
        refusing = value;
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                open.add(client);
                clientEnds.add(client);
                // Checked once a cut would find it: a connection accepted just as refuse() and
                // cut() run is reset by one or the other.
                if (refusing) {
                    reset(client);
                    continue;
                }
                Socket server = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                open.add(server);
                pump(client, server);
                pump(server, client);
            } catch (IOException e) {
                if (listener.isClosed()) {
                    return;
                }
            }
        }
    }

    private void pump(Socket from, Socket to) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            // Streams are not closed here: closing one would close its socket, and a dark link
            // must not pass on even the end of the connection.
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                boolean toClient = clientEnds.contains(to);
                for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                    awaitRelease(toClient);
                    if (!silenced.contains(from)) {
                        out.write(buffer, 0, n);
                    }
                }
            } catch (IOException ignored) {
                // one side went away: the other is reset below
            } finally {
                boolean dark = silenced.contains(from) || silenced.contains(to);
                reset(from);
                if (!dark) {
                    reset(to);
                }
            }
        }, "proxy-pump");
        thread.setDaemon(true);
        thread.start();
    }

    private void reset(Socket socket) {
        open.remove(socket);
        silenced.remove(socket);
        clientEnds.remove(socket);
        try {
            socket.setSoLinger(true, 0);
            socket.close();
        } catch (SocketException ignored) {
            // already closed
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() throws IOException {
        release();
        listener.close();
        cut();
    }

}

package dev.switchboard.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * A real nginx in front of test servers, run as the test's user: its pid, logs and temporary
 * files in a folder of its own, in the foreground, one process. The proxy configuration is the
 * one docs/DEPLOY.md shows, with the test's ports put in, so that the documented setup is the
 * tested one.
 */
public final class Nginx implements AutoCloseable {
    private static final Path BINARY = Path.of("/usr/sbin/nginx");
    private static final Path DOCUMENTED = Path.of("docs", "DEPLOY.md");

    private final Process process;
    private final int port;
    private final Path folder;

    private Nginx(Process process, int port, Path folder) {
        this.process = process;
        this.port = port;
        this.folder = folder;
    }

    /** Skips the calling test with a hint when nginx is not installed; in CI ({@code CI=true}) that is a failure. */
    public static void assumeInstalled() {
        String hint = "nginx is not installed: apt-get install nginx";
        if (!Files.isExecutable(BINARY) && "true".equals(System.getenv("CI"))) {
            throw new AssertionError(hint);
        }
        Assumptions.assumeTrue(Files.isExecutable(BINARY), hint);
    }

    /** Starts nginx with the configuration of docs/DEPLOY.md, its upstreams made of {@code nodePorts}. */
    public static Nginx start(List<Integer> nodePorts) throws IOException {
        assumeInstalled();
        int port = freePort();
        Path folder = Files.createTempDirectory("nginx");
        Path conf = folder.resolve("nginx.conf");
        Files.writeString(conf, String.join("\n",
                "daemon off;",
                "master_process off;",
                "pid " + folder.resolve("nginx.pid") + ";",
                "error_log " + folder.resolve("error.log") + " warn;",
                "events { worker_connections 1024; }",
                "http {",
                "    access_log off;",
                "    client_body_temp_path " + folder.resolve("body") + ";",
                "    proxy_temp_path " + folder.resolve("proxy") + ";",
                "    fastcgi_temp_path " + folder.resolve("fastcgi") + ";",
                "    uwsgi_temp_path " + folder.resolve("uwsgi") + ";",
                "    scgi_temp_path " + folder.resolve("scgi") + ";",
                documented(port, nodePorts),
                "}", ""));
        Process process = new ProcessBuilder(BINARY.toString(), "-p", folder.toString(), "-c", conf.toString(),
                "-e", folder.resolve("error.log").toString())
                .redirectErrorStream(true).redirectOutput(folder.resolve("stdout.log").toFile()).start();
        Nginx nginx = new Nginx(process, port, folder);
        Await.until("nginx listening on " + port, () -> {
            if (!process.isAlive()) {
                throw new AssertionError("nginx exited: " + nginx.log());
            }
            try (Socket probe = new Socket("127.0.0.1", port)) {
                return true;
            } catch (IOException e) {
                return false;
            }
        });
        return nginx;
    }

    /**
     * The first {@code nginx} block of docs/DEPLOY.md, listening on {@code port} with each
     * upstream's {@code server} lines replaced by the nodes.
     */
    static String documented(int port, List<Integer> nodePorts) throws IOException {
        Matcher block = Pattern.compile("```nginx\n(.*?)```", Pattern.DOTALL).matcher(Files.readString(DOCUMENTED));
        if (!block.find()) {
            throw new IllegalStateException("no nginx example in " + DOCUMENTED);
        }
        StringBuilder servers = new StringBuilder();
        for (int node : nodePorts) {
            servers.append("        server 127.0.0.1:").append(node).append(";\n");
        }
        String config = block.group(1).replaceAll("(?m)^\\s*server \\S+:\\d+;.*\n", "")
                .replaceAll("(upstream \\S+ \\{\n)", "$1" + Matcher.quoteReplacement(servers.toString()));
        return config.replaceFirst("listen \\S+;", "listen 127.0.0.1:" + port + ";");
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    public int port() {
        return port;
    }

    /** What nginx logged, for failure messages. */
    public String log() {
        try {
            return Files.readString(folder.resolve("error.log"));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

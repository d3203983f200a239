package dev.switchboard.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A server under test in its own process, pinned to CPU 0 with taskset where the machine has the
 * cores for it (the generator takes CPU 1), its output in a log file. It says
 * {@code READY <port>} when it listens, and ends when its standard input closes.
 */
final class LaunchedServer implements AutoCloseable {
    private final Process process;
    private final Path log;
    private final int port;

    private LaunchedServer(Process process, Path log, int port) {
        this.process = process;
        this.log = log;
        this.port = port;
    }

    static LaunchedServer start(List<String> command, Path log, boolean pin) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>();
        if (pin) {
            full.addAll(List.of("taskset", "-c", "0"));
        }
        full.addAll(command);
        Files.createDirectories(log.getParent());
        Process process = new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            for (String line : Files.readAllLines(log)) {
                if (line.startsWith("READY ")) {
                    return new LaunchedServer(process, log, Integer.parseInt(line.split(" ")[1]));
                }
            }
            if (!process.isAlive()) {
                throw new IOException(String.join(" ", full) + " exited with " + process.exitValue() + ":\n" + Files.readString(log));
            }
            TimeUnit.MILLISECONDS.sleep(50);
        }
        process.destroyForcibly();
        throw new IOException(String.join(" ", full) + " did not say READY within 60 s; see " + log);
    }

    /** Whether {@code taskset} is there and the machine has two cores or more (the generator may be pinned already). */
    static boolean canPin() {
        try {
            long cores = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("processor")).count();
            return cores >= 2 && new ProcessBuilder("taskset", "-c", "0", "true").start().waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    int port() {
        return port;
    }

    long pid() {
        return process.pid();
    }

    /** The READY line, which may name versions. */
    String banner() {
        try {
            return Files.readAllLines(log).stream().filter(l -> l.startsWith("READY ")).findFirst().orElse("");
        } catch (IOException e) {
            return "";
        }
    }

    double cpuSeconds() {
        return ProcStats.cpuSeconds(pid());
    }

    /** Writes the live objects of a JVM server by class ({@code jcmd GC.class_histogram}); best effort. */
    void classHistogram(Path file) {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        try {
            Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid()), "GC.class_histogram")
                    .redirectErrorStream(true).redirectOutput(file.toFile()).start();
            p.waitFor(30, TimeUnit.SECONDS);
        } catch (IOException e) {
            // no jcmd: no histogram
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    double jitCpuSeconds() {
        return ProcStats.jitCpuSeconds(pid());
    }

    double runQueueWaitSeconds() {
        return ProcStats.runQueueWaitSeconds(pid());
    }

    long rssBytes() {
        return ProcStats.rssBytes(pid());
    }

    long threads() {
        return ProcStats.threads(pid());
    }

    @Override
    public void close() {
        try {
            process.getOutputStream().close();
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (IOException e) {
            process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}

package dev.switchboard.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * What Linux says about a process and its descendants: CPU time from /proc/PID/stat (utime +
 * stime), resident memory and threads from /proc/PID/status, open files from /proc/PID/fd. Descendants count too, because a
 * launcher (a shell script, {@code start.jar}) may fork the real server.
 */
final class ProcStats {
    /** USER_HZ: the unit of the times in /proc/PID/stat; 100 on every Linux the JDK runs on. */
    private static final double TICKS_PER_SECOND = 100;

    private ProcStats() {
    }

    /** CPU seconds used by the process and its live descendants. */
    static double cpuSeconds(long pid) {
        return tree(pid).mapToDouble(ProcStats::ownCpuSeconds).sum();
    }

    /** CPU seconds used by this process alone (the servers it started are its descendants). */
    static double ownCpuSeconds() {
        return ownCpuSeconds(ProcessHandle.current().pid());
    }

    /**
     * Seconds the process's threads spent runnable but waiting for a CPU (/proc/PID/task/TID/schedstat):
     * on a shared machine, how much other work stood in its way.
     */
    static double runQueueWaitSeconds(long pid) {
        return tree(pid).mapToDouble(ProcStats::ownRunQueueWait).sum();
    }

    private static double ownRunQueueWait(long pid) {
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            return tasks.mapToDouble(task -> {
                try {
                    return Long.parseLong(Files.readString(task.resolve("schedstat")).split(" ")[1]) / 1e9;
                } catch (IOException | RuntimeException e) {
                    return 0;
                }
            }).sum();
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** CPU seconds of a JVM's JIT compiler threads (named "C1/C2 CompilerThreadN"): warm-up, not work. */
    static double jitCpuSeconds(long pid) {
        return tree(pid).mapToDouble(ProcStats::ownJitCpuSeconds).sum();
    }

    private static double ownJitCpuSeconds(long pid) {
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            return tasks.filter(task -> {
                try {
                    return Files.readString(task.resolve("comm")).contains("CompilerThre");
                } catch (IOException e) {
                    return false;
                }
            }).mapToDouble(task -> cpuSecondsIn(task.resolve("stat"))).sum();
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** Resident memory in bytes. */
    static long rssBytes(long pid) {
        return tree(pid).mapToLong(p -> statusField(p, "VmRSS:") * 1024).sum();
    }

    static long threads(long pid) {
        return tree(pid).mapToLong(p -> statusField(p, "Threads:")).sum();
    }

    /** Open file descriptors (sockets included), from /proc/PID/fd. */
    static long openFiles(long pid) {
        return tree(pid).mapToLong(p -> {
            try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(p), "fd"))) {
                return fds.count();
            } catch (IOException | RuntimeException e) {
                return 0;
            }
        }).sum();
    }

    private static Stream<Long> tree(long pid) {
        return Stream.concat(Stream.of(pid), ProcessHandle.of(pid).stream()
                .flatMap(ProcessHandle::descendants).map(ProcessHandle::pid));
    }

    private static double ownCpuSeconds(long pid) {
        return cpuSecondsIn(Path.of("/proc", Long.toString(pid), "stat"));
    }

    /** utime + stime of a /proc/PID/stat or /proc/PID/task/TID/stat file. */
    private static double cpuSecondsIn(Path statFile) {
        try {
            String stat = Files.readString(statFile);
            // Fields after the command name, which is in parentheses and may contain spaces.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / TICKS_PER_SECOND;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private static long statusField(long pid, String name) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith(name)) {
                    return Long.parseLong(line.substring(name.length()).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // the process is gone
        }
        return 0;
    }
}

package dev.switchboard.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * What Linux says about a process and its descendants: CPU time from /proc/PID/stat (utime and
 * stime), resident memory and threads from /proc/PID/status, context switches from each thread's
 * /proc/PID/task/TID/status, read and write system calls from /proc/PID/io, open files from
 * /proc/PID/fd. Descendants count too, because a launcher (a shell script, {@code start.jar}) may
 * fork the real server.
 */
final class ProcStats {
    /** USER_HZ: the unit of the times in /proc/PID/stat; 100 on every Linux the JDK runs on. */
    private static final double TICKS_PER_SECOND = 100;
    /** utime and stime: where they are in /proc/PID/stat, counted from the field after the command name. */
    private static final int UTIME = 11, STIME = 12;

    private ProcStats() {
    }

    /** CPU seconds used by the process and its live descendants. */
    static double cpuSeconds(long pid) {
        return tree(pid).mapToDouble(ProcStats::ownCpuSeconds).sum();
    }

    /** CPU seconds the process and its live descendants spent in user mode (utime). */
    static double userSeconds(long pid) {
        return tree(pid).mapToDouble(p -> ticks(Path.of("/proc", Long.toString(p), "stat"), UTIME)).sum() / TICKS_PER_SECOND;
    }

    /** CPU seconds the process and its live descendants spent in the kernel on their behalf (stime). */
    static double systemSeconds(long pid) {
        return tree(pid).mapToDouble(p -> ticks(Path.of("/proc", Long.toString(p), "stat"), STIME)).sum() / TICKS_PER_SECOND;
    }

    /**
     * Context switches, voluntary (the thread blocked: a select, a lock, a condition) and
     * nonvoluntary (the scheduler took the CPU away), summed over the live threads of the process
     * and its descendants. A thread that ended takes its count with it.
     */
    static long contextSwitches(long pid) {
        return tree(pid).mapToLong(p -> {
            try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(p), "task"))) {
                return tasks.mapToLong(task -> fields(task.resolve("status"),
                        "voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")).sum();
            } catch (IOException | RuntimeException e) {
                return 0;
            }
        }).sum();
    }

    /**
     * Read- and write-family system calls ({@code syscr} + {@code syscw} of /proc/PID/io: read,
     * readv, pread, write, writev, pwrite, sendfile, ...; not send/recv, epoll or futex), for the
     * whole process, ended threads included. Readable for the harness's own children.
     */
    static long syscalls(long pid) {
        return tree(pid).mapToLong(p -> fields(Path.of("/proc", Long.toString(p), "io"), "syscr:", "syscw:")).sum();
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
        return ticks(statFile, UTIME, STIME) / TICKS_PER_SECOND;
    }

    /** The sum of the given fields of a /proc/PID/stat file, counted after the command name; 0 when it is gone. */
    private static long ticks(Path statFile, int... fieldIndexes) {
        try {
            String stat = Files.readString(statFile);
            // Fields after the command name, which is in parentheses and may contain spaces.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long sum = 0;
            for (int index : fieldIndexes) {
                sum += Long.parseLong(fields[index]);
            }
            return sum;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private static long statusField(long pid, String name) {
        return fields(Path.of("/proc", Long.toString(pid), "status"), name);
    }

    /** The sum of the numbers named in a {@code Name: value} file (/proc/PID/status, /proc/PID/io), 0 when it is gone. */
    private static long fields(Path file, String... names) {
        long sum = 0;
        try {
            for (String line : Files.readAllLines(file)) {
                for (String name : names) {
                    if (line.startsWith(name)) {
                        sum += Long.parseLong(line.substring(name.length()).trim().split("\\s+")[0]);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // the process is gone
        }
        return sum;
    }
}

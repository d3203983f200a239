package dev.switchboard.testing;

import java.lang.management.ManagementFactory;

/**
 * What this JVM's heap holds and what its threads allocate, for tests that bound the memory an
 * abuse costs. Clients and server share the JVM in those tests, so the figures are upper bounds
 * of what the server itself keeps or allocates.
 */
public final class Heap {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private Heap() {
    }

    /** Bytes of heap in use after full collections: what is still reachable. */
    public static long retained() {
        System.gc();
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** Bytes allocated on the heap by all threads since the JVM started, ended threads included. */
    public static long allocated() {
        return THREADS.getTotalThreadAllocatedBytes();
    }

    /** Bytes as KiB, for the figures tests print. */
    public static long kib(long bytes) {
        return bytes / 1024;
    }

    /** A change in bytes as signed KiB, e.g. {@code "+12 KiB"}, for the figures tests print. */
    public static String change(long bytes) {
        return String.format("%+d KiB", bytes / 1024);
    }
}

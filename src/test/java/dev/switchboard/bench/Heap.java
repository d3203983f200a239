package dev.switchboard.bench;

import java.lang.management.ManagementFactory;

/**
 * The heap figure every JVM target reports in its {@code stats} answer. The raw floor's web
 * application carries this class, so it depends on nothing.
 */
final class Heap {
    private Heap() {
    }

    /** Heap in use, after full collections when {@code gc} (what is left is what is live). */
    static long used(boolean gc) {
        if (gc) {
            for (int i = 0; i < 3; i++) {
                System.gc();
            }
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}

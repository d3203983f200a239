package dev.switchboard.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waits for what other threads make true: the server's registries, listeners' counters. A test
 * that waits fails with what it was waiting for, instead of an assertion about a value that was
 * merely not there yet.
 */
public final class Await {
    /** Generous: a condition that holds at all holds within milliseconds on an idle machine. */
    public static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final long POLL_MILLIS = 10;

    private Await() {
    }

    /** Returns once {@code condition} holds; fails naming {@code what} if it does not within {@link #TIMEOUT}. */
    public static void until(String what, BooleanSupplier condition) {
        value(what, () -> condition.getAsBoolean() ? Boolean.TRUE : null);
    }

    /** The first non-null value of {@code supplier}; fails naming {@code what} if none comes within {@link #TIMEOUT}. */
    public static <T> T value(String what, Supplier<T> supplier) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            T value = supplier.get();
            if (value != null) {
                return value;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waited " + TIMEOUT.toSeconds() + " s for " + what);
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for " + what, e);
            }
        }
    }
}

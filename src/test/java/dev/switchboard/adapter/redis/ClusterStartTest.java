package dev.switchboard.adapter.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.switchboard.testing.Await;
import java.net.ServerSocket;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A node that cannot reach Redis at start fails clearly and keeps none of its threads, however often it is retried. */
@Timeout(value = 1, unit = TimeUnit.MINUTES)
class ClusterStartTest {
    @Test
    void aFailedStartLeavesNoThreadsBehind() throws Exception {
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0)) {
            closedPort = probe.getLocalPort();
        }
        long before = clusterThreads();
        for (int attempt = 0; attempt < 3; attempt++) {
            assertThrows(RuntimeException.class,
                    () -> ClusterNode.settings("redis://127.0.0.1:" + closedPort, "nowhere").connect());
        }
        Await.until("the failed starts' threads gone", () -> clusterThreads() == before);
        assertEquals(before, clusterThreads());
    }

    /** Threads of Switchboard's Redis node and of the client library under it. */
    private static long clusterThreads() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                .filter(name -> name.startsWith("switchboard-redis") || name.startsWith("lettuce-")).count();
    }
}

package dev.switchboard.bench;

/** A figure the harness reports, how to print it, and whether it is one of the ratios. */
enum Metric {
    S1_HEAP_PER_CONN("S1 heap per idle connection", "KiB", Better.LOWER, true),
    S1_RSS_PER_CONN("S1 RSS per idle connection", "KiB", Better.LOWER, false),
    S1_THREADS("S1 server threads with all connected", "", Better.LOWER, false),
    S1_CONNECTS_PER_SECOND("S1 connections opened and joined per second", "/s", Better.HIGHER, false),
    S1_HEAP_AFTER_WAVES("S1 heap after the waves, minus baseline", "KiB", Better.LOWER, false),
    S2_P50("S2 ack round trip p50 at the reference rate", "ms", Better.LOWER, false),
    S2_P99("S2 ack round trip p99 at the reference rate", "ms", Better.LOWER, true),
    S2_P999("S2 ack round trip p99.9 at the reference rate", "ms", Better.LOWER, false),
    S2_CPU_US("S2 server CPU per ack at the reference rate", "µs", Better.LOWER, true),
    S2_SWITCHES("S2 server context switches per ack at the reference rate", "", Better.LOWER, true),
    S2_KNEE("S2 knee: highest rate with p99 < 50 ms, server CPU < 95 %", "acks/s", Better.HIGHER, true),
    S3_ONE_DELIVERIES_PER_CPU("S3 one room: deliveries per server CPU-second", "", Better.HIGHER, true),
    S3_ONE_DELIVERIES_PER_CPU_NO_JIT("S3 one room: the same, JIT compiler threads' CPU left out (JVMs)", "", Better.HIGHER, true),
    S3_ONE_P99("S3 one room: p99", "ms", Better.LOWER, true),
    S3_ONE_LOSS("S3 one room: lost deliveries", "", Better.LOWER, false),
    S3_ONE_USER_US("S3 one room: server user CPU per delivery", "µs", Better.LOWER, false),
    S3_ONE_SYSTEM_US("S3 one room: server system CPU per delivery", "µs", Better.LOWER, false),
    S3_ONE_SWITCHES("S3 one room: server context switches per delivery", "", Better.LOWER, true),
    S3_ONE_SYSCALLS("S3 one room: server read/write system calls per delivery", "", Better.LOWER, true),
    S3_MANY_DELIVERIES_PER_CPU("S3 many rooms: deliveries per server CPU-second", "", Better.HIGHER, true),
    S3_MANY_DELIVERIES_PER_CPU_NO_JIT("S3 many rooms: the same, JIT compiler threads' CPU left out (JVMs)", "", Better.HIGHER, true),
    S3_MANY_P99("S3 many rooms: p99", "ms", Better.LOWER, true),
    S3_MANY_LOSS("S3 many rooms: lost deliveries", "", Better.LOWER, false),
    S3_MANY_USER_US("S3 many rooms: server user CPU per delivery", "µs", Better.LOWER, false),
    S3_MANY_SYSTEM_US("S3 many rooms: server system CPU per delivery", "µs", Better.LOWER, false),
    S3_MANY_SWITCHES("S3 many rooms: server context switches per delivery", "", Better.LOWER, true),
    S3_MANY_SYSCALLS("S3 many rooms: server read/write system calls per delivery", "", Better.LOWER, true),
    S3_HEAP_PER_CONN("S3 heap per connection after the one-room run", "KiB", Better.LOWER, false),
    S4_P99("S4 one room + a reader that never reads: others' p99", "ms", Better.LOWER, false),
    S4_P99_VS_S3("S4 others' p99 / S3 one-room p99", "x", Better.LOWER, false),
    S4_SLOW_QUEUE("S4 largest server-side queue (the stalled reader, fed 2 MiB/s)", "KiB", Better.LOWER, false),
    S4_LOSS("S4 lost deliveries to the readers", "", Better.LOWER, false),
    S5_DROPPED("S5 clients dropped (on a cluster, those of the killed node)", "", Better.LOWER, false),
    S5_BACK_MS("S5 storm: time until all are back", "ms", Better.LOWER, false),
    S5_RECOVERED("S5 sessions recovered", "", Better.HIGHER, false),
    S5_EVENTS_RECOVERED("S5 events sent during the outage, delivered after", "", Better.HIGHER, false),
    S5_MISSED("S5 events never delivered", "", Better.LOWER, false),
    S5_DUPLICATES("S5 duplicate deliveries", "", Better.LOWER, false),
    S5_OUT_OF_ORDER("S5 deliveries after a later event (out of order)", "", Better.LOWER, false),
    S6_KNEE("S6 churn knee: highest rate with joins p99 < 1 s, nothing lost", "/s", Better.HIGHER, true),
    S6_JOIN_P99("S6 join p99 at the reference churn rate", "ms", Better.LOWER, false),
    S6_LOST("S6 broadcasts and notices lost at the reference churn rate", "", Better.LOWER, false),
    S6_RSS_BEFORE("S6 server RSS, all connected, before the churn", "MiB", Better.LOWER, false),
    S6_RSS_PEAK("S6 server RSS, peak during the churn", "MiB", Better.LOWER, false),
    S6_RSS_AFTER("S6 server RSS after the churn", "MiB", Better.LOWER, false),
    S6_HEAP_BEFORE("S6 heap after GC before the churn", "MiB", Better.LOWER, false),
    S6_HEAP_AFTER("S6 heap after GC after the churn", "MiB", Better.LOWER, false),
    S6_FILES_BEFORE("S6 open files before the churn", "", Better.LOWER, false),
    S6_FILES_PEAK("S6 open files, peak during the churn", "", Better.LOWER, false),
    S6_FILES_AFTER("S6 open files after the churn", "", Better.LOWER, false),
    S6_THREADS_BEFORE("S6 threads before the churn", "", Better.LOWER, false),
    S6_THREADS_PEAK("S6 threads, peak during the churn", "", Better.LOWER, false),
    S6_THREADS_AFTER("S6 threads after the churn", "", Better.LOWER, false),
    S7_DELIVERIES_PER_CPU("S7 busy rooms: deliveries per server CPU-second", "", Better.HIGHER, true),
    S7_DELIVERIES_PER_CPU_NO_JIT("S7 busy rooms: the same, JIT compiler threads' CPU left out (JVMs)", "", Better.HIGHER, true),
    S7_P99("S7 busy rooms: p99", "ms", Better.LOWER, true),
    S7_LOSS("S7 busy rooms: lost deliveries", "", Better.LOWER, false),
    S7_USER_US("S7 busy rooms: server user CPU per delivery", "µs", Better.LOWER, false),
    S7_SYSTEM_US("S7 busy rooms: server system CPU per delivery", "µs", Better.LOWER, false),
    S7_SWITCHES("S7 busy rooms: server context switches per delivery", "", Better.LOWER, true),
    S7_SYSCALLS("S7 busy rooms: server read/write system calls per delivery", "", Better.LOWER, true);

    enum Better { HIGHER, LOWER }

    final String label;
    final String unit;
    final Better better;
    /** One of the ratios: Switchboard / socket.io, Switchboard / raw floor and Switchboard of the write floor. */
    final boolean ratio;

    Metric(String label, String unit, Better better, boolean ratio) {
        this.label = label;
        this.unit = unit;
        this.better = better;
        this.ratio = ratio;
    }
}

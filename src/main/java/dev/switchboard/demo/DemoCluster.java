package dev.switchboard.demo;

import dev.switchboard.adapter.redis.RedisCluster;
import dev.switchboard.server.SwitchboardOptions;

/**
 * Makes the demo a node of a cluster on Redis when {@code demo.redis} names one: the chat, the
 * member lists, the room counts and the dashboard's rooms then span every node. Only touched when
 * it is set, so a WAR without Lettuce never loads it.
 *
 * <pre>
 * mvn -q compile exec:java -Ddemo.port=8081 -Ddemo.redis=redis://127.0.0.1:6379
 * mvn -q compile exec:java -Ddemo.port=8082 -Ddemo.redis=redis://127.0.0.1:6379
 * </pre>
 */
final class DemoCluster {
    /** The system property, or context parameter in a WAR, naming the Redis of the cluster. */
    static final String SETTING = "demo.redis";

    private final RedisCluster cluster;
    private final SwitchboardOptions options;

    private DemoCluster(String redisUri, SwitchboardOptions options) {
        this.cluster = RedisCluster.builder(redisUri).connect();
        this.options = options.toBuilder().adapter(cluster.adapters()).sessionStore(cluster.sessionStore()).build();
        System.getLogger(DemoCluster.class.getName()).log(System.Logger.Level.INFO,
                "node " + cluster.nodeId() + " of the cluster on " + redisUri);
    }

    /** Joins the cluster on {@code redisUri} with the demo's {@code options}. */
    static DemoCluster join(String redisUri, SwitchboardOptions options) {
        return new DemoCluster(redisUri, options);
    }

    /** The options with the cluster's adapter. */
    SwitchboardOptions options() {
        return options;
    }

    /** Leaves the cluster, after the server stopped. */
    void leave() {
        cluster.close();
    }
}

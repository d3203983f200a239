package dev.switchboard.deployment;

import dev.switchboard.transport.WebSocketLayerContract;
import java.util.List;

/** The deployment scenario where Tyrus is the WebSocket layer: the standalone server, in this JVM or as the jar. */
abstract class TyrusScenario extends DeploymentScenario {
    /**
     * Tyrus would wait for a frame's declared bytes, and process unmasked client frames; the
     * server's own read path refuses a data frame longer than the largest message with 1009 at
     * its header, and an unmasked frame with 1002, as RFC 6455 says and Jetty and Tomcat do.
     */
    @Override
    protected WebSocketLayerContract.Answers webSocketLayerAnswers() {
        return new WebSocketLayerContract.Answers("close 1009", "close 1002", "400", List.of("101", "400"));
    }
}

package dev.switchboard.deployment;

import dev.switchboard.transport.WebSocketLayerContract;

/** The deployment scenario where Tyrus is the WebSocket layer: the standalone server, in this JVM or as the jar. */
abstract class TyrusScenario extends DeploymentScenario {
    /**
     * Tyrus waits for a frame's declared bytes, buffering at most one message, until the heartbeat
     * ends the connection. It would process unmasked client frames; the server's own read path
     * refuses them with 1002, as RFC 6455 says and Jetty and Tomcat do.
     */
    @Override
    protected WebSocketLayerContract.Answers webSocketLayerAnswers() {
        return new WebSocketLayerContract.Answers(WebSocketLayerContract.CLOSED_BY_HEARTBEAT, "close 1002", "400");
    }
}

package dev.switchboard.deployment;

import dev.switchboard.transport.WebSocketLayerContract;

/** The deployment scenario where Tyrus is the WebSocket layer: the standalone server, in this JVM or as the jar. */
abstract class TyrusScenario extends DeploymentScenario {
    /**
     * Tyrus waits for a frame's declared bytes, buffering at most one message, until the heartbeat
     * ends the connection; it processes unmasked client frames (RFC 6455 says 1002).
     */
    @Override
    protected WebSocketLayerContract.Answers webSocketLayerAnswers() {
        return new WebSocketLayerContract.Answers(WebSocketLayerContract.CLOSED_BY_HEARTBEAT, "connect", "400");
    }
}

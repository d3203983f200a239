package dev.switchboard.deployment;

import dev.switchboard.transport.WebSocketLayerContract;

/** The deployment scenario where Tyrus is the WebSocket layer: the standalone server, in this JVM or as the jar. */
abstract class TyrusScenario extends DeploymentScenario {
    /** Tyrus waits for the declared bytes, buffering at most one message, until the heartbeat ends it. */
    @Override
    protected String hugeDeclaredLengthAnswer() {
        return WebSocketLayerContract.CLOSED_BY_HEARTBEAT;
    }

    /** Tyrus processes unmasked client frames (RFC 6455 says 1002); recorded in docs/RELIABILITY.md. */
    @Override
    protected String unmaskedFrameAnswer() {
        return "connect";
    }
}

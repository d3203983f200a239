package dev.switchboard.transport.jsr356;

import jakarta.websocket.HandshakeResponse;
import jakarta.websocket.server.HandshakeRequest;
import jakarta.websocket.server.ServerEndpointConfig;
import java.util.List;
import java.util.Map;

/**
 * Captures each upgrade request for the endpoint and hands the container endpoints bound to the
 * registered server. The per-connection copy of the user properties that the container passes
 * here (Jakarta WebSocket 2.1 and later) is what {@code @OnOpen} receives.
 */
public class SwitchboardConfigurator extends ServerEndpointConfig.Configurator {
    static final String UPGRADE_REQUEST = "dev.switchboard.upgradeRequest";

    /** What the endpoint needs from the upgrade request. */
    record UpgradeRequest(java.net.URI uri, Map<String, List<String>> headers, Map<String, List<String>> query) {
    }

    @Override
    public void modifyHandshake(ServerEndpointConfig config, HandshakeRequest request, HandshakeResponse response) {
        config.getUserProperties().put(UPGRADE_REQUEST,
                new UpgradeRequest(request.getRequestURI(), request.getHeaders(), request.getParameterMap()));
    }

    @Override
    public <T> T getEndpointInstance(Class<T> endpointClass) throws InstantiationException {
        if (endpointClass != SwitchboardEndpoint.class) {
            return super.getEndpointInstance(endpointClass);
        }
        try {
            return endpointClass.cast(new SwitchboardEndpoint(SwitchboardRegistry.require()));
        } catch (IllegalStateException e) {
            throw (InstantiationException) new InstantiationException(e.getMessage()).initCause(e);
        }
    }
}

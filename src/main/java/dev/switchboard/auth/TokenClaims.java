package dev.switchboard.auth;

import java.time.Instant;
import java.util.Map;
import java.util.Set;

/**
 * What a verified token says about its socket, kept in the socket's data by {@link JwtAuth}.
 *
 * <pre>{@code
 * TokenClaims claims = JwtAuth.claims(socket);
 * if (claims.channels().contains(room)) socket.join(room);
 * socket.presenceInfo(claims.info());
 * }</pre>
 *
 * @param userId    the {@code sub} claim, which became the socket's user id
 * @param channels  the {@code channels} claim: rooms the token allows (empty if absent)
 * @param info      the {@code info} claim: public info for presence (empty if absent)
 * @param expiresAt the {@code exp} claim
 */
public record TokenClaims(String userId, Set<String> channels, Map<String, Object> info, Instant expiresAt) {
    public TokenClaims {
        channels = Set.copyOf(channels);
        info = Map.copyOf(info);
    }
}

package dev.switchboard.testing;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * JWTs as a login service would issue them, for the tests of token authentication: issued by
 * {@link #ISSUER} for {@link #AUDIENCE}, valid for {@link #LIFETIME} from the clock's now, with
 * {@code channels: ["general"]} and {@code info: {"color": "teal"}}, each claim open to a tweak.
 *
 * <pre>{@code
 * Tokens tokens = new Tokens(time.clock());
 * String expired = tokens.hmac("ana", claims -> claims.expirationTime(Date.from(past)));
 * }</pre>
 */
public final class Tokens {
    public static final byte[] SECRET = "an HMAC secret of thirty-two bytes or more".getBytes();
    public static final String ISSUER = "https://login.example.com";
    public static final String AUDIENCE = "chat";
    public static final Duration LIFETIME = Duration.ofMinutes(5);

    private final Clock clock;

    public Tokens(Clock clock) {
        this.clock = clock;
    }

    /** The claims of a token for {@code subject}, issued now. */
    public JWTClaimsSet.Builder claims(String subject) {
        Instant now = clock.instant();
        return new JWTClaimsSet.Builder().subject(subject).issuer(ISSUER).audience(AUDIENCE)
                .issueTime(Date.from(now)).expirationTime(Date.from(now.plus(LIFETIME)))
                .claim("channels", List.of("general")).claim("info", Map.of("color", "teal"));
    }

    /** A token signed with {@link #SECRET} (HS256). */
    public String hmac(String subject, UnaryOperator<JWTClaimsSet.Builder> tweak) {
        try {
            return sign(new MACSigner(SECRET), JWSAlgorithm.HS256, null, tweak.apply(claims(subject)).build());
        } catch (JOSEException e) {
            throw new AssertionError(e);
        }
    }

    /** A token for {@code subject}, as issued now. */
    public String hmac(String subject) {
        return hmac(subject, claims -> claims);
    }

    /** Signs {@code claims} with {@code signer}, naming {@code keyId} (or none) in the header. */
    public static String sign(JWSSigner signer, JWSAlgorithm algorithm, String keyId, JWTClaimsSet claims) {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(algorithm).keyID(keyId).build(), claims);
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new AssertionError(e);
        }
        return jwt.serialize();
    }
}

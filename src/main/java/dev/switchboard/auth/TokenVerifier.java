package dev.switchboard.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.SignedJWT;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.text.ParseException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks a JWT: a signature by one of the configured keys (HMAC secrets, RSA or EC public keys
 * from a JWKS document or PEM), {@code exp} (required) and {@code nbf} against the clock, the
 * issuer and audience when configured, and a {@code sub}. Unsigned tokens ({@code alg: none})
 * are refused, and a key only verifies the algorithms of its own type, so a public key is never
 * taken for an HMAC secret.
 *
 * <pre>{@code
 * TokenVerifier verifier = TokenVerifier.builder()
 *         .jwks(Files.readString(Path.of("jwks.json")))
 *         .issuer("https://login.example.com").audience("chat")
 *         .build();
 * TokenClaims claims = verifier.verify(token, Clock.systemUTC());
 * }</pre>
 */
public final class TokenVerifier {
    /** HMAC secrets shorter than this are refused: SHA-256 needs 256 bits. */
    public static final int MIN_SECRET_BYTES = 32;

    private final List<JWK> keys;
    private final String issuer;
    private final String audience;

    private TokenVerifier(Builder builder) {
        this.keys = List.copyOf(builder.keys);
        this.issuer = builder.issuer;
        this.audience = builder.audience;
    }

    /** A builder; at least one key is required. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The claims of a token that passes every check at {@code clock}'s time.
     *
     * @throws TokenRejectedException with the code to tell the client
     */
    public TokenClaims verify(String token, Clock clock) throws TokenRejectedException {
        SignedJWT jwt = signed(token);
        if (!signedByOurKey(jwt)) {
            throw new TokenRejectedException(TokenRejectedException.INVALID, "no configured key verifies the signature");
        }
        JWTClaimsSet claims;
        try {
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            throw new TokenRejectedException(TokenRejectedException.INVALID, "unreadable claims");
        }
        Instant now = clock.instant();
        Date expiry = claims.getExpirationTime();
        if (expiry == null) {
            throw new TokenRejectedException(TokenRejectedException.INVALID, "no exp");
        }
        if (!now.isBefore(expiry.toInstant())) {
            throw new TokenRejectedException(TokenRejectedException.EXPIRED, "expired at " + expiry.toInstant());
        }
        if (claims.getNotBeforeTime() != null && now.isBefore(claims.getNotBeforeTime().toInstant())) {
            throw new TokenRejectedException(TokenRejectedException.INVALID, "not valid before " + claims.getNotBeforeTime().toInstant());
        }
        if (issuer != null && !issuer.equals(claims.getIssuer())) {
            throw new TokenRejectedException(TokenRejectedException.INVALID, "issuer " + claims.getIssuer());
        }
        if (audience != null && (claims.getAudience() == null || !claims.getAudience().contains(audience))) {
            throw new TokenRejectedException(TokenRejectedException.AUDIENCE, "audience " + claims.getAudience());
        }
        String subject = claims.getSubject();
        if (subject == null || subject.isBlank()) {
            throw new TokenRejectedException(TokenRejectedException.INVALID, "no sub");
        }
        return new TokenClaims(subject, channels(claims), info(claims), expiry.toInstant());
    }

    private static SignedJWT signed(String token) throws TokenRejectedException {
        JWT jwt;
        try {
            jwt = JWTParser.parse(token == null ? "" : token);
        } catch (ParseException e) {
            throw new TokenRejectedException(TokenRejectedException.INVALID, "not a JWT");
        }
        if (jwt instanceof SignedJWT signed) {
            return signed;
        }
        throw new TokenRejectedException(TokenRejectedException.INVALID, "not signed (alg " + jwt.getHeader().getAlgorithm() + ")");
    }

    private boolean signedByOurKey(SignedJWT jwt) {
        JWSHeader header = jwt.getHeader();
        for (JWK key : keys) {
            if (header.getKeyID() != null && key.getKeyID() != null && !header.getKeyID().equals(key.getKeyID())) {
                continue;
            }
            try {
                JWSVerifier verifier = verifierFor(key, header.getAlgorithm());
                if (verifier != null && jwt.verify(verifier)) {
                    return true;
                }
            } catch (JOSEException e) {
                // this key does not fit this token; another may
            }
        }
        return false;
    }

    /** A verifier of {@code key}'s own type for an algorithm of that type, else null. */
    private static JWSVerifier verifierFor(JWK key, JWSAlgorithm algorithm) throws JOSEException {
        if (key instanceof OctetSequenceKey secret && JWSAlgorithm.Family.HMAC_SHA.contains(algorithm)) {
            return new MACVerifier(secret);
        }
        if (key instanceof RSAKey rsa && JWSAlgorithm.Family.RSA.contains(algorithm)) {
            return new RSASSAVerifier(rsa);
        }
        if (key instanceof ECKey ec && JWSAlgorithm.Family.EC.contains(algorithm)) {
            return new ECDSAVerifier(ec);
        }
        return null;
    }

    private static Set<String> channels(JWTClaimsSet claims) throws TokenRejectedException {
        try {
            List<String> channels = claims.getStringListClaim("channels");
            return channels == null ? Set.of() : new HashSet<>(channels);
        } catch (ParseException e) {
            throw new TokenRejectedException(TokenRejectedException.INVALID, "channels is not a list of strings");
        }
    }

    private static Map<String, Object> info(JWTClaimsSet claims) throws TokenRejectedException {
        try {
            Map<String, Object> info = claims.getJSONObjectClaim("info");
            return info == null ? Map.of() : info;
        } catch (ParseException | NullPointerException e) {
            throw new TokenRejectedException(TokenRejectedException.INVALID, "info is not an object");
        }
    }

    /** Keys and expectations; each key method may be called several times (key rotation). */
    public static final class Builder {
        private final List<JWK> keys = new ArrayList<>();
        private String issuer;
        private String audience;

        private Builder() {
        }

        /** An HMAC secret (HS256, HS384, HS512), at least {@link #MIN_SECRET_BYTES} bytes. */
        public Builder hmacSecret(byte[] secret) {
            if (secret.length < MIN_SECRET_BYTES) {
                throw new IllegalArgumentException("an HMAC secret needs at least " + MIN_SECRET_BYTES + " bytes");
            }
            keys.add(new OctetSequenceKey.Builder(secret).build());
            return this;
        }

        /** The keys of a JWKS document ({@code {"keys": [...]}}); private parts are ignored. */
        public Builder jwks(String json) {
            try {
                for (JWK key : JWKSet.parse(json).getKeys()) {
                    keys.add(key instanceof OctetSequenceKey ? key : key.toPublicJWK());
                }
            } catch (ParseException e) {
                throw new IllegalArgumentException("not a JWKS document: " + e.getMessage(), e);
            }
            return this;
        }

        /** An RSA or EC public key in PEM ({@code -----BEGIN PUBLIC KEY-----}), with an optional key id. */
        public Builder publicKeyPem(String pem, String keyId) {
            PublicKey key = parsePem(pem);
            if (key instanceof RSAPublicKey rsa) {
                keys.add(new RSAKey.Builder(rsa).keyID(keyId).build());
            } else if (key instanceof ECPublicKey ec) {
                keys.add(new ECKey.Builder(com.nimbusds.jose.jwk.Curve.forECParameterSpec(ec.getParams()), ec)
                        .keyID(keyId).build());
            }
            return this;
        }

        /** The {@code iss} every token must carry. */
        public Builder issuer(String value) {
            issuer = value;
            return this;
        }

        /** An audience every token's {@code aud} must contain. */
        public Builder audience(String value) {
            audience = value;
            return this;
        }

        /** The verifier; fails when no key was given. */
        public TokenVerifier build() {
            if (keys.isEmpty()) {
                throw new IllegalStateException("no key to verify tokens with");
            }
            return new TokenVerifier(this);
        }

        private static PublicKey parsePem(String pem) {
            String base64 = pem.replaceAll("-----(BEGIN|END) PUBLIC KEY-----", "").replaceAll("\\s", "");
            byte[] der;
            try {
                der = Base64.getDecoder().decode(base64);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("not a PEM public key", e);
            }
            for (String type : List.of("RSA", "EC")) {
                try {
                    return KeyFactory.getInstance(type).generatePublic(new X509EncodedKeySpec(der));
                } catch (GeneralSecurityException e) {
                    // try the next type
                }
            }
            throw new IllegalArgumentException("not an RSA or EC public key in PEM");
        }
    }
}

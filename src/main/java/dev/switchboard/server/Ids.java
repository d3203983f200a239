package dev.switchboard.server;

import java.security.SecureRandom;
import java.util.Base64;

/** Unguessable ids: 120 random bits as 20 URL-safe characters. */
final class Ids {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();

    private Ids() {
    }

    static String next() {
        byte[] bytes = new byte[15];
        RANDOM.nextBytes(bytes);
        return ENCODER.encodeToString(bytes);
    }
}

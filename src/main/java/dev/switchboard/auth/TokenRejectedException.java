package dev.switchboard.auth;

/**
 * A token that {@link TokenVerifier} refuses, with the stable code the client sees in
 * {@code connect_error.data.code}: {@code token_invalid}, {@code token_expired} or
 * {@code token_audience}. The message says why, for the server's log only.
 */
public final class TokenRejectedException extends Exception {
    /** Unreadable, unsigned, badly signed, from another issuer, not yet valid, without a subject. */
    public static final String INVALID = "token_invalid";
    /** Past its {@code exp}. */
    public static final String EXPIRED = "token_expired";
    /** Meant for another audience. */
    public static final String AUDIENCE = "token_audience";

    private final String code;

    TokenRejectedException(String code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    /** One of {@link #INVALID}, {@link #EXPIRED}, {@link #AUDIENCE}. */
    public String code() {
        return code;
    }
}

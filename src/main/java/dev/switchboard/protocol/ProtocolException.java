package dev.switchboard.protocol;

/**
 * A frame that breaks the wire protocol; {@link #code()} is the {@code error.code} sent back.
 *
 * <pre>{@code
 * try { codec.decode(frame); } catch (ProtocolException e) { reply(e.code(), e.getMessage()); }
 * }</pre>
 */
public final class ProtocolException extends Exception {
    /** Codes of the {@code error} packet, see docs/PROTOCOL.md. */
    public static final String BAD_PACKET = "bad_packet";
    public static final String BAD_EVENT = "bad_event";
    public static final String NO_NAMESPACE = "no_namespace";
    public static final String RATE_LIMITED = "rate_limited";
    public static final String BINARY_UNSUPPORTED = "binary_unsupported";

    private final String code;

    public ProtocolException(String code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    /** The error code sent to the peer. */
    public String code() {
        return code;
    }

    static ProtocolException badPacket(String message) {
        return new ProtocolException(BAD_PACKET, message);
    }
}

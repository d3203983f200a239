package dev.switchboard.protocol;

/**
 * A frame that breaks the wire protocol; {@link #code()} is the {@code error.code} sent back.
 *
 * <pre>{@code
 * try { codec.decode(frame); } catch (ProtocolException e) { reply(e.code(), e.getMessage()); }
 * }</pre>
 */
public final class ProtocolException extends Exception {
    /** Not JSON, not an object, an unknown type or a field of the wrong type (codes: see docs/PROTOCOL.md). */
    public static final String BAD_PACKET = "bad_packet";
    /** A missing, empty, too long or reserved event name. */
    public static final String BAD_EVENT = "bad_event";
    /** A packet for a namespace this connection has not opened. */
    public static final String NO_NAMESPACE = "no_namespace";
    /** More events than the connection's rate limit allows: the event is dropped. */
    public static final String RATE_LIMITED = "rate_limited";
    /**
     * Binary frames that do not match what the text announced (too many attachments, one
     * missing or extra, a binary frame with no packet waiting): the connection closes.
     */
    public static final String BAD_ATTACHMENTS = "bad_attachments";
    /** A packet larger, attachments included, than the connection's payload limit: the connection closes. */
    public static final String TOO_BIG = "too_big";

    private final String code;

    /** A refusal with one of the codes above and a message for the client. */
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

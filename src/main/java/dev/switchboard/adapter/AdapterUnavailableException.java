package dev.switchboard.adapter;

/**
 * The adapter could not carry a call right now (on a cluster: its shared engine unreachable, or
 * nodes silent past a timeout). Nothing was lost that the caller was told had happened; the call
 * may be retried.
 *
 * <pre>{@code
 * try {
 *     chat.to("lobby").emit("news", item);
 * } catch (AdapterUnavailableException e) {
 *     retryLater(item);
 * }
 * }</pre>
 */
public class AdapterUnavailableException extends RuntimeException {
    public AdapterUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}

package dev.switchboard.transport;

/**
 * Where an endpoint handles what one connection's client sent: the decoding of its messages, the
 * application's listeners, and the connection's end, in the order they arrived. A send that
 * failed is reported here too, behind the input read before it: the client went away after it.
 *
 * <p>Servlet containers already call the endpoint on a thread of their own pool, so there the work
 * runs where it arrives ({@link #INLINE}). The standalone server reads and unframes on its selector
 * threads and hands the work to a worker through an inbox of its own, so that a listener that
 * blocks holds up only its own connection.
 *
 * <pre>{@code
 * inbox.submit(part.length(), () -> handle(part));   // from the thread that read the part
 * }</pre>
 */
public interface Inbox {
    /** Runs the work at once, on the thread that submits it. */
    Inbox INLINE = (size, work) -> work.run();

    /**
     * Runs {@code work} after all work submitted before it for the same connection.
     *
     * @param size what the work holds of the client's input until it runs, in chars or bytes; an
     *             inbox that runs work later stops reading the connection while too much waits
     */
    void submit(int size, Runnable work);
}

package dev.switchboard.bench;

/**
 * The two wire formats the load generator speaks: Switchboard's (one JSON object per frame,
 * docs/PROTOCOL.md; the raw floor speaks a minimal subset of it) and Socket.IO v5 over Engine.IO
 * v4 WebSocket frames ({@code 0} open, {@code 2}/{@code 3} ping and pong, {@code 40} connect,
 * {@code 42[...]} events, {@code 43<id>[...]} acks).
 *
 * <p>Frames are read by position ({@link Frames}).
 */
enum Wire {
    SWITCHBOARD("/switchboard") {
        @Override
        String connect(String pid, String offset) {
            return pid == null ? "{\"type\":\"connect\"}"
                    : "{\"type\":\"connect\",\"pid\":\"" + pid + "\"" + (offset == null ? "" : ",\"offset\":\"" + offset + "\"") + "}";
        }

        @Override
        String emit(String event, long ackId, String args) {
            return "{\"type\":\"event\",\"event\":\"" + event + "\",\"args\":[" + args + "]"
                    + (ackId > 0 ? ",\"ack\":" + ackId : "") + "}";
        }

        @Override
        String pong(String offset) {
            return offset == null ? "{\"type\":\"pong\"}" : "{\"type\":\"pong\",\"offset\":\"" + offset + "\"}";
        }

        @Override
        String disconnect() {
            return "{\"type\":\"disconnect\"}";
        }

        @Override
        long notice(String frame) {
            String start = "{\"type\":\"event\",\"event\":\"notice\",\"args\":[";
            return frame.startsWith(start) ? Frames.number(frame, start.length()) : -1;
        }

        @Override
        void dispatch(String frame, Client client) {
            if (frame.startsWith("{\"type\":\"event\"")) {
                client.onEvent(frame, Frames.string(frame, "\"offset\":\""));
            } else if (frame.startsWith("{\"type\":\"ack\"")) {
                client.onAck(Frames.number(frame, frame.indexOf("\"ack\":") + 6), frame);
            } else if (frame.equals("{\"type\":\"ping\"}")) {
                client.onPing();
            } else if (frame.startsWith("{\"type\":\"hello\"")) {
                client.onHello();
            } else if (frame.startsWith("{\"type\":\"connect\"")) {
                client.onConnected(Frames.string(frame, "\"id\":\""), Frames.string(frame, "\"pid\":\""),
                        frame.contains("\"recovered\":true"));
            } else if (!frame.startsWith("{\"type\":\"disconnect\"")) {
                client.onRefused(frame);
            }
        }
    },

    SOCKET_IO("/socket.io/?EIO=4&transport=websocket") {
        @Override
        String connect(String pid, String offset) {
            return pid == null ? "40" : "40{\"pid\":\"" + pid + "\"" + (offset == null ? "" : ",\"offset\":\"" + offset + "\"") + "}";
        }

        @Override
        String emit(String event, long ackId, String args) {
            return "42" + (ackId > 0 ? Long.toString(ackId) : "") + "[\"" + event + "\"" + (args.isEmpty() ? "" : "," + args) + "]";
        }

        @Override
        String pong(String offset) {
            return "3";
        }

        @Override
        String disconnect() {
            return "41";
        }

        @Override
        long notice(String frame) {
            String start = "42[\"notice\",";
            return frame.startsWith(start) ? Frames.number(frame, start.length()) : -1;
        }

        @Override
        void dispatch(String frame, Client client) {
            if (frame.startsWith("42")) {
                // With connection-state recovery on, the server appends the event's offset as a last string argument.
                String offset = null;
                if (frame.endsWith("\"]")) {
                    int start = frame.lastIndexOf(",\"");
                    offset = start < 0 ? null : frame.substring(start + 2, frame.length() - 2);
                }
                client.onEvent(frame, offset);
            } else if (frame.startsWith("43")) {
                client.onAck(Frames.number(frame, 2), frame);
            } else if (frame.equals("2")) {
                client.onPing();
            } else if (frame.startsWith("0{")) {
                client.onHello();
            } else if (frame.startsWith("40")) {
                // Socket.IO says "recovered" by answering with the same sid as before.
                client.onConnected(Frames.string(frame, "\"sid\":\""), Frames.string(frame, "\"pid\":\""), null);
            } else if (!frame.startsWith("41")) {
                client.onRefused(frame);
            }
        }
    };

    private final String path;

    Wire(String path) {
        this.path = path;
    }

    /** The request path (and query) of the WebSocket upgrade. */
    String path() {
        return path;
    }

    /** Opens the default namespace; with {@code pid}, asks to recover that session from {@code offset}. */
    abstract String connect(String pid, String offset);

    /** An event with arguments given as JSON text separated by commas; {@code ackId} 0 asks for no ack. */
    abstract String emit(String event, long ackId, String args);

    /** The answer to a ping, confirming events up to {@code offset} where the protocol does. */
    abstract String pong(String offset);

    /** Leaves the namespace on purpose, so that the server keeps no session for recovery. */
    abstract String disconnect();

    /** The number a {@code notice(n)} event carries (S6's departures), or -1 for any other frame. */
    abstract long notice(String frame);

    /** Hands one frame from the server to the client's callback that fits it. */
    abstract void dispatch(String frame, Client client);
}

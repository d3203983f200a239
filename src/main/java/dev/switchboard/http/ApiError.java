package dev.switchboard.http;

import dev.switchboard.protocol.JsonMapper;
import java.util.LinkedHashMap;
import java.util.Map;

/** A request the API refuses: its status, and the field at fault where there is one. */
final class ApiError extends Exception {
    private final int status;
    private final String field;

    ApiError(int status, String field, String message) {
        super(message, null, false, false);
        this.status = status;
        this.field = field;
    }

    static ApiError badField(String field, String message) {
        return new ApiError(400, field, "'" + field + "' " + message);
    }

    /** {@code {"error": "...", "field": "..."}}, the field left out when none is at fault. */
    ApiResponse response() {
        Map<String, String> body = new LinkedHashMap<>();
        body.put("error", getMessage());
        if (field != null) {
            body.put("field", field);
        }
        return ApiResponse.json(status, JsonMapper.toRaw(body).text());
    }
}

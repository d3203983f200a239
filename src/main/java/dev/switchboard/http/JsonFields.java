package dev.switchboard.http;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonValue;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A request body, a JSON object, read with a typed accessor per field; each refusal names the
 * field: an unknown one, or one of the wrong type.
 */
final class JsonFields {
    private final JsonObject object;

    private JsonFields(JsonObject object) {
        this.object = object;
    }

    /** Reads at most {@code maxBytes} of UTF-8 JSON object, whose fields must be among {@code allowed}. */
    static JsonFields read(InputStream body, int maxBytes, Set<String> allowed) throws ApiError, IOException {
        byte[] bytes = body.readNBytes(maxBytes + 1);
        if (bytes.length > maxBytes) {
            throw new ApiError(413, null, "the body is over " + maxBytes + " bytes");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new ApiError(400, null, "the body is not UTF-8");
        }
        JsonValue value;
        try (JsonReader reader = Json.createReader(new StringReader(text))) {
            value = reader.readValue();
        } catch (JsonException e) {
            throw new ApiError(400, null, "the body is not JSON: " + e.getMessage());
        }
        if (value.getValueType() != JsonValue.ValueType.OBJECT) {
            throw new ApiError(400, null, "the body must be a JSON object");
        }
        JsonFields fields = new JsonFields(value.asJsonObject());
        for (String name : fields.object.keySet()) {
            if (!allowed.contains(name)) {
                throw ApiError.badField(name, "is not a field of this request; expected one of " + allowed);
            }
        }
        return fields;
    }

    /** A string field, or null where absent. */
    String string(String name) throws ApiError {
        JsonValue value = present(name);
        if (value == null) {
            return null;
        }
        if (value.getValueType() != JsonValue.ValueType.STRING) {
            throw ApiError.badField(name, "must be a string");
        }
        return object.getString(name);
    }

    /** An array of strings, empty where absent. */
    List<String> strings(String name) throws ApiError {
        JsonArray array = array(name);
        List<String> strings = new ArrayList<>();
        for (JsonValue item : array) {
            if (item.getValueType() != JsonValue.ValueType.STRING) {
                throw ApiError.badField(name, "must be an array of strings");
            }
            strings.add(((jakarta.json.JsonString) item).getString());
        }
        return strings;
    }

    /** An array, empty where absent. */
    JsonArray array(String name) throws ApiError {
        JsonValue value = present(name);
        if (value == null) {
            return JsonValue.EMPTY_JSON_ARRAY;
        }
        if (value.getValueType() != JsonValue.ValueType.ARRAY) {
            throw ApiError.badField(name, "must be an array");
        }
        return value.asJsonArray();
    }

    /** A boolean, false where absent. */
    boolean flag(String name) throws ApiError {
        JsonValue value = present(name);
        if (value == null || value == JsonValue.FALSE) {
            return false;
        }
        if (value != JsonValue.TRUE) {
            throw ApiError.badField(name, "must be true or false");
        }
        return true;
    }

    /** An object field, or null where absent. */
    JsonFields object(String name, Set<String> allowed) throws ApiError {
        JsonValue value = present(name);
        if (value == null) {
            return null;
        }
        if (value.getValueType() != JsonValue.ValueType.OBJECT) {
            throw ApiError.badField(name, "must be an object");
        }
        JsonFields inner = new JsonFields(value.asJsonObject());
        for (String innerName : inner.object.keySet()) {
            if (!allowed.contains(innerName)) {
                throw ApiError.badField(name + "." + innerName, "is not a field of '" + name + "'; expected one of " + allowed);
            }
        }
        return inner;
    }

    /** A whole number within {@code [min, max]}, named {@code label} in errors. */
    long number(String name, String label, long min, long max) throws ApiError {
        JsonValue value = present(name);
        if (value == null || value.getValueType() != JsonValue.ValueType.NUMBER
                || !object.getJsonNumber(name).isIntegral()) {
            throw ApiError.badField(label, "must be a whole number from " + min + " to " + max);
        }
        long number;
        try {
            number = object.getJsonNumber(name).longValueExact();
        } catch (ArithmeticException e) {
            number = Long.MAX_VALUE;
        }
        if (number < min || number > max) {
            throw ApiError.badField(label, "must be a whole number from " + min + " to " + max);
        }
        return number;
    }

    /** The value, or null where absent or JSON null. */
    private JsonValue present(String name) {
        JsonValue value = object.get(name);
        return value == null || value == JsonValue.NULL ? null : value;
    }
}

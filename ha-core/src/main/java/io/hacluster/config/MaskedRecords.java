package io.hacluster.config;

import io.hacluster.db.Dsn;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.List;
import java.util.StringJoiner;
import java.util.stream.Collectors;

/**
 * The {@code toString} of every settings record: the record's own layout
 * ({@code Name[field=value, ...]}) with every string, and every string in a list, passed through
 * {@link Dsn#mask}. A DSN (or a password) can end up in any string field by mistake, and a
 * settings record is exactly what gets logged.
 */
final class MaskedRecords {

    private MaskedRecords() {
    }

    /** Fields that hold a secret outright: printed as {@code ****} when set, whatever they hold. */
    private static final java.util.Set<String> SECRETS = java.util.Set.of("gossipEncryptionKey");

    static String toString(Record settings) {
        StringJoiner fields = new StringJoiner(", ", settings.getClass().getSimpleName() + "[", "]");
        for (RecordComponent component : settings.getClass().getRecordComponents()) {
            Object value = value(settings, component);
            if (SECRETS.contains(component.getName())) {
                fields.add(component.getName() + "=" + (value == null || "".equals(value) ? "" : "****"));
                continue;
            }
            fields.add(component.getName() + "=" + masked(value));
        }
        return fields.toString();
    }

    private static String masked(Object value) {
        if (value instanceof String text) {
            return Dsn.mask(text);
        }
        if (value instanceof List<?> list) {
            return list.stream().map(MaskedRecords::masked).collect(Collectors.joining(", ", "[", "]"));
        }
        return String.valueOf(value);  // numbers, booleans, and nested records (which mask themselves)
    }

    private static Object value(Record settings, RecordComponent component) {
        try {
            return component.getAccessor().invoke(settings);
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("cannot read " + component, e);
        }
    }
}

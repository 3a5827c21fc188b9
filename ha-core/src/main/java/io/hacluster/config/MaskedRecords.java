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
 * {@link Dsn#mask}, and every non-empty secret field ({@code ...Password}, the gossip key) as {@code ****}. A DSN (or a password) can end up in any string field by mistake, and a
 * settings record is exactly what gets logged.
 */
final class MaskedRecords {

    private MaskedRecords() {
    }

    /** Fields that hold a secret outright, whatever their name says. */
    private static final java.util.Set<String> SECRETS = java.util.Set.of("gossipEncryptionKey");

    static String toString(Record settings) {
        StringJoiner fields = new StringJoiner(", ", settings.getClass().getSimpleName() + "[", "]");
        for (RecordComponent component : settings.getClass().getRecordComponents()) {
            Object value = value(settings, component);
            if (isSecret(component) && value instanceof String text && !text.isEmpty()) {
                fields.add(component.getName() + "=****");  // a password field: never shown, not even in part
                continue;
            }
            fields.add(component.getName() + "=" + masked(value));
        }
        return fields.toString();
    }

    /** Whether the component holds a secret: by its name ({@code ...Password}) or listed in {@link #SECRETS}. */
    static boolean isSecret(RecordComponent component) {
        return SECRETS.contains(component.getName())
                || component.getName().toLowerCase(java.util.Locale.ROOT).endsWith("password");
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

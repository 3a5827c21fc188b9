package io.hacluster.db;

/** PostgreSQL WAL positions ({@code pg_lsn}, written {@code X/Y} in hex) as unsigned 64-bit values. */
final class Lsn {

    private Lsn() {
    }

    /** Parses {@code X/Y}; each half is at most 8 hex digits. */
    static long parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("LSN is null");
        }
        int slash = text.indexOf('/');
        if (slash <= 0 || slash == text.length() - 1 || slash > 8 || text.length() - slash - 1 > 8) {
            throw new IllegalArgumentException("not a WAL position (X/Y in hex): " + abbreviate(text));
        }
        for (int i = 0; i < text.length(); i++) {
            if (i != slash && Character.digit(text.charAt(i), 16) < 0) {
                throw new IllegalArgumentException("not a WAL position (X/Y in hex): " + abbreviate(text));
            }
        }
        try {
            long hi = Long.parseLong(text.substring(0, slash), 16);
            long lo = Long.parseLong(text.substring(slash + 1), 16);
            return hi << 32 | lo;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a WAL position (X/Y in hex): " + abbreviate(text));
        }
    }

    static String format(long lsn) {
        return Long.toHexString(lsn >>> 32).toUpperCase() + "/" + Long.toHexString(lsn & 0xffffffffL).toUpperCase();
    }

    /** Bytes from {@code from} up to {@code to}, 0 when {@code from} is already at or past it. */
    static long distance(long to, long from) {
        return Long.compareUnsigned(to, from) > 0 ? to - from : 0;
    }

    static boolean reached(long position, long target) {
        return Long.compareUnsigned(position, target) >= 0;
    }

    private static String abbreviate(String text) {
        return text.length() <= 40 ? text : text.substring(0, 40) + "...";
    }
}

package io.hacluster.db;

/**
 * A read-your-writes token: the primary's WAL insert position taken after a write committed.
 * A read carrying it goes only to a replica that has replayed at least this position, else to
 * the master. Its {@linkplain #asString() string form} is PostgreSQL's own LSN text (for example
 * {@code 16/B374D848}, at most 17 characters), short enough for a session attribute or cookie.
 *
 * <p>A token is not a secret and not authenticated: a forged token can only make reads go to
 * the master, never to a staler replica than the client already accepts.
 */
public record ConsistencyToken(long walPosition) {

    /** Parses the {@link #asString()} form; throws IllegalArgumentException on anything else. */
    public static ConsistencyToken parse(String text) {
        return new ConsistencyToken(Lsn.parse(text == null ? null : text.strip()));
    }

    /** The LSN text, e.g. {@code 0/3000148}. */
    public String asString() {
        return Lsn.format(walPosition);
    }

    /** True if a server that has replayed {@code replayPosition} has everything this token covers. */
    public boolean coveredBy(long replayPosition) {
        return Lsn.reached(replayPosition, walPosition);
    }

    @Override
    public String toString() {
        return asString();
    }
}

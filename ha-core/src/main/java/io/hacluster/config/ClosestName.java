package io.hacluster.config;

import java.util.Collection;
import java.util.Locale;

/**
 * The known name nearest to a misspelt one, for "did you mean ...?": the Levenshtein distance
 * between lower-cased names (names match case-insensitively anyway), the first known name
 * winning a tie.
 */
final class ClosestName {

    private ClosestName() {
    }

    /** The name in {@code known} (not empty) nearest to {@code name}. */
    static String among(String name, Collection<String> known) {
        String target = name.toLowerCase(Locale.ROOT);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : known) {
            int d = distance(target, candidate.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                best = candidate;
                bestDistance = d;
            }
        }
        if (best == null) {
            throw new IllegalArgumentException("no known names");
        }
        return best;
    }

    /** Levenshtein distance: insertions, deletions and substitutions, one each. */
    static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j] + 1, current[j - 1] + 1));
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}

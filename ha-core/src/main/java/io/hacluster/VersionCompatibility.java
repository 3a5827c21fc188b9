package io.hacluster;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * When two nodes count as running the same version: the same {@code major.minor} of the
 * application version and the same schema version. Patch releases (and build or pre-release
 * suffixes) may differ, so a rolling patch upgrade stays GREEN; a minor upgrade shows the nodes
 * not yet upgraded as RED until it finishes, which is what an operator should see during one.
 * A version that does not start with {@code major.minor} is compared as a whole string.
 */
final class VersionCompatibility {

    private static final Pattern MAJOR_MINOR = Pattern.compile("^v?(\\d+)\\.(\\d+)(?:[.\\-+].*)?$");

    private VersionCompatibility() {
    }

    /** The part of a version and schema version that must agree across the cluster. */
    static String key(String version, String schemaVersion) {
        Matcher m = MAJOR_MINOR.matcher(version);
        String release = m.matches()
                ? stripLeadingZeros(m.group(1)) + "." + stripLeadingZeros(m.group(2))
                : version;
        return release + "|" + schemaVersion;
    }

    private static String stripLeadingZeros(String digits) {
        int i = 0;
        while (i < digits.length() - 1 && digits.charAt(i) == '0') {
            i++;
        }
        return digits.substring(i);
    }

    static boolean compatible(String versionA, String schemaA, String versionB, String schemaB) {
        return key(versionA, schemaA).equals(key(versionB, schemaB));
    }
}

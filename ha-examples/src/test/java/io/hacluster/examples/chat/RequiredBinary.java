package io.hacluster.examples.chat;

import static org.assertj.core.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * A system binary a test needs (nginx, chromium). On CI ({@code CI=true}) a missing one fails
 * the test with the package to install; elsewhere the test is skipped with that message.
 */
final class RequiredBinary {

    private RequiredBinary() {
    }

    static Path require(String what, String debianPackage, List<Path> candidates) {
        for (Path p : candidates) {
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        String message = what + " is not installed (" + candidates + "); on Debian: apt-get install "
                + debianPackage + " (.ci/run installs it)";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            fail(message);
        }
        Assumptions.abort(message);
        return null;
    }

    static Path nginx() {
        return require("nginx", "nginx-light", List.of(Path.of("/usr/sbin/nginx"), Path.of("/usr/bin/nginx")));
    }

    static Path chromium() {
        return require("chromium", "chromium", List.of(Path.of("/usr/bin/chromium"), Path.of("/usr/bin/chromium-browser")));
    }
}

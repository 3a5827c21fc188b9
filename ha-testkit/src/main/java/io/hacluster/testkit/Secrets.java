package io.hacluster.testkit;

import java.security.SecureRandom;

/** Random passwords for the roles of a topology. */
final class Secrets {

    private static final SecureRandom random = new SecureRandom();
    private static final String ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

    private Secrets() {}

    /**
     * A password of 24 letters and digits (about 140 bits). Only URL- and conf-safe characters, so it
     * goes into DSNs and {@code primary_conninfo} without escaping.
     */
    static String password() {
        StringBuilder password = new StringBuilder(24);
        for (int i = 0; i < 24; i++) {
            password.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        }
        return password.toString();
    }
}

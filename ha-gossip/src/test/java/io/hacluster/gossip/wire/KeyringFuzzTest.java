package io.hacluster.gossip.wire;

import io.hacluster.gossip.Keyring;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded fuzz of the encrypted wire with the product {@link Keyring}: mutated ciphertext
 * (a stranger), plaintext mutated and then properly encrypted (an insider holding the key sending
 * garbage), and mutated plaintext at an encrypting receiver that accepts plaintext too. Every
 * input must decode or fail with {@link MalformedMessageException}; nothing else may escape, and
 * the whole run is bounded in time. {@value #COUNT_PROPERTY} sets the number of cases (default
 * 50,000 in CI); {@code ha.test.seed} the base seed. A long run:
 * {@code mvn -pl ha-gossip test -Dtest=KeyringFuzzTest -Dha.fuzz.gossip.count=2000000}.
 */
class KeyringFuzzTest {

    static final String COUNT_PROPERTY = "ha.fuzz.gossip.count";
    private static final byte[] KEY = new byte[32];
    private static final byte[] OTHER_KEY = new byte[16];

    static {
        new Random(11).nextBytes(KEY);
        new Random(12).nextBytes(OTHER_KEY);
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void mutatedEncryptedAndPlaintextPacketsAndStreamsNeverEscapeTheDecoder() {
        int count = Integer.getInteger(COUNT_PROPERTY, 50_000);
        long base = SeededProperty.baseSeed();
        Keyring ring = Keyring.of(KEY, OTHER_KEY);
        WireOptions[] senders = {
                WireOptions.DEFAULT.withCipher(ring.cipherFor(2)),
                WireOptions.DEFAULT.withCipher(ring.cipherFor(1)),           // version 0, padded
                WireOptions.DEFAULT.withLabel("sec").withCipher(ring.cipherFor(2)),
        };
        WireOptions strict = WireOptions.DEFAULT.withCipher(ring.cipherFor(2));
        WireOptions lenient = new WireOptions("", false, ring.cipherFor(2), false, true, true, WireLimits.DEFAULT);
        WireOptions strictLabelled = strict.withLabel("sec");
        int decoded = 0, refused = 0;
        for (int i = 0; i < count; i++) {
            long seed = SeededProperty.caseSeed(base, "keyringFuzz", i);
            Random random = new Random(seed);
            boolean stream = random.nextInt(4) == 0;
            int mode = random.nextInt(3);
            WireOptions sender = senders[random.nextInt(senders.length)];
            WireOptions receiver = mode == 2 ? lenient : sender.label().isEmpty() ? strict : strictLabelled;
            byte[] input;
            byte[] plain = stream ? ValidWireInputs.streamMessage(random)
                    : ValidWireInputs.packetPayload(ValidWireInputs.packetMessages(random));
            byte[] donor = ValidWireInputs.bytes(random, 64);
            switch (mode) {
                case 0 -> { // stranger: mutate what travels
                    byte[] valid = stream ? Streams.wrap(plain, sender) : Packets.wrap(plain, random.nextBoolean(), sender);
                    input = ByteMutator.mutate(valid, donor, random);
                }
                case 1 -> { // insider: garbage sealed with a real key
                    byte[] garbage = ByteMutator.mutate(plain, donor, random);
                    if (garbage.length == 0) {
                        garbage = new byte[] {0};
                    }
                    input = stream ? Streams.wrap(garbage, sender) : Packets.wrap(garbage, false, sender);
                }
                default -> { // plaintext, mutated, at a receiver that takes plaintext too
                    WireOptions plainSender = WireOptions.DEFAULT.withCompression(random.nextBoolean());
                    byte[] valid = stream ? Streams.wrap(plain, plainSender)
                            : Packets.wrap(plain, random.nextBoolean(), plainSender);
                    input = ByteMutator.mutate(valid, donor, random);
                }
            }
            try {
                if (stream) {
                    byte[] msg = Streams.unwrap(input, receiver);
                    MessageType type = Codec.typeOf(msg);
                    if (type == MessageType.PUSH_PULL) {
                        Codec.decodePushPull(msg, receiver.limits());
                    } else if (type == MessageType.USER) {
                        Codec.decodeUserStream(msg, receiver.limits());
                    } else {
                        Codec.decode(msg, receiver.limits());
                    }
                } else {
                    for (byte[] part : Packets.unwrap(input, receiver).messages()) {
                        try {
                            Codec.decode(part, receiver.limits());
                        } catch (MalformedMessageException e) {
                            refused++;
                        }
                    }
                }
                decoded++;
            } catch (MalformedMessageException e) {
                refused++;
            } catch (RuntimeException | Error e) {
                fail("case " + i + " (seed " + seed + ", mode " + mode + (stream ? ", stream" : ", packet")
                        + ") escaped the decoder: " + e, e);
            }
        }
        // Both outcomes occur: the run is not vacuous.
        assertThat(decoded).isPositive();
        assertThat(refused).isPositive();
    }
}

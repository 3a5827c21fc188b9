package io.hacluster.gossip;

import io.hacluster.gossip.wire.MalformedMessageException;
import io.hacluster.gossip.wire.PayloadCipher;
import org.junit.jupiter.api.Test;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KeyringTest {

    private static final byte[] LABEL = "prod".getBytes(StandardCharsets.UTF_8);

    private static byte[] key(int length, int seed) {
        byte[] k = new byte[length];
        new Random(seed).nextBytes(k);
        return k;
    }

    @Test
    void versionFollowsTheProtocolVersionAsInMemberlist() {
        assertThat(Keyring.encryptionVersionFor(1)).isZero();
        for (int p = 2; p <= 5; p++) {
            assertThat(Keyring.encryptionVersionFor(p)).isEqualTo(1);
        }
        Keyring ring = Keyring.of(key(32, 1));
        assertThat(ring.cipherFor(1).encrypt(new byte[3], LABEL)[0]).isZero();
        assertThat(ring.cipherFor(2).encrypt(new byte[3], LABEL)[0]).isEqualTo((byte) 1);
    }

    @Test
    void bothVersionsRoundTripAtEveryLengthAndHaveMemberlistsSizes() throws Exception {
        for (int keyLength : new int[] {16, 24, 32}) {
            Keyring ring = Keyring.of(key(keyLength, keyLength));
            for (int protocol : new int[] {1, 2}) {
                PayloadCipher c = ring.cipherFor(protocol);
                for (int n = 0; n <= 40; n++) {
                    byte[] plain = key(Math.max(n, 1), n);
                    plain = Arrays.copyOf(plain, n);
                    byte[] sealed = c.encrypt(plain, LABEL);
                    assertThat(sealed).hasSize(c.encryptedLength(n));
                    // memberlist: version 1 adds 29 bytes, version 0 adds 29 plus 1..16 of padding
                    int overhead = sealed.length - n;
                    if (protocol == 1) {
                        assertThat(overhead).isBetween(30, 45);
                        assertThat((n + overhead - 29) % 16).isZero();
                    } else {
                        assertThat(overhead).isEqualTo(29);
                    }
                    assertThat(c.decrypt(sealed, LABEL)).isEqualTo(plain);
                }
            }
        }
    }

    @Test
    void aVersionZeroPayloadBuiltByHandWithTheJdkDecodes() throws Exception {
        byte[] k = key(16, 7);
        byte[] plain = "hello memberlist".getBytes(StandardCharsets.UTF_8); // 16 bytes: a full block of padding
        byte[] padded = Arrays.copyOf(plain, 32);
        Arrays.fill(padded, 16, 32, (byte) 16);
        byte[] nonce = key(12, 8);
        Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
        gcm.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(k, "AES"), new GCMParameterSpec(128, nonce));
        gcm.updateAAD(LABEL);
        byte[] sealed = gcm.doFinal(padded);
        byte[] msg = new byte[13 + sealed.length];
        msg[0] = 0;
        System.arraycopy(nonce, 0, msg, 1, 12);
        System.arraycopy(sealed, 0, msg, 13, sealed.length);
        assertThat(Keyring.of(k).cipherFor(2).decrypt(msg, LABEL)).isEqualTo(plain);
    }

    @Test
    void theLabelIsAuthenticated() {
        PayloadCipher c = Keyring.of(key(32, 2)).cipherFor(2);
        byte[] sealed = c.encrypt(new byte[] {1, 2, 3}, LABEL);
        assertThatThrownBy(() -> c.decrypt(sealed, "other".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(MalformedMessageException.class);
        assertThatThrownBy(() -> c.decrypt(sealed, new byte[0])).isInstanceOf(MalformedMessageException.class);
    }

    @Test
    void rotationInstallUseRemoveWithoutAGap() throws Exception {
        byte[] oldKey = key(32, 3);
        byte[] newKey = key(32, 4);
        Keyring a = Keyring.of(oldKey);
        Keyring b = Keyring.of(oldKey);
        byte[] fromOld = a.cipherFor(2).encrypt(new byte[] {9}, LABEL);

        a.installKey(newKey);
        b.installKey(newKey);
        a.installKey(newKey); // idempotent
        assertThat(a.keys()).hasSize(2);
        a.useKey(newKey);
        assertThat(a.primaryKey()).isEqualTo(newKey);
        byte[] fromNew = a.cipherFor(2).encrypt(new byte[] {7}, LABEL);
        // b still encrypts with the old key and reads both
        assertThat(b.cipherFor(2).decrypt(fromNew, LABEL)).containsExactly(7);
        assertThat(a.cipherFor(2).decrypt(fromOld, LABEL)).containsExactly(9);

        assertThatThrownBy(() -> a.removeKey(newKey)).hasMessageContaining("primary");
        a.removeKey(oldKey);
        assertThat(a.keys()).hasSize(1);
        assertThatThrownBy(() -> a.cipherFor(2).decrypt(fromOld, LABEL))
                .isInstanceOf(MalformedMessageException.class)
                .hasMessageContaining("no installed key");
        assertThatThrownBy(() -> a.useKey(oldKey)).hasMessageContaining("not in the keyring");
    }

    @Test
    void badKeysAndBadPayloadsAreRefusedCleanly() {
        assertThatThrownBy(() -> Keyring.of(new byte[15])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Keyring.decodeKey("not base64 !!")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageNotContaining("!!");
        PayloadCipher c = Keyring.of(key(16, 5)).cipherFor(2);
        assertThatThrownBy(() -> c.decrypt(new byte[0], LABEL)).isInstanceOf(MalformedMessageException.class);
        assertThatThrownBy(() -> c.decrypt(new byte[28], LABEL)).isInstanceOf(MalformedMessageException.class);
        assertThatThrownBy(() -> c.decrypt(new byte[44], LABEL)).isInstanceOf(MalformedMessageException.class);
        byte[] v2 = new byte[60];
        v2[0] = 2;
        assertThatThrownBy(() -> c.decrypt(v2, LABEL)).hasMessageContaining("version 2");
    }

    @Test
    void encryptionAndDecryptionRunConcurrentlyWithRotation() throws Exception {
        byte[] a = key(32, 30);
        byte[] b = key(32, 31);
        Keyring ring = Keyring.of(a, b);
        PayloadCipher c = ring.cipherFor(2);
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicLong roundTrips = new java.util.concurrent.atomic.AtomicLong();
        java.util.List<Thread> workers = new java.util.ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int seed = t;
            Thread w = new Thread(() -> {
                Random r = new Random(seed);
                while (!stop.get()) {
                    byte[] plain = new byte[r.nextInt(300)];
                    r.nextBytes(plain);
                    try {
                        // both keys stay installed: whichever is primary, every packet decrypts
                        assertThat(c.decrypt(c.encrypt(plain, LABEL), LABEL)).isEqualTo(plain);
                        roundTrips.incrementAndGet();
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                        return;
                    }
                }
            });
            workers.add(w);
            w.start();
        }
        for (int i = 0; i < 2_000 && failure.get() == null; i++) {
            ring.useKey(i % 2 == 0 ? b : a);
            ring.installKey(key(16, 1000 + i));
            ring.removeKey(key(16, 1000 + i));
        }
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> roundTrips.get() > 1_000 || failure.get() != null);
        stop.set(true);
        for (Thread w : workers) {
            w.join(10_000);
        }
        assertThat(failure.get()).isNull();
        assertThat(ring.keys()).hasSize(2);
    }

    @Test
    void keysNeverAppearInToString() {
        byte[] k = key(32, 6);
        Keyring ring = Keyring.of(k);
        String text = ring + " " + ring.cipherFor(2) + " "
                + GossipConfig.local("n").toBuilder().keyring(ring).build();
        assertThat(text).doesNotContain(Keyring.encodeKey(k)).contains("keys=1");
        for (int i = 0; i + 4 <= k.length; i++) {
            assertThat(text).doesNotContain(String.format("%02x%02x%02x%02x", k[i], k[i + 1], k[i + 2], k[i + 3]));
        }
    }
}

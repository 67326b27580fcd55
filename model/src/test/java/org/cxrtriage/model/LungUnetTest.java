package org.cxrtriage.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Random;
import org.cxrtriage.imaging.LungMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LungUnetTest {
    private static final int SIZE = 32;

    @BeforeAll
    static void init() {
        TestModels.init();
    }

    private static LungModelMetadata metadata(long seed) {
        return new LungModelMetadata("lung-test", "0.0.1", SIZE, 4, 3, seed, false, Double.NaN,
                Instant.parse("2026-01-01T00:00:00Z"), "test");
    }

    private static byte[] plane(int size, long seed) {
        byte[] b = new byte[size * size];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void saveLoadRoundTripGivesTheSameLungMap(@TempDir Path dir) throws Exception {
        byte[] input = plane(SIZE, 7);
        LungMap before;
        try (LungModelDirectory.Loaded fresh = LungModelDirectory.initialise(metadata(3), Device.cpu())) {
            before = new UnetLungSegmenter(fresh).segment(input, SIZE);
            LungModelDirectory.save(dir, fresh.model(), metadata(3));
        }
        assertThat(Files.list(dir).map(p -> p.getFileName().toString()))
                .containsExactlyInAnyOrder(LungModelDirectory.METADATA_FILE, "lung-unet-0000.params");
        try (UnetLungSegmenter loaded = UnetLungSegmenter.load(dir)) {
            assertThat(loaded.metadata()).isEqualTo(metadata(3));
            assertThat(loaded.version()).isEqualTo("unet-lungs:lung-test:0.0.1");
            LungMap after = loaded.segment(input, SIZE);
            assertThat(after.probability()).containsExactly(before.probability());
            assertThat(after.lungAreaFraction()).isEqualTo(before.lungAreaFraction());
        }
    }

    @Test
    void planesOfAnotherSizeComeBackAtTheirSize(@TempDir Path dir) throws Exception {
        try (LungModelDirectory.Loaded fresh = LungModelDirectory.initialise(metadata(5), Device.cpu())) {
            LungModelDirectory.save(dir, fresh.model(), metadata(5));
        }
        try (UnetLungSegmenter segmenter = UnetLungSegmenter.load(dir)) {
            LungMap map = segmenter.segment(plane(96, 1), 96);
            assertThat(map.probability()).hasSize(96 * 96);
            assertThat(map.lungAreaFraction()).isBetween(0.0, 1.0);
        }
    }

    @Test
    void aSegmenterWithItsOwnThreadCountRunsWithItOnTheCallingThread() throws Exception {
        int original = TorchRuntime.switchIntraOpThreads(2);
        try (LungModelDirectory.Loaded fresh = LungModelDirectory.initialise(metadata(3), Device.cpu())) {
            UnetLungSegmenter segmenter = new UnetLungSegmenter(fresh).withIntraOpThreads(1);
            byte[] input = plane(SIZE, 5);
            int[] seen = new int[1];
            Thread stream = new Thread(() -> {
                segmenter.segment(input, SIZE);
                seen[0] = ai.djl.pytorch.jni.JniUtils.getNumThreads();
            });
            stream.start();
            stream.join();
            assertThat(seen[0]).isEqualTo(1);
            assertThat(ai.djl.pytorch.jni.JniUtils.getNumThreads()).isEqualTo(2);
        } finally {
            TorchRuntime.switchIntraOpThreads(original);
        }
    }

    @Test
    void sameSeedSameWeights() throws Exception {
        byte[] input = plane(SIZE, 9);
        try (LungModelDirectory.Loaded a = LungModelDirectory.initialise(metadata(11), Device.cpu());
                LungModelDirectory.Loaded b = LungModelDirectory.initialise(metadata(11), Device.cpu())) {
            assertThat(new UnetLungSegmenter(a).segment(input, SIZE).probability())
                    .containsExactly(new UnetLungSegmenter(b).segment(input, SIZE).probability());
        }
    }

    @Test
    void missingOrMismatchedDirectoriesAreRefused(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> UnetLungSegmenter.load(dir)).isInstanceOf(InvalidModelException.class)
                .hasMessageContaining(LungModelDirectory.METADATA_FILE);
        try (LungModelDirectory.Loaded fresh = LungModelDirectory.initialise(metadata(5), Device.cpu())) {
            LungModelDirectory.save(dir, fresh.model(), metadata(5));
        }
        LungModelMetadata wider = new LungModelMetadata("lung-test", "0.0.1", SIZE, 8, 3, 5, false, Double.NaN,
                Instant.parse("2026-01-01T00:00:00Z"), "");
        Files.writeString(dir.resolve(LungModelDirectory.METADATA_FILE), wider.toJson());
        assertThatThrownBy(() -> UnetLungSegmenter.load(dir)).isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("do not match");
    }

    @Test
    void inputSizeMustFitThePoolings() {
        assertThatThrownBy(() -> new LungModelMetadata("x", "1", 100, 8, 5, 1, false, Double.NaN, Instant.now(), ""))
                .isInstanceOf(IllegalArgumentException.class);
    }
}

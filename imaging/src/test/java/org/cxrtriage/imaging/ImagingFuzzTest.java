package org.cxrtriage.imaging;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Coverage-guided fuzzing of everything that parses untrusted bytes. The property: any byte array either yields a
 * valid image or an {@link InvalidImageException} with a reason; never another exception, an OutOfMemoryError or a
 * hang.
 *
 * <p>In a normal build these run in regression mode over the seeds (the bad-input corpus and a few valid images).
 * With {@code JAZZER_FUZZ=1} one of them fuzzes for {@link #DURATION} (see {@code bin/fuzz.sh}); findings are written
 * to {@code src/test/resources/org/cxrtriage/imaging/ImagingFuzzTestInputs/<method>/} and replayed by every build from
 * then on.
 */
class ImagingFuzzTest {

    /** Small limits keep every decode a fuzzer can reach cheap: at most 2 megapixels, 1 MiB. */
    static final ImageLimits LIMITS = new ImageLimits(1L << 20, 2_000_000, 1);
    static final String DURATION = "45s";

    /** The corpus entries small enough to mutate usefully, plus valid images of every format. */
    static Stream<Arguments> seeds() {
        return Stream.concat(
                BadInputCorpus.entries().stream().map(BadInputCorpus.Entry::bytes).filter(b -> b.length <= 64 * 1024)
                        .distinct(),
                Stream.of(BadInputCorpus.goodChestPng(), new SyntheticDicom().write(),
                        TestImages.encode(TestImages.gray16(TestImages.chestPhantom(70)), "tiff")))
                .map(b -> Arguments.of((Object) b));
    }

    @FuzzTest(maxDuration = DURATION)
    @MethodSource("seeds")
    void probe(byte[] data) {
        try {
            ImageInfo info = ImageProbe.probe(data, LIMITS);
            assertThat(info.pixelCount()).isBetween(1L, LIMITS.maxPixels());
        } catch (InvalidImageException e) {
            assertThat(e.code()).isNotNull();
        }
    }

    @FuzzTest(maxDuration = DURATION)
    @MethodSource("seeds")
    void decode(byte[] data) {
        try {
            GrayImage image = ImageDecoder.decode(data, LIMITS);
            assertThat(inUnitRange(image.pixels())).as("pixels in [0, 1]").isTrue();
        } catch (InvalidImageException e) {
            assertThat(e.code()).isNotNull();
        }
    }

    @FuzzTest(maxDuration = DURATION)
    @MethodSource("seeds")
    void dicom(byte[] data) {
        try {
            GrayImage image = DicomImage.decode(data, LIMITS);
            assertThat(inUnitRange(image.pixels())).as("pixels in [0, 1]").isTrue();
            byte[] stripped = DicomDeidentifier.strip(data);
            assertThat(DicomImage.decode(stripped, LIMITS).pixels()).containsExactly(image.pixels());
        } catch (InvalidImageException e) {
            assertThat(e.code()).isNotNull();
        }
    }

    private static boolean inUnitRange(float[] pixels) {
        for (float p : pixels) {
            if (!(p >= 0f && p <= 1f)) {
                return false;
            }
        }
        return true;
    }
}

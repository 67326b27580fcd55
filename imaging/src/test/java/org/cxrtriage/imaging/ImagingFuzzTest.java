package org.cxrtriage.imaging;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Coverage-guided fuzzing of everything that parses untrusted bytes (and of the metadata stripping, which must not
 * change what an image decodes to). The property: any byte array either yields a
 * valid image or an {@link InvalidImageException} with a reason; never another exception, an OutOfMemoryError or a
 * hang.
 *
 * <p>{@code @FuzzTest} must come after {@code @MethodSource} (Jazzer checks the order).
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

    @MethodSource("seeds")
    @FuzzTest(maxDuration = DURATION)
    void probe(byte[] data) {
        try {
            ImageInfo info = ImageProbe.probe(data, LIMITS);
            assertThat(info.pixelCount()).isBetween(1L, LIMITS.maxPixels());
        } catch (InvalidImageException e) {
            assertThat(e.code()).isNotNull();
        }
    }

    @MethodSource("seeds")
    @FuzzTest(maxDuration = DURATION)
    void decode(byte[] data) {
        try {
            GrayImage image = ImageDecoder.decode(data, LIMITS);
            assertThat(inUnitRange(image.pixels())).as("pixels in [0, 1]").isTrue();
        } catch (InvalidImageException e) {
            assertThat(e.code()).isNotNull();
        }
    }

    @MethodSource("seeds")
    @FuzzTest(maxDuration = DURATION)
    void dicom(byte[] data) {
        GrayImage image = null;
        try {
            image = DicomImage.decode(data, LIMITS);
            assertThat(inUnitRange(image.pixels())).as("pixels in [0, 1]").isTrue();
        } catch (InvalidImageException e) {
            assertThat(e.code()).isNotNull();
        }
        byte[] stripped = null;
        try {
            stripped = DicomDeidentifier.strip(data);
        } catch (InvalidImageException e) {
            assertThat(e.code()).isNotNull();
        }
        boolean dicomMagic = data.length > 132 && data[128] == 'D' && data[129] == 'I' && data[130] == 'C'
                && data[131] == 'M';
        if (image != null && dicomMagic) {
            // What ingest publishes must decode to exactly what the upload decodes to.
            assertThat(stripped).as("de-identified").isNotNull();
            assertThat(DicomImage.decode(stripped, LIMITS).pixels()).containsExactly(image.pixels());
        }
    }

    @MethodSource("seeds")
    @FuzzTest(maxDuration = DURATION)
    void strip(byte[] data) {
        ImageInfo info;
        try {
            info = ImageProbe.probe(data, LIMITS);
        } catch (InvalidImageException e) {
            return; // ingest refuses it before stripping
        }
        byte[] stripped;
        try {
            stripped = EmbeddedMetadata.strip(info.format(), data);
        } catch (InvalidImageException e) {
            assertThat(e.code()).isNotNull();
            return;
        }
        GrayImage image;
        try {
            image = ImageDecoder.decode(data, LIMITS);
        } catch (InvalidImageException e) {
            return;
        }
        // What ingest publishes must decode to exactly what the upload decodes to.
        assertThat(java.util.Arrays.equals(ImageDecoder.decode(stripped, LIMITS).pixels(), image.pixels()))
                .as("same pixels").isTrue();
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

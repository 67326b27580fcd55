package org.cxrtriage.imaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.cxrtriage.imaging.BadInputCorpus.Entry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every corpus entry through the probe, the decoder and the whole preprocessing, with its stated outcome. */
class BadInputCorpusTest {

    private static final TensorPlanes PLANES = new TensorPlanes(
            new Preprocessor(PreprocessConfig.ofSize(128).withLimits(BadInputCorpus.LIMITS)), new HeuristicLungSegmenter(),
            TensorPlanes.DEFAULT_MIN_LUNG_FRACTION);

    static List<Entry> entries() {
        return BadInputCorpus.entries();
    }

    @Test
    void theCorpusIsLargeAndCoversEveryFormat() {
        List<Entry> all = BadInputCorpus.entries();
        assertThat(all).hasSizeGreaterThanOrEqualTo(30);
        assertThat(all.stream().map(Entry::name).collect(Collectors.toSet())).hasSameSizeAs(all);
        assertThat(all).extracting(Entry::name).contains("png-truncated", "jpeg-truncated", "tiff-truncated",
                "dicom-pixels-cut", "empty", "text", "png-decompression-bomb", "png-100000x100000-header", "png-1x1",
                "png-10x10", "png-all-black", "png-all-white", "jpeg-cmyk", "dicom-12-in-16", "dicom-7-bits-allocated",
                "dicom-lateral", "missing-patient-id", "oversized-payload", "wrong-content-type-jpeg");
    }

    /** The probe refuses exactly what ingest refuses for image reasons, and passes everything else. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("entries")
    void probe(Entry e) {
        boolean imageRefusal = !e.accepted() && e.decode() != null && e.admission().equals(e.decode().name());
        Throwable t = catchThrowable(() -> ImageProbe.probe(e.bytes(), BadInputCorpus.LIMITS));
        if (imageRefusal) {
            assertThat(t).as(e.why()).isInstanceOfSatisfying(InvalidImageException.class,
                    x -> assertThat(x.code()).isEqualTo(e.decode()));
        } else {
            assertThat(t).as(e.why()).isNull();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("entries")
    void decode(Entry e) {
        Throwable t = catchThrowable(() -> ImageDecoder.decode(e.bytes(), BadInputCorpus.LIMITS));
        if (e.decode() == null) {
            assertThat(t).as(e.why()).isNull();
        } else {
            assertThat(t).as(e.why()).isInstanceOfSatisfying(InvalidImageException.class,
                    x -> assertThat(x.code()).isEqualTo(e.decode()));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("entries")
    void preprocess(Entry e) {
        Throwable t = catchThrowable(() -> PLANES.compute(e.bytes()));
        if (BadInputCorpus.TENSOR.equals(e.preprocess())) {
            assertThat(t).as(e.why()).isNull();
        } else {
            assertThat(t).as(e.why()).isInstanceOfSatisfying(InvalidImageException.class,
                    x -> assertThat(x.code().name()).isEqualTo(e.preprocess()));
        }
    }

    /** De-identified DICOM decodes to the very same pixels and keeps its outcome. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("entries")
    void strippedDicomDecodesToTheSamePixels(Entry e) {
        if (!e.isDicom() || e.decode() != null) {
            return;
        }
        byte[] stripped = DicomDeidentifier.strip(e.bytes());
        assertThat(ImageDecoder.decode(stripped, BadInputCorpus.LIMITS).pixels())
                .containsExactly(ImageDecoder.decode(e.bytes(), BadInputCorpus.LIMITS).pixels());
        assertThatCode(() -> ImageProbe.probe(stripped, BadInputCorpus.LIMITS)).doesNotThrowAnyException();
    }

    @Test
    void acceptedEntriesHaveDistinctBytesSoDuplicateDetectionNeverInterferes() {
        List<Entry> accepted = BadInputCorpus.entries().stream().filter(Entry::accepted).toList();
        assertThat(accepted.stream().map(e -> Arrays.hashCode(e.bytes())).distinct()).hasSameSizeAs(accepted);
    }

    @Test
    void theGeneratorIsDeterministic() {
        byte[] a = BadInputCorpus.entry("png-decompression-bomb").bytes();
        assertThat(Arrays.hashCode(a)).isNotZero();
        assertThat(BadInputCorpus.goodChestPng()).containsExactly(BadInputCorpus.goodChestPng());
    }
}

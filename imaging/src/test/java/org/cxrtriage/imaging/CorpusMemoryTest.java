package org.cxrtriage.imaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.List;
import org.cxrtriage.imaging.BadInputCorpus.Entry;
import org.junit.jupiter.api.Test;

/**
 * Memory stays bounded on hostile input. Runs in its own surefire execution with {@code -Xmx256m} (see the imaging
 * pom): a bomb that got as far as allocating its declared raster would fail with an OutOfMemoryError there.
 */
class CorpusMemoryTest {

    private static final TensorPlanes PLANES = new TensorPlanes(
            new Preprocessor(PreprocessConfig.ofSize(128).withLimits(BadInputCorpus.LIMITS)), new HeuristicLungSegmenter(),
            TensorPlanes.DEFAULT_MIN_LUNG_FRACTION);

    private static long allocatedByThisThread() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    @Test
    void bombsAreRefusedFromTheHeaderBeforeAnyPixelIsAllocated() {
        List<Entry> bombs = BadInputCorpus.entries().stream()
                .filter(e -> e.decode() == RejectReason.TOO_MANY_PIXELS).toList();
        assertThat(bombs).hasSizeGreaterThanOrEqualTo(5);
        for (Entry e : bombs) {
            // Warm up class loading and reader registration, which allocate on first use only.
            catchThrowable(() -> ImageDecoder.decode(e.bytes(), BadInputCorpus.LIMITS));
            long before = allocatedByThisThread();
            long start = System.nanoTime();
            Throwable t = catchThrowable(() -> PLANES.compute(e.bytes()));
            long ms = (System.nanoTime() - start) / 1_000_000;
            long allocated = allocatedByThisThread() - before;
            assertThat(t).as(e.name()).isInstanceOfSatisfying(InvalidImageException.class,
                    x -> assertThat(x.code()).isEqualTo(RejectReason.TOO_MANY_PIXELS));
            // Every bomb declares over 50 M pixels (50 MB at 8 bits); refusing it must cost a few copies of its
            // bytes (the largest is 30 KB), not a raster.
            assertThat(allocated).as(e.name() + " allocated bytes").isLessThan(4L * 1024 * 1024);
            assertThat(ms).as(e.name() + " ms").isLessThan(1000);
        }
    }

    @Test
    void compressedMetadataIsNeverInflated() {
        byte[] bomb = BadInputCorpus.entry("png-ztxt-bomb").bytes();
        ImageDecoder.decode(bomb, BadInputCorpus.LIMITS);
        long before = allocatedByThisThread();
        GrayImage image = ImageDecoder.decode(bomb, BadInputCorpus.LIMITS);
        long allocated = allocatedByThisThread() - before;
        assertThat(image.width()).isEqualTo(192);
        // The zTXt chunk inflates to 100 MB; the image itself needs well under 1 MB.
        assertThat(allocated).as("bytes allocated decoding a %d byte PNG", bomb.length).isLessThan(16L * 1024 * 1024);
    }

    @Test
    void heapUsedAfterGcDoesNotGrowOverManyRunsOfTheWholeCorpus() {
        runCorpus();
        long baseline = usedAfterGc();
        for (int round = 0; round < 8; round++) {
            runCorpus();
        }
        long after = usedAfterGc();
        assertThat(after - baseline).as("heap growth over 8 runs of the corpus (baseline %d MB)", baseline >> 20)
                .isLessThan(16L * 1024 * 1024);
    }

    private static void runCorpus() {
        for (Entry e : BadInputCorpus.entries()) {
            try {
                PLANES.compute(e.bytes());
            } catch (InvalidImageException expected) {
                // the outcome itself is BadInputCorpusTest's business
            }
        }
    }

    private static long usedAfterGc() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return memory.getHeapMemoryUsage().getUsed();
    }
}

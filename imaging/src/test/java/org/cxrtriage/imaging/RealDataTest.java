package org.cxrtriage.imaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Runs the pipeline on real public chest X-rays from the shared data folder (never copied into the project).
 * Found through {@code CXR_DATA_DIR}, the {@code cxr.data.dir} system property, or {@code ../../shared/data/cxr}
 * relative to the module; skipped when absent.
 */
class RealDataTest {

    static Path dataDir() {
        String configured = System.getenv("CXR_DATA_DIR");
        if (configured == null || configured.isBlank()) {
            configured = System.getProperty("cxr.data.dir", "../../shared/data/cxr");
        }
        return Path.of(configured).toAbsolutePath().normalize();
    }

    /** The shared full-resolution PNGs, sorted; the calling test is skipped when they are not there. */
    static List<Path> fullResolutionPngs() throws IOException {
        Path fullres = dataDir().resolve("fullres");
        assumeTrue(Files.isDirectory(fullres), "no full-resolution CXR data at " + fullres);
        try (Stream<Path> list = Files.list(fullres)) {
            return list.filter(p -> p.toString().endsWith(".png")).sorted().toList();
        }
    }

    @Test
    void lungAreaIsPlausibleOnMostRealImages() throws IOException {
        Path images = dataDir().resolve("images");
        assumeTrue(Files.isDirectory(images), "no CXR data at " + images);
        List<Path> sample;
        try (Stream<Path> files = Files.list(images)) {
            List<Path> all = files.filter(p -> p.toString().endsWith(".png")).sorted().toList();
            sample = new ArrayList<>();
            for (int i = 0; i < all.size(); i += Math.max(1, all.size() / 40)) {
                sample.add(all.get(i)); // every source is represented: files are prefixed by source
            }
        }
        Preprocessor preprocessor = new Preprocessor(PreprocessConfig.ofSize(256));
        LungSegmenter segmenter = new HeuristicLungSegmenter();
        int plausible = 0;
        for (Path file : sample) {
            PreprocessedImage out = preprocessor.process(Files.readAllBytes(file));
            double fraction = segmenter.segment(out.cxr(), out.size()).lungAreaFraction();
            if (fraction >= 0.1 && fraction <= 0.6) {
                plausible++;
            } else {
                System.out.printf("implausible lung area %.3f: %s%n", fraction, file.getFileName());
            }
        }
        System.out.printf("lung area plausible on %d of %d real images%n", plausible, sample.size());
        assertThat(sample).hasSizeGreaterThanOrEqualTo(20);
        assertThat(plausible).isGreaterThanOrEqualTo((int) Math.ceil(0.8 * sample.size()));
    }

    @Test
    void fullResolutionImagesAtModelSizes() throws IOException {
        List<Path> files = fullResolutionPngs();
        LungSegmenter segmenter = new HeuristicLungSegmenter();
        for (int size : new int[] {256, 1024}) {
            Preprocessor preprocessor = new Preprocessor(PreprocessConfig.ofSize(size));
            preprocessor.process(Files.readAllBytes(files.get(0))); // warm-up (JIT, OpenCV natives)
            for (Path file : files) {
                PreprocessedImage out = preprocessor.process(Files.readAllBytes(file));
                LungMap lungs = segmenter.segment(out.cxr(), size);
                System.out.printf("size %4d %-50s %4dx%-4d decode %6.1f ms normalise %6.1f ms lungs %.3f crop %s%n", size,
                        file.getFileName(), out.originalWidth(), out.originalHeight(), out.decodeMs(), out.normaliseMs(),
                        lungs.lungAreaFraction(), out.crop());
                assertThat(out.cxr()).hasSize(size * size);
                assertThat(lungs.lungAreaFraction()).isBetween(0.05, 0.6);
            }
        }
    }

    @Test
    void earlyDownscaleMatchesFullResolutionProcessingOnARealImage() throws IOException {
        Path fullres = dataDir().resolve("fullres");
        assumeTrue(Files.isDirectory(fullres), "no full-resolution CXR data at " + fullres);
        Path file;
        try (Stream<Path> list = Files.list(fullres)) {
            file = list.filter(p -> p.getFileName().toString().startsWith("ieee8023")).sorted().findFirst().orElseThrow();
        }
        GrayImage image = ImageDecoder.decode(Files.readAllBytes(file), ImageLimits.defaults());
        PreprocessConfig config = PreprocessConfig.ofSize(512);
        byte[] fast = new Preprocessor(config).process(image).cxr();
        byte[] full = new Preprocessor(config.withWorkingScale(100)).process(image).cxr();
        double diff = PreprocessorTest.meanAbsDiff(fast, full);
        System.out.printf("working scale 2 vs full resolution on %s: mean |diff| %.2f levels%n", file.getFileName(), diff);
        assertThat(diff).isLessThan(4.0);
    }
}

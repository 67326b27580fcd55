package org.cxrtriage.imaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden test of the sample planes: {@code Preprocessor.process(bytes)}, which normalises straight from the decoded
 * samples ({@link Plane}), gives byte for byte the plane and crop of {@code process(ImageDecoder.decode(bytes))},
 * which normalises the float image as before (and as the trainer does for augmented images).
 */
class PlaneGoldenTest {

    static Stream<Arguments> images() {
        List<Arguments> all = new ArrayList<>();
        GrayImage small = TestImages.chestPhantom(192);
        all.add(Arguments.of("png 8-bit 192", TestImages.png(small)));
        all.add(Arguments.of("png 16-bit 192", TestImages.encode(TestImages.gray16(small), "png")));
        all.add(Arguments.of("png rgb 192", TestImages.encode(TestImages.rgb(small), "png")));
        all.add(Arguments.of("jpeg 192", TestImages.encode(TestImages.gray8(small), "jpeg")));
        all.add(Arguments.of("tiff 16-bit 192", TestImages.encode(TestImages.gray16(small), "tiff")));
        // Large enough for a thumbnail factor > 1 and a box reduction factor > 1 at 256 (and not at 1024).
        GrayImage framed = TestImages.framed(1300, 1100, new CropBox(60, 40, 1180, 1000), 0f);
        TestImages.fill(framed, 100, 5, 300, 20, 1f);
        all.add(Arguments.of("png 8-bit 1300x1100 framed", TestImages.png(framed)));
        all.add(Arguments.of("png 16-bit 1300x1100 framed", TestImages.encode(TestImages.gray16(framed), "png")));
        PngGrayTest.Writer odd = new PngGrayTest.Writer();
        odd.width = 1031;
        odd.height = 777;
        all.add(Arguments.of("png 8-bit 1031x777 every filter", odd.write()));
        for (int[] depth : new int[][] {{16, 12, 0}, {16, 12, 1}, {16, 16, 0}, {8, 8, 0}}) {
            for (boolean window : new boolean[] {false, true}) {
                SyntheticDicom d = new SyntheticDicom();
                d.rows = 1100;
                d.cols = 1250;
                d.bitsAllocated = depth[0];
                d.bitsStored = depth[1];
                d.pixelRepresentation = depth[2];
                d.photometric = window ? "MONOCHROME1" : "MONOCHROME2";
                d.slope = "1.5";
                d.intercept = "-100";
                if (window) {
                    d.windowCenter = "1500";
                    d.windowWidth = "3000";
                }
                all.add(Arguments.of("dicom " + depth[1] + "/" + depth[0] + (depth[2] == 1 ? " signed" : "")
                        + (window ? " windowed MONOCHROME1" : ""), d.write()));
            }
        }
        SyntheticDicom smallDicom = new SyntheticDicom();
        all.add(Arguments.of("dicom 112x96", smallDicom.write()));
        return all.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("images")
    void processingTheSamplesEqualsProcessingTheDecodedImage(String name, byte[] encoded) {
        assertSamePlanes(encoded);
    }

    static Stream<Arguments> corpus() {
        return BadInputCorpus.entries().stream().filter(e -> e.decode() == null && e.accepted())
                .map(e -> Arguments.of(e.name(), e.bytes()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void corpusImagesToo(String name, byte[] encoded) {
        assertSamePlanes(encoded);
    }

    @Test
    void realRadiographsAtModelSizes() throws IOException {
        List<Path> files = RealDataTest.fullResolutionPngs();
        for (Path file : files) {
            byte[] png = Files.readAllBytes(file);
            for (int size : new int[] {256, 1024}) {
                assertSamePlanes(png, size);
            }
        }
    }

    private static void assertSamePlanes(byte[] encoded) {
        for (int size : new int[] {64, 256, 1024}) {
            assertSamePlanes(encoded, size);
        }
    }

    private static void assertSamePlanes(byte[] encoded, int size) {
        Preprocessor preprocessor = new Preprocessor(PreprocessConfig.ofSize(size));
        GrayImage decoded = ImageDecoder.decode(encoded, preprocessor.config().limits());
        assertThat(ImageDecoder.decodePlane(encoded, preprocessor.config().limits()).toGray().pixels())
                .isEqualTo(decoded.pixels());
        PreprocessedImage fromFloats;
        try {
            fromFloats = preprocessor.process(decoded);
        } catch (InvalidImageException e) {
            assertThat(org.assertj.core.api.Assertions.catchThrowableOfType(InvalidImageException.class,
                    () -> preprocessor.process(encoded)).code()).isEqualTo(e.code());
            return;
        }
        PreprocessedImage fromSamples = preprocessor.process(encoded);
        assertThat(fromSamples.crop()).isEqualTo(fromFloats.crop());
        assertThat(fromSamples.cxr()).as("size %d", size).isEqualTo(fromFloats.cxr());
    }
}

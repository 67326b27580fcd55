package org.cxrtriage.imaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntBinaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden test of the direct DICOM pixel path: {@link DicomImage} gives exactly the pixels of the ImageJ path it
 * replaced ({@link ImageJDicomReference}) on the synthetic fixtures and on every DICOM entry of the bad-input corpus,
 * and the same refusal where that path refused. Where the two differ on purpose (header fields ImageJ ignored), the
 * expected values are spelled out.
 */
class DicomPixelsGoldenTest {

    private static final ImageLimits LIMITS = BadInputCorpus.LIMITS;

    /** A fixture with a pattern that also holds the smallest and largest stored value. */
    private static byte[] write(SyntheticDicom d) {
        IntBinaryOperator chest = d.chest();
        int max = (1 << d.bitsStored) - 1;
        int offset = d.pixelRepresentation == 1 ? (max + 1) / 2 : 0;
        return d.write((x, y) -> x == 0 && y == 0 ? -offset : x == 1 && y == 0 ? max - offset : chest.applyAsInt(x, y));
    }

    static Stream<Arguments> fixtures() {
        List<Arguments> all = new ArrayList<>();
        int[][] depths = {{16, 16, 0}, {16, 12, 0}, {16, 10, 0}, {16, 16, 1}, {16, 12, 1}, {8, 8, 0}};
        // The last one overflows float: stretched to min..max it made NaN (see below), in a window it clips.
        String[][] rescales = {{"1", "0"}, {"2", "-1024"}, {"0.5", "100.25"}, {"-1", "4095"}, {"1e40", "0"}};
        String[][] windows = {null, {"2000", "3000"}, {"40", "100"}, {"-500", "1000"}};
        for (String syntax : List.of(DicomImage.EXPLICIT_LE, DicomImage.IMPLICIT_LE)) {
            for (int[] depth : depths) {
                for (String photometric : List.of("MONOCHROME2", "MONOCHROME1")) {
                    for (String[] rescale : rescales) {
                        for (String[] window : windows) {
                            SyntheticDicom d = new SyntheticDicom();
                            d.syntax = syntax;
                            d.bitsAllocated = depth[0];
                            d.bitsStored = depth[1];
                            d.pixelRepresentation = depth[2];
                            d.photometric = photometric;
                            d.slope = rescale[0];
                            d.intercept = rescale[1];
                            if (window != null) {
                                d.windowCenter = window[0];
                                d.windowWidth = window[1];
                            }
                            String name = String.format("%s %d/%d%s %s slope %s intercept %s window %s",
                                    syntax.equals(DicomImage.IMPLICIT_LE) ? "implicit" : "explicit", depth[1], depth[0],
                                    depth[2] == 1 ? " signed" : "", photometric, rescale[0], rescale[1],
                                    window == null ? "none" : window[0] + "/" + window[1]);
                            if (window == null && rescale[0].equals("1e40")) {
                                continue; // NaN in the ImageJ path: rescaleOrWindowBeyondTheFloatRange... covers it
                            }
                            all.add(Arguments.of(name, write(d)));
                        }
                    }
                }
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void fixtureDecodesAsTheImageJPathDid(String name, byte[] dicom) {
        assertThat(ImageJDicomReference.decode(dicom, LIMITS).pixels()).as("a valid fixture").isNotEmpty();
        assertSameOutcome(dicom);
    }

    static Stream<Arguments> corpusDicom() {
        return BadInputCorpus.entries().stream().filter(BadInputCorpus.Entry::isDicom)
                .map(e -> Arguments.of(e.name(), e.bytes()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpusDicom")
    void corpusEntryDecodesAsTheImageJPathDid(String name, byte[] dicom) {
        assertSameOutcome(dicom);
    }

    @Test
    void theCorpusHasDicomThatDecodes() {
        long decoding = BadInputCorpus.entries().stream().filter(e -> e.isDicom() && e.decode() == null).count();
        assertThat(decoding).isGreaterThanOrEqualTo(4);
    }

    // ------------------------------------------------------------ where the direct path reads what ImageJ ignored

    private static float[] pixels(byte[] dicom) {
        return DicomImage.decode(dicom, LIMITS).pixels();
    }

    @Test
    void bitsAboveTheHighBitAreIgnored() {
        IntBinaryOperator clean = new SyntheticDicom().chest();
        // Bits 12..15 of a 12-bit sample (historically overlay planes): ImageJ kept them, so one such pixel became
        // the image's maximum and squeezed every other value.
        byte[] dirty = new SyntheticDicom().write((x, y) -> clean.applyAsInt(x, y) | (x == 5 ? 0xF000 : 0));
        assertThat(pixels(dirty)).containsExactly(pixels(new SyntheticDicom().write(clean)));
        assertThat(ImageJDicomReference.decode(dirty, LIMITS).pixels()).isNotEqualTo(pixels(dirty));
    }

    @Test
    void storedBitsEndAtTheHighBit() {
        IntBinaryOperator chest = new SyntheticDicom().chest();
        SyntheticDicom low = new SyntheticDicom();
        low.windowCenter = "2048";
        low.windowWidth = "3000";
        SyntheticDicom top = new SyntheticDicom();
        top.windowCenter = "2048";
        top.windowWidth = "3000";
        top.highBit = 15; // the 12 stored bits are bits 4..15 of each word
        assertThat(pixels(top.write((x, y) -> chest.applyAsInt(x, y) << 4 | 0x5)))
                .containsExactly(pixels(low.write(chest)));
    }

    @Test
    void signedSamplesAreSignExtendedFromBitsStored() {
        SyntheticDicom signed = new SyntheticDicom();
        signed.pixelRepresentation = 1;
        IntBinaryOperator chest = signed.chest(); // -2048..2047
        byte[] extended = signed.write(chest);
        byte[] twelveBitsOnly = signed.write((x, y) -> chest.applyAsInt(x, y) & 0xFFF);
        assertThat(pixels(twelveBitsOnly)).containsExactly(pixels(extended));
        assertThat(ImageJDicomReference.decode(extended, LIMITS).pixels()).containsExactly(pixels(extended));
    }

    @Test
    void signedEightBitSamples() {
        SyntheticDicom d = new SyntheticDicom();
        d.bitsAllocated = 8;
        d.bitsStored = 8;
        d.pixelRepresentation = 1;
        // ImageJ read these as unsigned: -1 (0xFF) came out brighter than 127.
        GrayImage img = DicomImage.decode(d.write((x, y) -> x == 0 ? -128 : x == 1 ? 127 : x == 2 ? -1 : 0), LIMITS);
        assertThat(img.get(0, 0)).isEqualTo(0f);
        assertThat(img.get(1, 0)).isEqualTo(1f);
        assertThat(img.get(2, 0)).isEqualTo(127f / 255f);
        assertThat(img.get(3, 0)).isEqualTo(128f / 255f);
    }

    @Test
    void rescaleOrWindowBeyondTheFloatRangeIsIgnoredInsteadOfMakingNaN() {
        float[] plain = pixels(new SyntheticDicom().write());
        SyntheticDicom slope = new SyntheticDicom();
        slope.slope = "1e40";
        SyntheticDicom window = new SyntheticDicom();
        window.windowCenter = "-1e308";
        window.windowWidth = "1.7e308";
        for (SyntheticDicom d : List.of(slope, window)) {
            assertThat(pixels(d.write())).containsExactly(plain);
            // The ImageJ path turned these into NaN pixels.
            assertThat(ImageJDicomReference.decode(d.write(), LIMITS).pixels()[0]).isNaN();
        }
    }

    private static void assertSameOutcome(byte[] dicom) {
        GrayImage expected;
        try {
            expected = ImageJDicomReference.decode(dicom, LIMITS);
        } catch (InvalidImageException e) {
            assertThatThrownBy(() -> DicomImage.decode(dicom, LIMITS)).isInstanceOfSatisfying(
                    InvalidImageException.class, d -> assertThat(d.code()).isEqualTo(e.code()));
            return;
        }
        GrayImage actual = DicomImage.decode(dicom, LIMITS);
        assertThat(actual.width()).isEqualTo(expected.width());
        assertThat(actual.height()).isEqualTo(expected.height());
        assertThat(actual.pixels()).containsExactly(expected.pixels());
    }
}

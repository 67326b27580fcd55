package org.cxrtriage.imaging;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BorderCropTest {

    @Test
    void findsRadiographInsideBlackBorders() {
        CropBox truth = new CropBox(40, 30, 300, 220);
        GrayImage image = TestImages.framed(400, 300, truth, 0f);
        assertClose(BorderCrop.find(image), truth, 1);
    }

    @Test
    void findsFlatBrightRectangleInsideBlackBorders() {
        GrayImage image = new GrayImage(400, 300, new float[400 * 300]);
        TestImages.fill(image, 40, 30, 300, 220, 0.8f);
        assertClose(BorderCrop.find(image), new CropBox(40, 30, 300, 220), 1);
    }

    @Test
    void aSaturatedBandInsideTheRadiographDoesNotSplitIt() {
        // Rows of uniform white across the whole radiograph are not border: the border here is black.
        CropBox truth = new CropBox(30, 20, 340, 300);
        GrayImage image = TestImages.framed(400, 340, truth, 0f);
        TestImages.fill(image, 30, 150, 340, 80, 1f);
        assertClose(BorderCrop.find(image), truth, 1);
    }

    @Test
    void findsRadiographInsideWhiteBorders() {
        CropBox truth = new CropBox(25, 50, 330, 230);
        GrayImage image = TestImages.framed(380, 320, truth, 1f);
        assertClose(BorderCrop.find(image), truth, 1);
    }

    @Test
    void ignoresSparseTextAndMarkersInTheBorder() {
        CropBox truth = new CropBox(60, 50, 300, 240);
        GrayImage image = TestImages.framed(420, 340, truth, 0.02f);
        // "Letters": white strokes in the top band and an "R" marker block in the left border.
        for (int i = 0; i < 8; i++) {
            TestImages.fill(image, 70 + i * 30, 15, 4, 18, 1f);
            TestImages.fill(image, 70 + i * 30, 15, 14, 3, 1f);
        }
        TestImages.fill(image, 10, 150, 20, 25, 0.95f);
        assertClose(BorderCrop.find(image), truth, 2);
    }

    @Test
    void removesATextBandSeparatedFromTheRadiograph() {
        // Radiograph touches left, right and bottom edges; a black band with dense text sits on top.
        CropBox truth = new CropBox(0, 60, 400, 260);
        GrayImage image = TestImages.framed(400, 320, truth, 0f);
        for (int x = 20; x < 380; x += 9) {
            TestImages.fill(image, x, 20, 5, 20, 1f); // 55 % of the band's width is "ink"
        }
        assertClose(BorderCrop.find(image), truth, 2);
    }

    @Test
    void keepsFullImageWithoutBorders() {
        GrayImage image = TestImages.framed(300, 260, CropBox.full(300, 260), 0f);
        assertThat(BorderCrop.find(image)).isEqualTo(CropBox.full(300, 260));
    }

    @Test
    void neverCropsToSomethingAbsurdlySmall() {
        GrayImage image = TestImages.framed(400, 400, new CropBox(180, 180, 40, 40), 0f);
        assertThat(BorderCrop.find(image)).isEqualTo(CropBox.full(400, 400));
    }

    @Test
    void flatImageIsLeftAlone() {
        GrayImage image = new GrayImage(100, 100, new float[100 * 100]);
        assertThat(BorderCrop.find(image)).isEqualTo(CropBox.full(100, 100));
    }

    @Test
    void worksOnLargeImagesThroughTheThumbnail() {
        // 2400x2000 is analysed on a 480x400 thumbnail (factor 5): the box may be generous by under 5 px.
        CropBox truth = new CropBox(203, 151, 1900, 1700);
        GrayImage image = TestImages.framed(2400, 2000, truth, 0f);
        CropBox found = BorderCrop.find(image);
        assertClose(found, truth, 5);
        assertThat(found.x()).isLessThanOrEqualTo(truth.x());
        assertThat(found.right()).isGreaterThanOrEqualTo(truth.right());
    }

    private static void assertClose(CropBox actual, CropBox expected, int tolerance) {
        assertThat(actual.x()).as("x of %s", actual).isCloseTo(expected.x(), org.assertj.core.api.Assertions.within(tolerance));
        assertThat(actual.y()).as("y of %s", actual).isCloseTo(expected.y(), org.assertj.core.api.Assertions.within(tolerance));
        assertThat(actual.right()).as("right of %s", actual).isCloseTo(expected.right(), org.assertj.core.api.Assertions.within(tolerance));
        assertThat(actual.bottom()).as("bottom of %s", actual).isCloseTo(expected.bottom(), org.assertj.core.api.Assertions.within(tolerance));
    }
}

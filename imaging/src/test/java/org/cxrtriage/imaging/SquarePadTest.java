package org.cxrtriage.imaging;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SquarePadTest {

    @Test
    void padsLandscapeVerticallyCentred() {
        GrayImage image = TestImages.framed(300, 200, CropBox.full(300, 200), 0f);
        GrayImage padded = SquarePad.apply(image);
        assertThat(padded.width()).isEqualTo(300);
        assertThat(padded.height()).isEqualTo(300);
        assertThat(SquarePad.placement(300, 200)).isEqualTo(new CropBox(0, 50, 300, 200));
        assertThat(padded.crop(new CropBox(0, 50, 300, 200)).pixels()).isEqualTo(image.pixels());
        assertAllZero(padded.crop(new CropBox(0, 0, 300, 50)));
        assertAllZero(padded.crop(new CropBox(0, 250, 300, 50)));
    }

    @Test
    void padsPortraitHorizontallyCentredWithOddDifference() {
        GrayImage image = TestImages.framed(201, 300, CropBox.full(201, 300), 0f);
        GrayImage padded = SquarePad.apply(image);
        CropBox at = SquarePad.placement(201, 300);
        assertThat(at).isEqualTo(new CropBox(49, 0, 201, 300)); // extra column goes right
        assertThat(padded.crop(at).pixels()).isEqualTo(image.pixels());
        assertAllZero(padded.crop(new CropBox(0, 0, 49, 300)));
        assertAllZero(padded.crop(new CropBox(250, 0, 50, 300)));
    }

    @Test
    void squareStaysUnchanged() {
        GrayImage image = TestImages.framed(128, 128, CropBox.full(128, 128), 0f);
        assertThat(SquarePad.apply(image).pixels()).isEqualTo(image.pixels());
    }

    private static void assertAllZero(GrayImage image) {
        for (float v : image.pixels()) {
            assertThat(v).isZero();
        }
    }
}

package org.cxrtriage.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class PlaneImagesTest {

    private static byte[] ramp(int size) {
        byte[] plane = new byte[size * size];
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                plane[y * size + x] = (byte) (x * 255 / (size - 1));
            }
        }
        return plane;
    }

    @Test
    void theXrayBecomesAGreyPngWithTheSamePixels() throws Exception {
        byte[] png = PlaneImages.cxrPng(ramp(64), 64, 512);
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        assertThat(img.getWidth()).isEqualTo(64);
        assertThat(img.getRaster().getSample(0, 10, 0)).isZero();
        assertThat(img.getRaster().getSample(63, 10, 0)).isEqualTo(255);
    }

    @Test
    void theLungPlaneBecomesAnOverlayWhoseOpacityIsTheProbability() throws Exception {
        byte[] png = PlaneImages.lungOverlayPng(ramp(64), 64, 512);
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        assertThat(img.getColorModel().hasAlpha()).isTrue();
        assertThat(img.getRGB(0, 5) >>> 24).isZero();
        assertThat(img.getRGB(63, 5) >>> 24).isEqualTo(255);
    }

    @Test
    void largePlanesAreScaledDownAndWrongSizesRefused() throws Exception {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(PlaneImages.cxrPng(ramp(128), 128, 32)));
        assertThat(img.getWidth()).isEqualTo(32);
        assertThatThrownBy(() -> PlaneImages.cxrPng(new byte[10], 4, 32)).isInstanceOf(IllegalArgumentException.class);
    }
}

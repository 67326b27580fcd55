package org.cxrtriage.imaging;

/**
 * What an image header declares, read without decoding pixels.
 *
 * @param format   the detected encoded format
 * @param width    width in pixels
 * @param height   height in pixels
 * @param bitDepth bits per stored sample (for palette images: bits per index)
 * @param channels colour components including alpha (1 gray, 2 gray+alpha, 3 RGB or palette, 4 RGBA)
 */
public record ImageInfo(ImageFormat format, int width, int height, int bitDepth, int channels) {
    public long pixelCount() {
        return (long) width * height;
    }
}

package org.cxrtriage.dashboard;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/** Turns the tensor's uint8 planes into small PNGs a browser shows. */
public final class PlaneImages {

    /** Colour of the lung overlay (cyan); its opacity is the lung probability. */
    private static final int LUNG_RGB = 0x00C8FF;

    private PlaneImages() {
    }

    /** The preprocessed X-ray as a grey PNG, scaled down to at most {@code maxSide} pixels. */
    public static byte[] cxrPng(byte[] plane, int size, int maxSide) {
        BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setDataElements(0, 0, size, size, checked(plane, size));
        return png(scaled(img, maxSide, BufferedImage.TYPE_BYTE_GRAY));
    }

    /**
     * The lung probability as a transparent PNG: one colour whose alpha is the probability, so it can lie over the
     * X-ray (lung plane drawn semi-transparently over the CXR).
     */
    public static byte[] lungOverlayPng(byte[] plane, int size, int maxSide) {
        checked(plane, size);
        BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_INT_ARGB);
        int[] argb = new int[size * size];
        for (int i = 0; i < argb.length; i++) {
            argb[i] = ((plane[i] & 0xFF) << 24) | LUNG_RGB;
        }
        img.setRGB(0, 0, size, size, argb, 0, size);
        return png(scaled(img, maxSide, BufferedImage.TYPE_INT_ARGB));
    }

    private static byte[] checked(byte[] plane, int size) {
        if (size < 1 || plane.length != size * size) {
            throw new IllegalArgumentException("plane of " + plane.length + " bytes is not " + size + "x" + size);
        }
        return plane;
    }

    private static BufferedImage scaled(BufferedImage img, int maxSide, int type) {
        int side = img.getWidth();
        if (maxSide <= 0 || side <= maxSide) {
            return img;
        }
        BufferedImage out = new BufferedImage(maxSide, maxSide, type);
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.drawImage(img, 0, 0, maxSide, maxSide, null);
        } finally {
            g.dispose();
        }
        return out;
    }

    private static byte[] png(BufferedImage img) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(img, "png", out)) {
                throw new IllegalStateException("no PNG writer");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}

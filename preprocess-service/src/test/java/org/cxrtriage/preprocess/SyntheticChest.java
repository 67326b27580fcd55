package org.cxrtriage.preprocess;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Random;
import javax.imageio.ImageIO;

/** A crude frontal chest radiograph drawn in code: bright body, two dark lungs, black border and some noise. */
final class SyntheticChest {

    private SyntheticChest() {
    }

    static byte[] png(int width, int height, long seed) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.BLACK);
        g.fillRect(0, 0, width, height);
        int bx = width / 10;
        int by = height / 12;
        g.setColor(new Color(200, 200, 200));
        g.fillRoundRect(bx, by, width - 2 * bx, height - 2 * by, width / 4, height / 4);
        g.setColor(new Color(60, 60, 60));
        g.fillOval(width / 5, height / 5, width / 4, height / 2);
        g.fillOval(width - width / 5 - width / 4, height / 5, width / 4, height / 2);
        g.dispose();
        Random rnd = new Random(seed);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int v = img.getRaster().getSample(x, y, 0) + rnd.nextInt(21) - 10;
                img.getRaster().setSample(x, y, 0, Math.max(0, Math.min(255, v)));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}

package org.cxrtriage.imaging;

import ij.ImagePlus;
import ij.measure.Calibration;
import ij.plugin.DICOM;
import ij.process.ImageProcessor;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The DICOM pixel path {@link DicomImage} used before it read the pixels itself: the upload re-encoded by
 * {@link DicomDeidentifier}, its display values neutralised, parsed by ImageJ, then rescale, VOI window and
 * MONOCHROME1 applied to ImageJ's stored values. Kept (with ImageJ as a test dependency) as the reference the
 * direct path is checked against, pixel for pixel.
 */
final class ImageJDicomReference {
    private ImageJDicomReference() {
    }

    static GrayImage decode(byte[] bytes, ImageLimits limits) {
        ImageInfo info = DicomImage.probe(bytes, limits);
        byte[] minimal = DicomDeidentifier.strip(bytes);
        DicomImage.Header h = DicomImage.readHeader(minimal);
        DICOM dicom = new DICOM(new ByteArrayInputStream(storedValuesOnly(minimal)));
        try {
            dicom.run("upload.dcm");
        } catch (RuntimeException e) {
            throw new InvalidImageException(RejectReason.TRUNCATED_OR_CORRUPT, "ImageJ could not read the DICOM: " + e, e);
        }
        ImagePlus imp = dicom;
        if (imp.getWidth() != info.width() || imp.getHeight() != info.height() || imp.getProcessor() == null) {
            throw new InvalidImageException(RejectReason.TRUNCATED_OR_CORRUPT, "ImageJ could not read the DICOM pixels");
        }
        ImageProcessor ip = imp.getProcessor();
        Calibration cal = imp.getCalibration();
        int n = info.width() * info.height();
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (cal.getCValue(ip.getf(i)) * h.rescaleSlope() + h.rescaleIntercept());
        }
        return new GrayImage(info.width(), info.height(), window(values, h));
    }

    /** Photometric, window and rescale values made neutral (MONOCHROME2, none, 1, 0) in place, same lengths. */
    private static byte[] storedValuesOnly(byte[] minimal) {
        List<int[]> display = new ArrayList<>();
        DicomImage.scan(minimal, e -> {
            switch (e.tag()) {
                case 0x00280004, 0x00281050, 0x00281051, 0x00281052, 0x00281053 ->
                        display.add(new int[] {e.tag(), e.valueStart(), (int) e.length()});
                default -> { }
            }
        });
        for (int[] at : display) {
            String neutral = switch (at[0]) {
                case 0x00280004 -> "MONOCHROME2";
                case 0x00281053 -> "1";
                default -> "0";
            };
            if (neutral.length() > at[2]) {
                continue;
            }
            byte[] value = (neutral + " ".repeat(at[2] - neutral.length())).getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(value, 0, minimal, at[1], at[2]);
        }
        return minimal;
    }

    private static float[] window(float[] v, DicomImage.Header h) {
        double lo;
        double hi;
        if (h.windowWidth() > 1) {
            lo = h.windowCenter() - h.windowWidth() / 2;
            hi = h.windowCenter() + h.windowWidth() / 2;
        } else {
            lo = Double.MAX_VALUE;
            hi = -Double.MAX_VALUE;
            for (float x : v) {
                lo = Math.min(lo, x);
                hi = Math.max(hi, x);
            }
        }
        double range = Math.max(hi - lo, 1e-6);
        boolean invert = "MONOCHROME1".equals(h.photometric());
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            float y = (float) Math.min(1, Math.max(0, (v[i] - lo) / range));
            out[i] = invert ? 1 - y : y;
        }
        return out;
    }
}

package org.cxrtriage.imaging;

/** The encoded formats this module decodes. */
public enum ImageFormat {
    PNG("image/png"),
    JPEG("image/jpeg"),
    TIFF("image/tiff"),
    DICOM("application/dicom");

    private final String mimeType;

    ImageFormat(String mimeType) {
        this.mimeType = mimeType;
    }

    public String mimeType() {
        return mimeType;
    }

    /**
     * Detects the format from its magic bytes; the declared content type of a message is not trusted.
     *
     * @throws InvalidImageException {@link RejectReason#EMPTY}, {@link RejectReason#UNSUPPORTED_FORMAT} for
     *                               images in other formats, {@link RejectReason#NOT_AN_IMAGE} otherwise
     */
    public static ImageFormat detect(byte[] b) throws InvalidImageException {
        if (b == null || b.length == 0) {
            throw new InvalidImageException(RejectReason.EMPTY, "no image bytes");
        }
        if (startsWith(b, 0, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) {
            return PNG;
        }
        if (startsWith(b, 0, 0xFF, 0xD8, 0xFF)) {
            return JPEG;
        }
        // Classic TIFF (42) and BigTIFF (43), both byte orders.
        if (startsWith(b, 0, 'I', 'I', 42, 0) || startsWith(b, 0, 'M', 'M', 0, 42)
                || startsWith(b, 0, 'I', 'I', 43, 0) || startsWith(b, 0, 'M', 'M', 0, 43)) {
            return TIFF;
        }
        if (startsWith(b, 128, 'D', 'I', 'C', 'M')) {
            return DICOM;
        }
        String other = otherImageFormat(b);
        if (other != null) {
            throw new InvalidImageException(RejectReason.UNSUPPORTED_FORMAT, other + " images are not supported; send PNG, JPEG, TIFF or DICOM");
        }
        throw new InvalidImageException(RejectReason.NOT_AN_IMAGE, "bytes do not start with a known image signature");
    }

    /** Names image formats we recognise but do not decode, so that the sender gets a precise reason. */
    private static String otherImageFormat(byte[] b) {
        if (startsWith(b, 0, 'G', 'I', 'F', '8')) {
            return "GIF";
        }
        if (startsWith(b, 0, 'B', 'M') && b.length >= 26) {
            return "BMP";
        }
        if (startsWith(b, 0, 'R', 'I', 'F', 'F') && startsWith(b, 8, 'W', 'E', 'B', 'P')) {
            return "WebP";
        }
        if (startsWith(b, 0, 0, 0, 0, 0x0C, 'j', 'P', ' ', ' ') || startsWith(b, 0, 0xFF, 0x4F, 0xFF, 0x51)) {
            return "JPEG 2000";
        }
        return null;
    }

    private static boolean startsWith(byte[] b, int offset, int... magic) {
        if (b.length < offset + magic.length) {
            return false;
        }
        for (int i = 0; i < magic.length; i++) {
            if ((b[offset + i] & 0xFF) != magic[i]) {
                return false;
            }
        }
        return true;
    }
}

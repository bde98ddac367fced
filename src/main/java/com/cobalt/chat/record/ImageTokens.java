package com.cobalt.chat.record;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Base64;
import java.util.Iterator;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What one {@code image_url} part costs in prompt tokens where the provider reported no usage, by OpenAI's published
 * rule for its vision models (which Azure OpenAI bills the same way): {@code detail: low} is 85 tokens; otherwise the
 * image is scaled to fit 2048 x 2048, then so that its shorter side is 768, and costs 170 per 512-pixel tile plus 85.
 * The size is read from a data URL's image header (PNG, JPEG, GIF, BMP: the JDK's ImageIO readers, which read the
 * header only); an https URL is not fetched, so it is counted as a 1024 x 1024 image (765 tokens). Like every
 * gateway count it is stored marked estimated.
 */
public final class ImageTokens {

    static final int LOW = 85;
    static final int PER_TILE = 170;
    /** A 1024 x 1024 image at high detail: 768 x 768, four tiles. */
    static final int UNKNOWN_SIZE = 765;

    private ImageTokens() {
    }

    /** @param imageUrl the part's {@code image_url} object: {@code url} and optional {@code detail} */
    public static int of(JsonNode imageUrl) {
        if ("low".equals(imageUrl.path("detail").asText())) {
            return LOW;
        }
        int[] size = dataUrlSize(imageUrl.path("url").asText(""));
        return size == null ? UNKNOWN_SIZE : highDetail(size[0], size[1]);
    }

    /** OpenAI's high-detail rule for a width x height image. */
    static int highDetail(int width, int height) {
        double w = width;
        double h = height;
        if (w > 2048 || h > 2048) {
            double f = 2048 / Math.max(w, h);
            w *= f;
            h *= f;
        }
        double shorter = Math.min(w, h);
        if (shorter > 768) {
            double f = 768 / shorter;
            w *= f;
            h *= f;
        }
        long tiles = (long) Math.ceil(w / 512) * (long) Math.ceil(h / 512);
        return (int) (PER_TILE * tiles + LOW);
    }

    /** [width, height] of a base64 data URL's image, or null when it is none or its format is unknown. */
    static int[] dataUrlSize(String url) {
        int comma = url.indexOf(',');
        if (!url.startsWith("data:image/") || comma < 0 || !url.substring(0, comma).endsWith(";base64")) {
            return null;
        }
        byte[] bytes;
        try {
            bytes = Base64.getMimeDecoder().decode(url.substring(comma + 1));
        } catch (IllegalArgumentException e) {
            return null;
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                return null;
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                return new int[] {reader.getWidth(0), reader.getHeight(0)};
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}

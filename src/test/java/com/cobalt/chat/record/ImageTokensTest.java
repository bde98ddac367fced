package com.cobalt.chat.record;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Base64;

import javax.imageio.ImageIO;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** OpenAI's published image token rule, with the examples of its vision guide. */
class ImageTokensTest {

    static final ObjectMapper JSON = new ObjectMapper();

    static String dataUrl(String format, int width, int height) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB), format, out);
        return "data:image/" + format + ";base64," + Base64.getEncoder().encodeToString(out.toByteArray());
    }

    @Test
    void theGuidesExamples() {
        // 1024 x 1024 high: 768 x 768, 4 tiles; 2048 x 4096: 768 x 1536, 6 tiles; any size at low detail: 85
        assertThat(ImageTokens.highDetail(1024, 1024)).isEqualTo(765);
        assertThat(ImageTokens.highDetail(2048, 4096)).isEqualTo(1105);
        assertThat(ImageTokens.highDetail(300, 200)).isEqualTo(255);
    }

    @Test
    void theSizeOfADataUrlIsReadFromItsHeader() throws Exception {
        assertThat(ImageTokens.of(JSON.readTree("{\"url\":\"" + dataUrl("png", 2048, 4096) + "\"}"))).isEqualTo(1105);
        assertThat(ImageTokens.of(JSON.readTree("{\"url\":\"" + dataUrl("jpeg", 300, 200) + "\",\"detail\":\"high\"}")))
                .isEqualTo(255);
        assertThat(ImageTokens.of(JSON.readTree("{\"url\":\"" + dataUrl("png", 2048, 4096) + "\",\"detail\":\"low\"}")))
                .isEqualTo(85);
    }

    @Test
    void anHttpsUrlOrAnUnreadableDataUrlCountsAsA1024SquareImage() throws Exception {
        assertThat(ImageTokens.of(JSON.readTree("{\"url\":\"https://example.com/cat.png\"}"))).isEqualTo(765);
        assertThat(ImageTokens.of(JSON.readTree("{\"url\":\"data:image/png;base64,AAAA\"}"))).isEqualTo(765);
        assertThat(ImageTokens.of(JSON.readTree("{\"url\":\"data:image/png;base64,%%%\"}"))).isEqualTo(765);
    }
}

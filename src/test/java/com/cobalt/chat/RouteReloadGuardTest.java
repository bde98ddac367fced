package com.cobalt.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Path;

import org.apache.camel.spi.Resource;
import org.apache.camel.support.ResourceSupport;
import org.junit.jupiter.api.Test;

/** Which file a running route came from, compared with a reloaded file's path. */
class RouteReloadGuardTest {

    static Resource file(String location) {
        return new ResourceSupport("file", location) {
            @Override
            public boolean exists() {
                return true;
            }

            @Override
            public InputStream getInputStream() {
                return InputStream.nullInputStream();
            }
        };
    }

    @Test
    void aRouteLoadedAtStartFromTheRelativeDirectoryIsTheReloadedFileOfTheSamePath() {
        String absolute = Path.of("routes", "models-list.camel.yaml").toAbsolutePath().toString();
        assertThat(RouteReloadGuard.sameFile(file("file:routes/models-list.camel.yaml"), file("file:" + absolute)))
                .isTrue();
        assertThat(RouteReloadGuard.sameFile(file("file:routes/./models-list.camel.yaml"),
                file("file:routes/models-list.camel.yaml"))).isTrue();
    }

    @Test
    void anotherFileOrNoFileIsNotTheSame() {
        assertThat(RouteReloadGuard.sameFile(file("file:routes/models-list.camel.yaml"),
                file("file:routes/zz-extra.camel.yaml"))).isFalse();
        assertThat(RouteReloadGuard.sameFile(null, file("file:routes/zz-extra.camel.yaml"))).isFalse();
        assertThat(RouteReloadGuard.sameFile(file("classpath:models-list.camel.yaml"),
                file("file:models-list.camel.yaml"))).isFalse();
    }
}

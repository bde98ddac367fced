package com.cobalt.chat.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/** The README shows the deployment files as they are, not a copy that drifts. */
class DeployFilesTest {

    static final Path REPO = Path.of(System.getProperty("user.dir"));

    @Test
    void theReadmesNginxBlockIsExactlyTheTestedConfiguration() throws Exception {
        String readme = Files.readString(REPO.resolve("README.md"));
        Matcher block = Pattern.compile("(?s)```nginx\n(.*?)```").matcher(readme);
        assertThat(block.find()).as("an ```nginx block in README.md").isTrue();
        assertThat(block.group(1)).isEqualTo(Files.readString(REPO.resolve("deploy/nginx/cobalt-chat.conf")));
        assertThat(block.find()).as("a second ```nginx block in README.md").isFalse();
    }

    @Test
    void theReadmesHaproxyBlockIsExactlyTheVerifiedConfiguration() throws Exception {
        String readme = Files.readString(REPO.resolve("README.md"));
        Matcher block = Pattern.compile("(?s)```haproxy\n(.*?)```").matcher(readme);
        assertThat(block.find()).as("a ```haproxy block in README.md").isTrue();
        assertThat(block.group(1)).isEqualTo(Files.readString(REPO.resolve("deploy/haproxy/cobalt-chat.cfg")));
        assertThat(block.find()).as("a second ```haproxy block in README.md").isFalse();
    }
}

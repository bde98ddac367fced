package com.cobalt.chat.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.util.concurrent.atomic.AtomicBoolean;

import org.h2.store.fs.FileBase;
import org.h2.store.fs.FilePath;
import org.h2.store.fs.FilePathWrapper;

/**
 * A disk that fills up, for the embedded H2: the database URL {@code jdbc:h2:fulldisk:/path/db} stores its file at
 * {@code /path} as usual, and while {@link #fill()} is in force every write to it fails with the IOException a full
 * disk gives ("No space left on device"); reads go on. {@link #free()} makes room again. This is the H2 file system
 * plug-in point (the same one its {@code split:} and {@code nio:} prefixes use): no mount, no root.
 */
public final class FullDisk extends FilePathWrapper {

    private static final AtomicBoolean FULL = new AtomicBoolean();

    static {
        FilePath.register(new FullDisk());
    }

    /** The H2 URL of a database at {@code path} on this disk. */
    public static String h2Url(java.nio.file.Path path) {
        return "jdbc:h2:fulldisk:" + path.toAbsolutePath();
    }

    public static void fill() {
        FULL.set(true);
    }

    public static void free() {
        FULL.set(false);
    }

    @Override
    public String getScheme() {
        return "fulldisk";
    }

    @Override
    public FileChannel open(String mode) throws IOException {
        return new Channel(super.open(mode));
    }

    private static void refuseWhenFull() throws IOException {
        if (FULL.get()) {
            throw new IOException("No space left on device");
        }
    }

    private static final class Channel extends FileBase {

        private final FileChannel base;

        Channel(FileChannel base) {
            this.base = base;
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return base.read(dst, position);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            refuseWhenFull();
            return base.write(src, position);
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return base.read(dst);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            refuseWhenFull();
            return base.write(src);
        }

        @Override
        public long position() throws IOException {
            return base.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            base.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return base.size();
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            refuseWhenFull();
            base.truncate(size);
            return this;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            refuseWhenFull();
            base.force(metaData);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return base.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            base.close();
        }
    }
}

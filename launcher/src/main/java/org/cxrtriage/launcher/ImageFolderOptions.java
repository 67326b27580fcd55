package org.cxrtriage.launcher;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.cxrtriage.ingest.FolderSource;
import picocli.CommandLine.Option;

/** The folder of X-rays a command sends, and its manifest (picocli mixin shared by run, bench and faults). */
final class ImageFolderOptions {

    @Option(names = "--images", description = "Folder of X-rays (default: ${DEFAULT-VALUE}).",
            defaultValue = "${env:CXR_IMAGES:-../shared/data/cxr/images}")
    Path images;

    @Option(names = "--manifest", description = "Manifest CSV with metadata (default: manifest.csv in or above the folder).")
    Path manifest;

    Optional<Path> manifestPath() {
        return manifest != null ? Optional.of(manifest) : FolderSource.findManifest(images);
    }

    /** The folder's images with their manifest metadata. */
    List<FolderSource.Item> items() {
        return FolderSource.list(images, manifestPath());
    }
}

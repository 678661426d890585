"""Content-addressed blob store for artifacts: a directory (the default) or a bucket."""

from missionctl.blobs.store import BlobRef, Blobs, BlobStore

__all__ = ["BlobRef", "BlobStore", "Blobs"]

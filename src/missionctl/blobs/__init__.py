"""Content-addressed blob store for artifacts."""

from missionctl.blobs.store import BlobRef, BlobStore

__all__ = ["BlobRef", "BlobStore"]

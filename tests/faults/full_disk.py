"""A storage whose disk fills up: it writes part of the file, as a full disk does, then fails
with ENOSPC. Used through the STORAGES setting, like any other storage."""

import errno
import os

from django.core.files.storage import FileSystemStorage


class FullDiskStorage(FileSystemStorage):
    room_bytes = 100  # what fits before the disk is full

    def _save(self, name, content):
        path = self.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:  # noqa: PTH123 - the storage's own file
            handle.write(content.read(self.room_bytes))
            handle.flush()
            raise OSError(errno.ENOSPC, "No space left on device", path)

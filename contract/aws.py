"""The AWS objects the scoring function and the drift job receive, as structural types.

:class:`S3Client` lists the subset of a boto3 S3 client's methods that the project calls
(capture writes, bundle downloads, the drift job's reads, listings and report uploads);
:class:`LambdaContext` the context object the Lambda runtime passes to a handler. Both are
Protocols: a real boto3 client, moto's, or a test double satisfies them without importing
anything from here at run time, and this module imports no AWS library.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, Protocol, TypedDict, runtime_checkable


class S3Body(Protocol):
    """The streaming ``Body`` of a GetObject response (read whole, or in parts and closed
    early: the rest is never downloaded)."""

    def read(self, amt: int | None = ...) -> bytes: ...

    def close(self) -> None: ...


class GetObjectOutput(TypedDict):
    """The part of a GetObject response that is read."""

    Body: S3Body


class S3Object(TypedDict):
    """One listed object (the keys that are read)."""

    Key: str
    Size: int


class ListObjectsPage(TypedDict, total=False):
    """One ListObjectsV2 page; ``Contents`` is absent when nothing matched."""

    Contents: list[S3Object]


class S3Paginator(Protocol):
    """``client.get_paginator("list_objects_v2")``."""

    def paginate(self, *, Bucket: str, Prefix: str) -> Iterable[ListObjectsPage]: ...


class S3Exceptions(Protocol):
    """``client.exceptions``: the modelled error classes that callers catch."""

    @property
    def NoSuchKey(self) -> type[Exception]: ...


@runtime_checkable
class S3Client(Protocol):
    """The boto3 S3 client methods used by the scoring function and the drift job."""

    @property
    def exceptions(self) -> S3Exceptions: ...

    def get_object(self, *, Bucket: str, Key: str) -> GetObjectOutput: ...

    def put_object(
        self, *, Bucket: str, Key: str, Body: bytes, ContentType: str
    ) -> Mapping[str, Any]: ...

    def delete_object(self, *, Bucket: str, Key: str) -> Mapping[str, Any]: ...

    def delete_objects(self, *, Bucket: str, Delete: Mapping[str, Any]) -> Mapping[str, Any]: ...

    def download_file(self, Bucket: str, Key: str, Filename: str) -> None: ...

    def get_paginator(self, operation_name: Literal["list_objects_v2"]) -> S3Paginator: ...


@runtime_checkable
class LambdaContext(Protocol):
    """The Lambda runtime's context object (Python runtime), read-only.

    Declared as properties so that any object carrying these attributes satisfies it,
    including the runtime's own context and Mangum's richer ``LambdaContext`` type.
    """

    @property
    def function_name(self) -> str: ...

    @property
    def function_version(self) -> str: ...

    @property
    def invoked_function_arn(self) -> str: ...

    @property
    def memory_limit_in_mb(self) -> int | str: ...  # the Python runtime passes a string

    @property
    def aws_request_id(self) -> str: ...

    @property
    def log_group_name(self) -> str: ...

    @property
    def log_stream_name(self) -> str: ...

    def get_remaining_time_in_millis(self) -> int: ...

"""A bounded, non-blocking producer for Amazon Data Firehose (``PutRecordBatch``).

The request path only calls :meth:`FirehoseProducer.append` with already-encoded JSON lines:
it takes a lock, appends to an in-memory buffer with a byte budget and returns. No network
I/O, no waiting. A daemon thread (started on the first append) sends what is waiting:

* at least every ``interval_s`` seconds, and as soon as ``flush_bytes`` are waiting;
* many JSON lines are packed into each Firehose record (Firehose bills every record rounded
  up to 5 KB; a record may hold up to 1,000 KiB): records of about ``RECORD_BYTES``;
* each call stays within Firehose's limits: at most 500 records and ``CALL_BYTES`` of data;
* the records of a call that Firehose rejects (``FailedPutCount``, or the call raising) are
  sent once more; what fails again is counted as ``failed`` and logged (counts only);
* when the buffer is full, new lines are dropped and counted as ``dropped``: memory never
  grows beyond ``buffer_bytes``.

Counters, in captured records (one record = one scored application): ``buffered`` (waiting
now), ``sent`` (accepted by Firehose), ``retried`` (sent a second time), ``dropped`` (buffer
full, never sent), ``failed`` (rejected twice or not encodable), plus ``firehose_records``
and ``calls`` (what Firehose bills).

Lambda freezes the execution environment between invocations: the thread runs only while an
invocation is in progress, and what is still buffered when the environment is shut down is
lost unless :meth:`flush` runs first (see :func:`install_sigterm_flush` and the README).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol, cast

from scoring import logs

if TYPE_CHECKING:
    from scoring.shapes import CaptureCounts, CaptureOutcome

#: Firehose's own limits (PutRecordBatch).
MAX_CALL_RECORDS = 500
MAX_RECORD_BYTES = 1_000 * 1024
MAX_CALL_DATA_BYTES = 4 * 1024 * 1024
#: What the producer aims for: records well above the 5 KB billing unit, calls below 4 MB.
RECORD_BYTES = 256 * 1024
CALL_BYTES = 4_000_000

DEFAULT_BUFFER_BYTES = 16 * 1024 * 1024
#: A send starts once about one call's worth waits: fewer, larger calls interrupt requests less.
DEFAULT_FLUSH_BYTES = 3_500_000
DEFAULT_INTERVAL_S = 5.0

COUNTERS = ("buffered", "sent", "retried", "dropped", "failed", "firehose_records", "calls")


class FirehoseClient(Protocol):
    """The one call the producer makes (boto3's Firehose client has it)."""

    def put_record_batch(self, *, DeliveryStreamName: str, Records: list[dict[str, bytes]]
                         ) -> Any: ...


def empty_counts() -> CaptureCounts:
    return cast("CaptureCounts", dict.fromkeys(COUNTERS, 0))


def make_client() -> FirehoseClient:
    """A Firehose client with short timeouts and no SDK retries (the producer retries once).

    Endpoints follow boto3's standard settings (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_FIREHOSE).
    """
    logs.quiet_aws_sdk_loggers()
    import boto3  # lazily: only when capture is on (importing boto3 is slow)
    from botocore.config import Config

    client: FirehoseClient = boto3.client("firehose", config=Config(
        connect_timeout=2, read_timeout=10, retries={"total_max_attempts": 1, "mode": "standard"},
    ))
    return client


class FirehoseProducer:
    """Buffer + sender thread for one delivery stream (see the module doc)."""

    def __init__(
        self,
        stream: str,
        *,
        buffer_bytes: int = DEFAULT_BUFFER_BYTES,
        flush_bytes: int = DEFAULT_FLUSH_BYTES,
        interval_s: float = DEFAULT_INTERVAL_S,
        client_factory: Callable[[], FirehoseClient] | None = None,
    ) -> None:
        self.stream = stream
        self.buffer_bytes = buffer_bytes
        self.flush_bytes = flush_bytes
        self.interval_s = interval_s
        self._client_factory = client_factory or make_client
        self._client: FirehoseClient | None = None
        self._lines: deque[bytes] = deque()
        self._bytes = 0
        self._counts = empty_counts()
        self._lock = threading.Lock()  # buffer and counters
        self._send_lock = threading.Lock()  # one sender at a time (thread or flush)
        self._client_lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # -- request path ------------------------------------------------------------------------
    def append(self, lines: Sequence[bytes]) -> CaptureOutcome:
        """Buffer one request's lines (all or none): "buffered", "dropped" or "failed"."""
        size = sum(len(line) for line in lines)
        outcome: CaptureOutcome
        with self._lock:
            if any(len(line) > MAX_RECORD_BYTES for line in lines):
                self._counts["failed"] += len(lines)
                outcome = "failed"
            elif self._bytes + size > self.buffer_bytes:
                self._counts["dropped"] += len(lines)
                outcome = "dropped"
            else:
                self._lines.extend(lines)
                self._bytes += size
                self._counts["buffered"] += len(lines)
                outcome = "buffered"
                if self._thread is None:
                    self._start()
            wake = self._bytes >= self.flush_bytes
        if wake:
            self._wake.set()
        return outcome

    def stats(self) -> CaptureCounts:
        with self._lock:
            return self._counts.copy()

    def count_failed(self, records: int) -> None:
        """Count records that could not even be encoded."""
        self._add(failed=records)

    # -- client ------------------------------------------------------------------------------
    def client(self) -> FirehoseClient:
        with self._client_lock:
            if self._client is None:
                self._client = self._client_factory()
            return self._client

    def reset_client(self) -> None:
        """Forget the client (after a SnapStart restore its connections are stale)."""
        with self._client_lock:
            self._client = None

    # -- sending -----------------------------------------------------------------------------
    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="capture-producer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval_s)
            self._wake.clear()
            try:
                self.send_waiting()
            except Exception as exc:  # never let the thread die: the next round tries again
                logs.emit("capture_producer_error", logging.ERROR, error=_describe(exc))

    def send_waiting(self) -> None:
        """Send what is buffered now, not the lines that arrive while it sends.

        Under steady traffic the thread then makes a few full calls (one per ``flush_bytes``
        or per ``interval_s``) instead of chasing every new line with a small call: each call
        holds the interpreter lock for a while (botocore encodes and signs the body), so
        fewer calls delay fewer requests.
        """
        with self._lock:
            owed = self._bytes
        with self._send_lock:
            while owed > 0 and (batch := self._take_batch()):
                owed -= sum(len(data) for data, _ in batch)
                self._send(batch)

    def flush(self, timeout_s: float | None = None) -> bool:
        """Send everything buffered now; False if ``timeout_s`` passed first (sends may
        still be under way) or another flush holds the sender."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        if not self._send_lock.acquire(timeout=-1 if timeout_s is None else timeout_s):
            return False
        try:
            while True:
                batch = self._take_batch()
                if not batch:
                    return True
                self._send(batch)
                if deadline is not None and time.monotonic() > deadline:
                    return self.stats()["buffered"] == 0
        finally:
            self._send_lock.release()

    def _take_batch(self) -> list[tuple[bytes, int]]:
        """Pop the lines of one call, packed into (record data, line count) pairs."""
        records: list[tuple[bytes, int]] = []
        current: list[bytes] = []
        current_bytes = total = taken = 0
        with self._lock:
            while self._lines:
                line = self._lines[0]
                if current and current_bytes + len(line) > RECORD_BYTES:
                    records.append((b"".join(current), len(current)))
                    current, current_bytes = [], 0
                    if len(records) == MAX_CALL_RECORDS:
                        break
                if total + len(line) > CALL_BYTES:
                    break
                self._lines.popleft()
                current.append(line)
                current_bytes += len(line)
                total += len(line)
                taken += 1
            if current:
                records.append((b"".join(current), len(current)))
            self._bytes -= total
            self._counts["buffered"] -= taken
        return records

    def _send(self, records: list[tuple[bytes, int]]) -> None:
        pending = records
        error: str | None = None
        for attempt in range(2):
            try:
                response = self.client().put_record_batch(
                    DeliveryStreamName=self.stream, Records=[{"Data": d} for d, _ in pending])
            except Exception as exc:  # denied, throttled, timed out, no credentials, ...
                failed, error = pending, _describe(exc)
            else:
                answers = response.get("RequestResponses", [])
                failed = [r for r, a in zip(pending, answers, strict=True) if a.get("ErrorCode")]
                error = next((str(a["ErrorCode"]) for a in answers if a.get("ErrorCode")), None)
                self._add(sent=sum(n for _, n in pending) - sum(n for _, n in failed),
                          firehose_records=len(pending) - len(failed), calls=1)
            if not failed:
                return
            if attempt == 0:
                self._add(retried=sum(n for _, n in failed))
                pending = failed
        lost = sum(n for _, n in pending)
        self._add(failed=lost)
        logs.emit("capture_failed", logging.ERROR, stream=self.stream, records=lost, error=error)

    def _add(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                self._counts[name] += value  # type: ignore[literal-required]


def install_sigterm_flush(producer: FirehoseProducer, budget_s: float = 0.4) -> bool:
    """On SIGTERM, flush (for at most ``budget_s``) and then exit as SIGTERM would.

    Lambda sends SIGTERM to the runtime only when an extension is registered (it then allows
    the runtime a short shutdown phase). Only the main thread may install a handler: returns
    False (and installs nothing) elsewhere.
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        done = producer.flush(budget_s)
        logs.emit("capture_shutdown_flush", complete=done, **producer.stats())
        if callable(previous):
            previous(signum, frame)
        else:
            raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_sigterm)
    return True


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
